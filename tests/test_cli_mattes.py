"""``petseg portrait`` with a given matte (--matte) and with the app's corrections (the sidecar,
--ignore-edits), on the tiny real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.cli import main
from petseg_gui.edits import write_sidecar

H, W = 240, 320


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo(H, W)).save(path)
    return path


def portrait(*args: object) -> np.ndarray:
    return main(["portrait", *map(str, args)])


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.float32)


def test_a_given_matte_of_another_size_is_used(tiny_model_dir, photo, tmp_path, capsys) -> None:
    # The matte says: the subject is the left half (the model would say the bright ellipse).
    half = np.zeros((H // 2, W // 2), np.uint8)
    half[:, : W // 4] = 255
    Image.fromarray(half).save(tmp_path / "matte.png")
    out_model, out_matte = tmp_path / "model.png", tmp_path / "matte_out.png"
    assert portrait(photo, "-o", out_model, "--model", tiny_model_dir, "--blur", 100) == 0
    assert portrait(photo, "-o", out_matte, "--matte", tmp_path / "matte.png", "--blur", 100) == 0
    original, by_model, by_matte = read(photo), read(out_model), read(out_matte)
    left = (slice(100, 140), slice(10, 60))  # background for the model, subject for the matte
    assert (
        np.abs(by_matte[left] - original[left]).mean()
        < np.abs(by_model[left] - original[left]).mean()
    )
    assert "matte from" in capsys.readouterr().err


@pytest.mark.parametrize(
    "matte, words",
    [((H, W + 40), "aspect"), (None, "not a readable image")],
)
def test_a_bad_matte_is_a_clear_one_line_error(photo, tmp_path, capsys, matte, words) -> None:
    path = tmp_path / "bad.png"
    if matte is None:
        path.write_bytes(b"not a png")
    else:
        Image.fromarray(np.zeros(matte, np.uint8)).save(path)
    assert portrait(photo, "-o", tmp_path / "out.png", "--matte", path) != 0
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1 and words in errors[0] and str(path) in errors[0]
    assert not (tmp_path / "out.png").exists()


def test_matte_takes_one_image(photo, tmp_path, capsys) -> None:
    assert portrait(photo, photo, "--out-dir", tmp_path / "o", "--matte", photo) == 2
    assert "--matte takes one IMAGE" in capsys.readouterr().err


def test_the_apps_sidecar_is_used_unless_ignored(tiny_model_dir, photo, tmp_path, capsys) -> None:
    edited = synthetic_subject_mask(H, W).astype(np.float32)
    edited[:, : W // 2] = 0.0  # the user removed the left half of the subject
    write_sidecar(photo, edited)
    with_edits, without = tmp_path / "with.png", tmp_path / "without.png"
    assert portrait(photo, "-o", with_edits, "--blur", 100) == 0  # no model needed
    assert "corrections from photo.png.petseg.png" in capsys.readouterr().err
    args = ("-o", without, "--blur", 100, "--model", tiny_model_dir, "--ignore-edits")
    assert portrait(photo, *args) == 0
    original = read(photo)
    removed = (slice(110, 130), slice(120, 150))  # subject's left part: blurred only with edits
    change = lambda out: np.abs(read(out)[removed] - original[removed]).mean()  # noqa: E731
    assert change(with_edits) > change(without) + 1


def test_a_stale_sidecar_is_noted_and_the_model_used(tiny_model_dir, photo, tmp_path, capsys):
    write_sidecar(photo, np.zeros((H, W), np.float32))
    Image.fromarray(synthetic_photo(H, W, seed=3)).save(photo)  # the photo changed since
    out = tmp_path / "out.png"
    assert portrait(photo, "-o", out, "--model", tiny_model_dir) == 0
    note = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert any("photo changed" in line for line in note)
