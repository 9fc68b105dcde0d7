"""YuNet, the default detector: hand-marked faces as HOG finds them, faces of 20 px in a
720p frame, no half faces at a frame's edge, and its landmarks give dlib's chips."""

from __future__ import annotations

import random
from pathlib import Path

import av
import numpy as np
import pytest

from vigil.errors import ConfigError
from vigil.faces.detector_eval import evaluate_detector, evaluate_small_faces, read_imglab
from vigil.faces.images import load_image
from vigil.faces.model import Box, DlibFaceModel
from vigil.faces.onnx_session import providers
from vigil.faces.yunet import YuNetDetector, nms

FACE = Box(180, 139, 367, 326)  # Grace Hopper's face in matplotlib's portrait (HOG's box)


@pytest.fixture(scope="module")
def hog() -> DlibFaceModel:
    return DlibFaceModel(detector="hog")


def test_the_hand_marked_faces_are_found_as_hog_finds_them(
    datasets: Path, face_model: DlibFaceModel, hog: DlibFaceModel
) -> None:
    marked = read_imglab(datasets / "dlib_faces" / "testing.xml")
    yunet = evaluate_detector(face_model, marked, upsample=1)
    baseline = evaluate_detector(hog, marked, upsample=1)
    print(f"\nYuNet {yunet.to_dict()}\nHOG   {baseline.to_dict()}")
    assert yunet.truth == baseline.truth >= 20
    assert yunet.recall >= baseline.recall
    assert yunet.precision >= 0.95


def test_faces_of_20_px_are_found_in_a_720p_frame(
    datasets: Path, face_model: DlibFaceModel, hog: DlibFaceModel
) -> None:
    photos = sorted((datasets / "lfw-dev" / "lfw-deepfunneled").glob("*/*.jpg"))
    photos = random.Random(3).sample(photos, 30)
    with av.open(str(datasets / "video" / "pets2009-vtest" / "vtest.avi")) as video:
        street = next(video.decode(video=0)).to_image().resize((1280, 720))
    background = np.asarray(street)
    found = evaluate_small_faces(face_model, photos, background, face_px=20)
    missed_by_hog = evaluate_small_faces(hog, photos, background, face_px=20)
    print(f"\nYuNet {found.to_dict()}\nHOG   {missed_by_hog.to_dict()}")
    assert found.recall >= 0.9
    assert missed_by_hog.recall < 0.5  # what the default detector adds


def test_a_face_cut_by_the_frame_edge_is_left_out(portrait: bytes) -> None:
    rgb = load_image(portrait).rgb
    detector = YuNetDetector()
    [whole] = detector.detect(rgb)
    left, _, right, _ = whole.box
    cut = np.ascontiguousarray(rgb[:, round((left + right) / 2) :])  # the face's right half
    assert detector.detect(cut) == []
    inside = np.ascontiguousarray(rgb[:, max(0, round(left) - 20) :])  # all of it, nearer
    assert len(detector.detect(inside)) == 1


def test_landmarks_from_yunet_give_the_chip_hog_gives(
    portrait: bytes, face_model: DlibFaceModel, hog: DlibFaceModel
) -> None:
    rgb = load_image(portrait).rgb
    [face] = face_model.detect(rgb, 1)
    [reference] = hog.detect(rgb, 1)
    assert face.box.iou(FACE) > 0.7  # the box dlib's detectors draw, made from YuNet's
    eyes = np.linalg.norm(reference.landmarks[0] - reference.landmarks[2])
    assert np.abs(face.landmarks - reference.landmarks).max() < 0.05 * eyes
    ours, theirs = face_model.embed(face_model.chips(rgb, [face, reference]))
    assert np.linalg.norm(ours - theirs) < 0.1  # the same person is within 0.6


def test_a_smaller_smallest_face_searches_a_larger_frame() -> None:
    assert YuNetDetector(smallest_px=20).scale == 1.0
    assert YuNetDetector(smallest_px=40).scale == 0.5
    with pytest.raises(ConfigError, match="at least 1 px"):
        YuNetDetector(smallest_px=0)


def test_non_maximum_suppression_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], dtype=np.float32
    )
    scores = np.array([0.8, 0.9, 0.7, 0.1], dtype=np.float32)
    assert nms(boxes, scores, 0.3) == [1, 2]
    assert nms(boxes[:0], scores[:0], 0.3) == []


def test_a_missing_or_broken_model_file_is_a_clear_error(tmp_path: Path, portrait: bytes) -> None:
    rgb = load_image(portrait).rgb
    with pytest.raises(ConfigError, match="is missing"):
        YuNetDetector(tmp_path / "none.onnx").detect(rgb)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load"):
        YuNetDetector(broken).detect(rgb)


def test_tiny_and_blank_frames_have_no_faces() -> None:
    detector = YuNetDetector()
    assert detector.detect(np.zeros((1, 1, 3), dtype=np.uint8)) == []
    assert detector.detect(np.full((720, 1280, 3), 128, dtype=np.uint8)) == []


def test_models_run_on_cuda_where_onnx_runtime_has_it_else_on_the_cpu() -> None:
    assert providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    both = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert providers(both) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
