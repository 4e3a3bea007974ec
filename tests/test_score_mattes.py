"""`python -m model_training score-mattes`: the bundled model's measure, checked by hand."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from model_training.cli import main
from model_training.errors import TrainingError
from model_training.score_mattes import score_folder


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    photo = np.zeros((40, 60, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), photo)
    # The mask is stored at half the photo's resolution: left half subject.
    mask = np.zeros((20, 30), np.uint8)
    mask[:, :15] = 255
    cv2.imwrite(str(tmp_path / "masks" / "a.png"), mask)
    mattes = tmp_path / "mattes"
    mattes.mkdir()
    # Matte: columns 0..39 subject (alpha > 0.5); truth is columns 0..29.
    matte = np.zeros((40, 60), np.uint8)
    matte[:, :40] = 200
    matte[:, 40:] = 127  # exactly one half is not subject
    cv2.imwrite(str(mattes / "a.png"), matte)
    return tmp_path


def test_iou_at_photo_resolution(folder):
    scores = score_folder(folder, folder / "mattes", ["a"])
    # intersection 40x30, union 40x40
    assert scores["foreground_iou_per_image_mean"] == pytest.approx(30 / 40)
    assert scores["foreground_iou_pooled"] == pytest.approx(30 / 40)


def test_matte_at_wrong_size_is_refused(folder):
    cv2.imwrite(str(folder / "mattes" / "a.png"), np.zeros((20, 30), np.uint8))
    with pytest.raises(TrainingError, match="a.png.*resolution"):
        score_folder(folder, folder / "mattes", ["a"])


def test_cli_prints_and_writes_json(folder, capsys):
    (folder / "ids.txt").write_text("a\n")
    out = folder / "scores.json"
    argv = ["score-mattes", "--data", str(folder), "--mattes", str(folder / "mattes")]
    assert main([*argv, "--ids", str(folder / "ids.txt"), "--output", str(out)]) == 0
    assert "0.7500" in capsys.readouterr().out
    assert json.loads(out.read_text())["per_image"]["a"] == pytest.approx(0.75)


def test_cli_missing_matte_is_one_line_error(folder, capsys):
    (folder / "mattes" / "a.png").unlink()
    (folder / "ids.txt").write_text("a\n")
    argv = ["score-mattes", "--data", str(folder), "--mattes", str(folder / "mattes")]
    assert main([*argv, "--ids", str(folder / "ids.txt")]) == 1
    err = capsys.readouterr().err
    assert "a.png" in err and "Traceback" not in err


def test_trimap_folder_leaves_value_3_out(tmp_path):
    # Oxford layout: a trimap with a band of 3s; the matte is wrong only on the band.
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations" / "trimaps").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "images" / "cat.jpg"), np.zeros((10, 20, 3), np.uint8))
    trimap = np.full((10, 20), 2, np.uint8)
    trimap[:, :8] = 1
    trimap[:, 8:12] = 3
    cv2.imwrite(str(tmp_path / "annotations" / "trimaps" / "cat.png"), trimap)
    (tmp_path / "mattes").mkdir()
    matte = np.zeros((10, 20), np.uint8)
    matte[:, :8] = 255
    matte[:, 10:12] = 255  # in the band: not counted
    cv2.imwrite(str(tmp_path / "mattes" / "cat.png"), matte)
    assert score_folder(tmp_path, tmp_path / "mattes", ["cat"])["foreground_iou_pooled"] == 1.0
    matte[:, 12:14] = 255  # outside the band: counted
    cv2.imwrite(str(tmp_path / "mattes" / "cat.png"), matte)
    assert score_folder(tmp_path, tmp_path / "mattes", ["cat"])["foreground_iou_pooled"] == 0.8
