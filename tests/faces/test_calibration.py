"""The false-match rate by distance: measured, interpolated, never claimed below what was
measured, shipped for installs where nobody calibrated."""

from __future__ import annotations

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
