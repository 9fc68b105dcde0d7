"""Detector scoring against hand-marked boxes, and the MMOD backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import vigil
from vigil.errors import ConfigError, InvalidInput
from vigil.faces.detector_eval import match, read_imglab
from vigil.faces.images import load_image
from vigil.faces.model import Box, DlibFaceModel

FACE = Box(180, 139, 367, 326)
ENTITY_BOMB = (
    "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]>"
    "<dataset>&b;</dataset>"
)  # Grace Hopper's face in matplotlib's portrait, checked by eye


@pytest.mark.parametrize(
    ("truth", "ignore", "found", "expected"),
    [
        ([FACE], [], [FACE], (1, 1)),
        ([FACE], [], [], (0, 0)),
        ([FACE], [], [Box(0, 0, 50, 50)], (0, 1)),
        ([FACE, Box(0, 0, 50, 50)], [], [FACE], (1, 1)),
        ([FACE], [Box(0, 0, 50, 50)], [FACE, Box(2, 2, 50, 50)], (1, 1)),
        ([FACE], [], [FACE, Box(181, 140, 367, 326)], (1, 2)),  # a duplicate is a false hit
    ],
    ids=["hit", "miss", "false", "half-recall", "ignored", "duplicate"],
)
def test_matching(
    truth: list[Box], ignore: list[Box], found: list[Box], expected: tuple[int, int]
) -> None:
    assert match(truth, ignore, found, 0.3) == expected


def _imglab(tmp_path: Path, portrait: bytes, boxes: str) -> Path:
    (tmp_path / "hopper.jpg").write_bytes(portrait)
    xml = tmp_path / "testing.xml"
    xml.write_text(
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n<dataset><images>\n"
        f"<image file='hopper.jpg'>{boxes}</image>\n</images></dataset>\n"
    )
    return xml


def test_reading_imglab_files(tmp_path: Path, portrait: bytes) -> None:
    xml = _imglab(
        tmp_path,
        portrait,
        "<box top='139' left='180' width='187' height='187'/>"
        "<box top='1' left='1' width='9' height='9' ignore='1'/>",
    )
    [item] = read_imglab(xml)
    assert item.image == tmp_path / "hopper.jpg"
    assert item.faces == [FACE]
    assert item.ignore == [Box(1, 1, 10, 10)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<dataset><images></images></dataset>", "lists no images"),
        (
            "<dataset><images><image file='a.jpg'><box top='x'/></image></images></dataset>",
            "bad box",
        ),
        ("<dataset><images>", "cannot read"),
        (ENTITY_BOMB, "cannot read"),
    ],
    ids=["empty", "bad-box", "truncated", "entity-expansion"],
)
def test_bad_annotation_files(tmp_path: Path, content: str, message: str) -> None:
    xml = tmp_path / "bad.xml"
    xml.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        read_imglab(xml)


def test_eval_detector_reports_recall_and_precision(tmp_path: Path, portrait: bytes) -> None:
    xml = _imglab(
        tmp_path,
        portrait,
        "<box top='139' left='180' width='187' height='187'/>"
        "<box top='520' left='20' width='60' height='60'/>",  # marked, but nobody is there
    )
    result = vigil(tmp_path / "none", "faces", "eval-detector", "--xml", str(xml), "--json")
    assert result.code == 0, result.stderr
    score = json.loads(result.stdout)
    assert (score["faces"], score["matched"], score["detections"]) == (2, 1, 1)
    assert score["recall"] == 0.5
    assert score["precision"] == 1.0


def test_the_mmod_cnn_detector_finds_the_face(portrait: bytes) -> None:
    rgb = load_image(portrait).rgb
    [found] = DlibFaceModel(detector="mmod").detect(rgb, 0)
    assert found.box.iou(FACE) > 0.5
    with pytest.raises(ConfigError, match="unknown face detector"):
        DlibFaceModel(detector="yolo")
