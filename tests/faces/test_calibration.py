"""The false-match rate by distance: measured, interpolated, never claimed below what was
measured, shipped for installs where nobody calibrated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vigil.errors import ConfigError
from vigil.faces.calibration import CALIBRATION_FILE, Calibration, load_calibration, odds


def _calibration(impostor: list[float]) -> Calibration:
    return Calibration.measure(np.array(impostor), genuine=3, points=(0.4, 0.3, 0.5), source="t")


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (0.1, 0.25),  # none of 4 is this close: "at most 1 in 4", not 0
        (0.5, 0.25),
        (0.6, 0.5),
        (0.8, 1.0),
        (0.65, 0.5),
    ],
)
def test_the_estimate_is_the_share_of_impostors_this_close(
    distance: float, expected: float
) -> None:
    assert _calibration([0.5, 0.6, 0.7, 0.8]).estimated_fmr(distance) == pytest.approx(expected)


def test_the_shipped_calibration_was_measured_on_lfw() -> None:
    shipped = load_calibration(None)
    assert "pairsDevTrain" in shipped.source
    assert shipped.impostor_pairs > 5_000_000  # every pair of different people, not 1,100
    assert shipped.reliable(1e-4)
    assert 0.3 < shipped.fmr_1e4 < shipped.fmr_1e3 < shipped.eer < 0.7
    assert shipped.estimated_fmr(shipped.fmr_1e4) == pytest.approx(1e-4, rel=0.5)
    assert shipped.estimated_fmr(shipped.fmr_1e3) == pytest.approx(1e-3, rel=0.5)


def test_a_data_directory_s_own_calibration_wins_and_a_broken_one_is_an_error(
    tmp_path: Path,
) -> None:
    own = _calibration([0.5, 0.6])
    own.save(tmp_path)
    assert load_calibration(tmp_path) == own
    (tmp_path / CALIBRATION_FILE).write_text('{"fmr": [1]}')
    with pytest.raises(ConfigError, match="unreadable"):
        load_calibration(tmp_path)


@pytest.mark.parametrize(("fmr", "text"), [(1e-4, "1 in 10,000"), (None, "not estimated")])
def test_odds_read_as_people_say_them(fmr: float | None, text: str) -> None:
    assert odds(fmr) == text


def test_the_nearest_of_several_pairs_is_as_likely_as_their_sum() -> None:
    calibration = _calibration([0.5, 0.6, 0.7, 0.8])
    assert calibration.estimated_fmr(0.6, comparisons=1) == pytest.approx(0.5)
    assert calibration.estimated_fmr(0.5, comparisons=3) == pytest.approx(0.75)
    assert calibration.estimated_fmr(0.6, comparisons=5) == 1.0  # a chance, at most 1


@pytest.mark.parametrize("embedder", ["dlib", "reid", "fused"])
def test_every_embedder_ships_a_calibration_of_its_own_space(embedder: str) -> None:
    shipped = load_calibration(None, embedder)
    assert shipped.embedder == embedder
    assert f"embedder {embedder}" in shipped.source
    assert "pairsDevTrain" in shipped.source
    assert shipped.impostor_pairs > 5_000_000
    # Matches are never looser than the embedder's own FMR 1e-4 point ...
    assert shipped.match_threshold <= shipped.fmr_1e4 < shipped.fmr_1e3
    assert shipped.estimated_fmr(shipped.match_threshold) <= 1.1e-4
    # ... and candidates reach further than matches.
    assert shipped.match_threshold < shipped.candidate_threshold
    # A typical stranger (half of all impostor pairs) reads alike in every space.
    assert shipped.similarity_scale * shipped.threshold_at(0.5) == pytest.approx(0.81)


def test_the_fused_weights_were_chosen_on_pairs_dev_train() -> None:
    fused = load_calibration(None, "fused")
    assert fused.space.models == ("dlib", "reid")
    assert sum(fused.weights) == pytest.approx(1.0)
    assert "weights [0.4, 0.6]" in fused.source
    assert load_calibration(None, "dlib").weights == (1.0,)


def test_a_file_of_dlib_alone_from_before_still_loads(tmp_path: Path) -> None:
    """Calibrations written before there were several embedders: dlib's, on a shorter grid."""
    old = load_calibration(None, "dlib").to_dict()
    del old["embedder"], old["weights"], old["candidate"], old["match"]
    old["fmr"] = old["fmr"][:301]  # the grid then ended at 1.5
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(old))
    loaded = load_calibration(tmp_path, "dlib")
    assert loaded.fmr_1e4 == old["fmr_1e4"]
    assert loaded.estimated_fmr(1.9) == loaded.estimated_fmr(1.5)
    assert load_calibration(tmp_path, "fused") == load_calibration(None, "fused")
