"""LFW pair files, and eval-lfw / calibrate end to end through the real CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps

from tests.cli_runner import vigil
from tests.conftest import PASSWORD
from tests.faces.conftest import reencode
from vigil.errors import InvalidInput
from vigil.faces.calibration import load_calibration
from vigil.faces.lfw import image_path, parse_pairs

VIEW1 = "2\nAnn 1 2\nBob 1 3\nAnn 1 Bob 2\nCid 4 Ann 2\n"
VIEW2 = "2 1\nAnn 1 2\nAnn 1 Bob 1\nBob 1 2\nBob 2 Cid 1\n"


def test_view1_is_one_fold_matched_then_mismatched() -> None:
    pairs = parse_pairs(VIEW1)
    assert len(pairs.folds) == 1
    assert [p.same for p in pairs.pairs] == [True, True, False, False]
    assert pairs.pairs[3].a == ("Cid", 4)
    assert ("Bob", 3) in pairs.images()


def test_view2_has_folds() -> None:
    pairs = parse_pairs(VIEW2)
    assert [len(f) for f in pairs.folds] == [2, 2]
    assert pairs.folds[1][1].b == ("Cid", 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("x\nAnn 1 2\n", "must start with"),
        ("2\nAnn 1 2\n", "has 1"),
        ("1\nAnn one 2\nAnn 1 Bob 1\n", "line 2"),
        ("1\nAnn 1 Bob 1\nAnn 1 2\n", "matched, then mismatched"),
    ],
)
def test_malformed_pair_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_pairs(text)


def test_image_paths_follow_the_lfw_layout(tmp_path: Path) -> None:
    assert image_path(tmp_path, ("Ann_Lee", 7)) == tmp_path / "Ann_Lee" / "Ann_Lee_0007.jpg"


@pytest.fixture(scope="module")
def lfw(tmp_path_factory: pytest.TempPathFactory, portrait: bytes) -> Path:
    """An LFW-layout folder: four copies of one real face, two images with the face hidden."""
    root = tmp_path_factory.mktemp("lfw")

    def hide(im: Image.Image) -> Image.Image:
        im = im.copy()
        ImageDraw.Draw(im).rectangle((120, 60, 430, 420), fill=(40, 40, 40))
        return im

    variants = {
        ("Grace_Hopper", 1): None,
        ("Grace_Hopper", 2): ImageOps.mirror,
        ("Grace_Hopper", 3): lambda im: im.resize((256, 300)),
        ("Grace_Hopper", 4): lambda im: im.convert("L").convert("RGB"),
        ("Nobody_Seen", 1): hide,
        ("Nobody_Seen", 2): lambda im: ImageOps.mirror(hide(im)),
    }
    for key, transform in variants.items():
        path = image_path(root, key)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(reencode(portrait, transform))
    (root / "view2.txt").write_text(
        "2 1\nGrace_Hopper 1 2\nGrace_Hopper 1 Nobody_Seen 1\n"
        "Grace_Hopper 3 4\nGrace_Hopper 3 Nobody_Seen 2\n"
    )
    (root / "train.txt").write_text("1\nGrace_Hopper 1 3\nGrace_Hopper 2 Nobody_Seen 1\n")
    (root / "test.txt").write_text("1\nGrace_Hopper 2 4\nGrace_Hopper 4 Nobody_Seen 2\n")
    return root


def test_eval_lfw_ten_fold_style_report(lfw: Path, tmp_path: Path) -> None:
    result = vigil(
        tmp_path / "none", "faces", "eval-lfw", "--images", str(lfw),
        "--pairs", str(lfw / "view2.txt"), "--workers", "2", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pairs"] == 4
    assert report["images"] == 6
    assert report["no_face_images"] == 2
    assert report["no_face_list"] == ["Nobody_Seen_0001", "Nobody_Seen_0002"]
    assert report["no_face_handling"].startswith("centre crop")
    assert report["accuracy"] == 1.0
    assert report["accuracy_std"] == 0.0
    assert "2-fold" in report["protocol"]
    for key in ("threshold", "tar_at_far_1e-02", "tar_at_far_1e-03", "eer", "images_per_s"):
        assert key in report


def test_eval_lfw_view1_needs_a_training_file(lfw: Path, tmp_path: Path) -> None:
    args = ("faces", "eval-lfw", "--images", str(lfw), "--pairs", str(lfw / "test.txt"))
    refused = vigil(tmp_path / "none", *args)
    assert refused.code == 2
    assert "--train" in refused.stderr
    result = vigil(tmp_path / "none", *args, "--train", str(lfw / "train.txt"), "--workers", "1")
    assert result.code == 0, result.stderr
    assert "accuracy 100.00%" in result.stdout


def test_calibrate_writes_operating_points_and_audits(lfw: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    password = tmp_path / "pw"
    password.write_text(PASSWORD)
    assert vigil(data, "init", "--admin-password-file", str(password)).code == 0
    result = vigil(
        data,
        "faces",
        "calibrate",
        "--images",
        str(lfw),
        "--pairs",
        str(lfw / "view2.txt"),
        "--json",
    )
    assert result.code == 0, result.stderr
    points = json.loads(result.stdout)
    assert points["genuine_pairs"] == 6 + 1  # C(4,2) Grace pairs + C(2,2) hidden-face pair
    assert points["impostor_pairs"] == 8
    assert points["reliable_fmr_1e-4"] is False
    config = (data / "vigil.toml").read_text()
    assert f"threshold_fmr_1e3 = {points['fmr_1e-3']}" in config
    # The configured embedder's (fused): the data directory's own, not the shipped one.
    calibration = load_calibration(data, "fused")
    assert calibration.impostor_pairs == 8
    assert calibration.fmr_1e3 == points["fmr_1e-3"]
    assert calibration != load_calibration(None, "fused")
    assert load_calibration(data, "dlib") == load_calibration(None, "dlib")  # not calibrated
    assert stat.S_IMODE((data / "vigil.toml").stat().st_mode) == 0o600
    listed = vigil(
        data, "--user", "admin", "--password-file", str(password), "audit", "list", "--json"
    )
    actions = [e["action"] for e in json.loads(listed.stdout)]
    assert "config.change" in actions
