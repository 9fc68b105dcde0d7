"""dlib's face ResNet converted to ONNX: the same descriptors as dlib's own, from its file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vigil.errors import ConfigError
from vigil.faces.model import RESNET_FILE, Chip, DlibFaceModel, models_dir
from vigil.faces.resnet_onnx import OnnxEmbedder, cached_model

PEOPLE = 40  # LFW people whose first photo is described both ways


def _chips(model: DlibFaceModel, paths: list[Path]) -> list[Chip]:
    chips = []
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        found = model.detect(rgb, 1)
        if found:
            chips += model.chips(rgb, found[:1])
    return chips


def test_onnx_descriptors_equal_dlibs_on_real_faces(
    datasets: Path, portrait_path: Path, tmp_path: Path
) -> None:
    dlib_model = DlibFaceModel(runtime="dlib")
    folders = sorted((datasets / "lfw-dev" / "lfw-deepfunneled").iterdir())[:PEOPLE]
    paths = [portrait_path] + [sorted(f.glob("*.jpg"))[0] for f in folders]
    chips = _chips(dlib_model, paths)
    assert len(chips) >= PEOPLE * 0.9
    chips += [c.mirrored() for c in chips[:8]]  # mirrored (flip averaging)
    onnx = OnnxEmbedder(models_dir() / RESNET_FILE, cache=tmp_path)
    ours, theirs = onnx.embed([c.face for c in chips]), dlib_model.embed(chips)
    assert ours.shape == theirs.shape == (len(chips), 128)
    assert float(np.abs(ours - theirs).max()) < 1e-5
    # Batches of any size give the same answer as one chip at a time.
    assert np.allclose(onnx.embed([chips[0].face]), ours[:1], atol=1e-6)


def test_the_model_is_converted_once_and_named_by_its_weights(tmp_path: Path) -> None:
    dat = models_dir() / RESNET_FILE
    first = cached_model(dat, tmp_path)
    made = first.stat().st_mtime_ns
    again = cached_model(dat, tmp_path)
    assert again == first
    assert again.stat().st_mtime_ns == made  # not written again
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial files left


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda _data: b"not a dlib model at all" * 100,
        lambda data: data.replace(b"\x01\x04fc_2", b"\x01\x04fc_3"),  # a layer missing
    ],
    ids=["truncated", "garbage", "layer-missing"],
)
def test_a_file_that_is_not_dlibs_resnet_is_refused_and_nothing_is_cached(
    tmp_path: Path, damage: object
) -> None:
    dat = tmp_path / "broken.dat"
    dat.write_bytes(damage((models_dir() / RESNET_FILE).read_bytes()))  # type: ignore[operator]
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError, match="is not dlib's face ResNet"):
        cached_model(dat, cache)
    assert not cache.exists() or not any(cache.iterdir())


def test_a_cache_that_cannot_be_written_is_a_clear_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(ConfigError, match="cannot write the face model cache"):
        cached_model(models_dir() / RESNET_FILE, blocker / "vigil")
