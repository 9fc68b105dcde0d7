"""face-reid-0095 converted from its OpenVINO IR by Vigil's own converter: equal to Intel's
runtime on real faces, cached by its weights, aligned by YuNet's points, fused with dlib's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import openvino as ov  # Intel's runtime, a dev dependency: the reference for the conversion
import pytest
from PIL import Image

from vigil.errors import ConfigError
from vigil.faces.descriptors import Space, single
from vigil.faces.model import Chip, DlibFaceModel
from vigil.faces.reid_onnx import REFERENCE, ReidEmbedder, similarity_transform, vendored_model

PEOPLE = 24  # LFW people whose first two photos are described


def _photos(datasets: Path) -> list[tuple[str, Path]]:
    folders = sorted((datasets / "lfw-dev" / "lfw-deepfunneled").iterdir())
    two = [f for f in folders if len(list(f.glob("*.jpg"))) >= 2][:PEOPLE]
    return [(f.name, p) for f in two for p in sorted(f.glob("*.jpg"))[:2]]


@pytest.fixture(scope="module")
def fused_chips(datasets: Path) -> list[tuple[str, Chip]]:
    model = DlibFaceModel(embedder="fused")
    found = []
    for name, path in _photos(datasets):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        faces = model.detect(rgb, 1)
        if faces:
            found.append((name, model.chips(rgb, faces[:1])[0]))
    return found


def test_onnx_equals_openvino_on_real_faces(
    fused_chips: list[tuple[str, Chip]], tmp_path: Path
) -> None:
    chips = [chip.reid for _, chip in fused_chips]
    assert len(chips) >= PEOPLE * 2 * 0.9
    ours = ReidEmbedder(cache=tmp_path).embed(chips)
    core = ov.Core()
    compiled = core.compile_model(
        core.read_model(str(vendored_model())), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    theirs = []
    for chip in chips:
        bgr = chip[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[np.newaxis]
        out = np.asarray(compiled(bgr)[0], dtype=np.float64).reshape(-1)
        theirs.append(out / np.linalg.norm(out))
    assert ours.shape == (len(chips), 256)
    assert float(np.abs(ours - np.array(theirs)).max()) < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_same_people_are_nearer_than_strangers(fused_chips: list[tuple[str, Chip]]) -> None:
    """On real LFW photos each person's two photos are nearer in reid's space than any two
    different people's photos are, in nearly every case."""
    names = [name for name, _ in fused_chips]
    model = DlibFaceModel(embedder="fused")
    raw = model.embed([chip for _, chip in fused_chips])
    assert raw.shape == (len(names), 128 + 256)
    vectors = single("reid").of(raw, model.tag)
    distances = np.linalg.norm(vectors[:, None] - vectors[None, :], axis=2)
    same = np.array(names)[:, None] == np.array(names)[None, :]
    off = ~np.eye(len(names), dtype=bool)
    genuine, impostor = distances[same & off], distances[~same]
    assert float(np.mean(genuine < np.percentile(impostor, 1))) >= 0.9
    # The fused space weighs both models' parts: its distance combines both.
    fused = Space("fused", (0.4, 0.6)).of(raw[:2], model.tag)
    dlib = single("dlib").of(raw[:2], model.tag)
    expected = np.hypot(
        0.4 * np.linalg.norm(dlib[0] - dlib[1]), 0.6 * np.linalg.norm(vectors[0] - vectors[1])
    )
    assert np.linalg.norm(fused[0] - fused[1]) == pytest.approx(expected, rel=1e-5)


def test_alignment_puts_the_five_points_where_the_model_wants_them() -> None:
    rng = np.random.default_rng(3)
    angle, scale, shift = 0.3, 2.5, np.array([40.0, 17.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (REFERENCE @ rotation.T) * scale + shift + rng.normal(scale=0.01, size=(5, 2))
    matrix = similarity_transform(points, REFERENCE)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    assert np.abs(mapped - REFERENCE).max() < 0.05


def test_the_model_is_converted_once_and_named_by_its_weights(tmp_path: Path) -> None:
    chip = np.full((128, 128, 3), 120, dtype=np.uint8)
    first = ReidEmbedder(cache=tmp_path / "cache")
    first.embed([chip])
    (converted,) = (tmp_path / "cache").glob("*.onnx")
    stamp = converted.stat().st_mtime_ns
    ReidEmbedder(cache=tmp_path / "cache").embed([chip])
    assert [p.stat().st_mtime_ns for p in (tmp_path / "cache").glob("*.onnx")] == [stamp]
    # Other weights (one byte changed) are another model: converted anew beside it.
    copy = tmp_path / "ir"
    copy.mkdir()
    shutil.copy(vendored_model(), copy / vendored_model().name)
    weights = bytearray(vendored_model().with_suffix(".bin").read_bytes())
    weights[-1] ^= 1
    (copy / vendored_model().with_suffix(".bin").name).write_bytes(weights)
    ReidEmbedder(copy / vendored_model().name, cache=tmp_path / "cache").embed([chip])
    assert len(list((tmp_path / "cache").glob("*.onnx"))) == 2


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<net><layers><layer id='0' type='Softmax'/></layers><edges/></net>", "Softmax"),
        ("not xml at all", "not an OpenVINO IR"),
    ],
)
def test_a_broken_ir_is_a_clear_error(tmp_path: Path, xml: str, message: str) -> None:
    (tmp_path / "m.xml").write_text(xml)
    (tmp_path / "m.bin").write_bytes(b"")
    with pytest.raises(ConfigError, match=message):
        ReidEmbedder(tmp_path / "m.xml", cache=tmp_path / "cache").embed(
            [np.zeros((128, 128, 3), dtype=np.uint8)]
        )
    assert not list(tmp_path.glob("cache/*.onnx"))


PRELU_IR = """<net><layers>
<layer id="0" type="Parameter"><data shape="1,3,128,128" element_type="f32"/>
  <output><port id="0"/></output></layer>
<layer id="1" type="Const"><data element_type="f32" shape="1" offset="0" size="4"/>
  <output><port id="0"/></output></layer>
<layer id="2" type="Add"><input><port id="0"/><port id="1"/></input>
  <output><port id="2"/></output></layer>
<layer id="3" type="Const"><data element_type="f32" shape="{shape}" offset="4" size="{size}"/>
  <output><port id="0"/></output></layer>
<layer id="4" type="PReLU"><input><port id="0"/><port id="1"/></input>
  <output><port id="2"/></output></layer>
<layer id="5" type="Result"><input><port id="0"/></input></layer>
</layers><edges>
<edge from-layer="0" from-port="0" to-layer="2" to-port="0"/>
<edge from-layer="1" from-port="0" to-layer="2" to-port="1"/>
<edge from-layer="2" from-port="2" to-layer="4" to-port="0"/>
<edge from-layer="3" from-port="0" to-layer="4" to-port="1"/>
<edge from-layer="4" from-port="2" to-layer="5" to-port="0"/>
</edges></net>"""


@pytest.mark.parametrize("slopes", [[0.25], [0.25, -1.5, 3.0]])
def test_a_prelu_of_one_slope_or_one_per_channel_is_converted_exactly(
    tmp_path: Path, slopes: list[float]
) -> None:
    """One slope becomes LeakyRelu (ONNX Runtime's fast path), one per channel PRelu: both
    the function the IR states (on the chip less 128, so that both signs occur)."""
    weights = np.array([-128.0, *slopes], dtype=np.float32)
    (tmp_path / "m.xml").write_text(PRELU_IR.format(shape=len(slopes), size=4 * len(slopes)))
    (tmp_path / "m.bin").write_bytes(weights.tobytes())
    chip = np.random.default_rng(5).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    ours = ReidEmbedder(tmp_path / "m.xml", cache=tmp_path / "cache").embed([chip])
    x = chip[:, :, ::-1].astype(np.float64).transpose(2, 0, 1) - 128.0  # BGR, as the model's
    expected = np.where(x >= 0, x, weights[1:].reshape(-1, 1, 1) * x).reshape(1, -1)
    assert np.allclose(ours, expected / np.linalg.norm(expected), atol=1e-6)
