"""The sidecar beside the photo and user-given matte files (petseg_gui.edits.sidecar)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from petseg_gui.edits import (
    SidecarError,
    delete_sidecar,
    load_matte_file,
    read_sidecar,
    sidecar_paths,
    write_sidecar,
)
from petseg_gui.errors import PetsegError


def photo(tmp_path: Path, name: str = "cat.jpg", size=(60, 40)) -> Path:
    path = tmp_path / name
    Image.new("RGB", size, (120, 80, 40)).save(path)
    return path


def soft_matte(height: int = 40, width: int = 60) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    return np.clip((25 - np.hypot(yy - 20, xx - 30)) / 6, 0, 1).astype(np.float32)


def test_round_trip(tmp_path: Path) -> None:
    path = photo(tmp_path)
    matte = soft_matte()
    assert read_sidecar(path) is None
    written = write_sidecar(path, matte, model_name="pets-224", model_hash="abc", edits=3)
    png, js = sidecar_paths(path)
    assert png.name == "cat.jpg.petseg.png" and js.name == "cat.jpg.petseg.json"
    assert cv2.imread(str(png), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    back = read_sidecar(path)
    assert back is not None
    assert np.array_equal(back.matte, written.matte)
    np.testing.assert_allclose(back.matte, matte, atol=1 / 65535)
    assert (back.model_name, back.model_hash, back.edits) == ("pets-224", "abc", 3)
    created = back.created
    again = write_sidecar(path, matte, edits=4)
    assert again.created == created  # kept across saves
    assert not list(tmp_path.glob("*.tmp"))


def test_photo_changed_is_ignored_with_a_reason(tmp_path: Path) -> None:
    path = photo(tmp_path)
    write_sidecar(path, soft_matte())
    Image.new("RGB", (60, 40), (1, 2, 3)).save(path)
    with pytest.raises(SidecarError, match="photo changed") as err:
        read_sidecar(path)
    assert err.value.stale and "\n" not in str(err.value)


def test_broken_json_and_missing_png_are_one_line_errors(tmp_path: Path) -> None:
    path = photo(tmp_path)
    write_sidecar(path, soft_matte())
    png, js = sidecar_paths(path)
    png.write_bytes(b"not the matte")
    with pytest.raises(SidecarError, match="does not match"):
        read_sidecar(path)
    js.write_text("{ broken", encoding="utf-8")
    with pytest.raises(SidecarError) as err:
        read_sidecar(path)
    assert str(err.value).startswith(str(js)) and "\n" not in str(err.value)
    assert "Reset to model" in str(err.value) and not err.value.stale


def test_delete_is_reset_to_model(tmp_path: Path) -> None:
    path = photo(tmp_path)
    write_sidecar(path, soft_matte())
    assert delete_sidecar(path) is True
    assert read_sidecar(path) is None and not any(p.exists() for p in sidecar_paths(path))
    assert delete_sidecar(path) is False


def test_png_without_json_is_no_sidecar(tmp_path: Path) -> None:
    path = photo(tmp_path)
    write_sidecar(path, soft_matte())
    sidecar_paths(path)[1].unlink()  # a write interrupted before its JSON
    assert read_sidecar(path) is None


@pytest.mark.parametrize(
    ("shape", "dtype"), [((40, 60), np.uint8), ((80, 120), np.uint16), ((20, 30), np.uint8)]
)
def test_load_matte_file_sizes(tmp_path: Path, shape, dtype) -> None:
    top = np.iinfo(dtype).max
    image = np.zeros(shape, dtype)
    image[:, : shape[1] // 2] = top
    path = tmp_path / "matte.png"
    cv2.imwrite(str(path), image)
    matte = load_matte_file(path, (40, 60))
    assert matte.shape == (40, 60) and matte.dtype == np.float32
    assert matte[:, :25].min() == 1.0 and matte[:, 35:].max() == 0.0


def test_load_matte_file_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "matte.png"
    cv2.imwrite(str(path), np.zeros((40, 40), np.uint8))
    with pytest.raises(PetsegError, match="aspect ratios differ"):
        load_matte_file(path, (40, 60))
    colour = np.zeros((40, 60, 3), np.uint8)
    colour[..., 0] = 255
    cv2.imwrite(str(path), colour)
    with pytest.raises(PetsegError, match="greyscale"):
        load_matte_file(path, (40, 60))
    path.write_bytes(b"junk")
    with pytest.raises(PetsegError, match="not a readable image"):
        load_matte_file(path, (40, 60))
    with pytest.raises(PetsegError, match="cannot be read"):
        load_matte_file(tmp_path / "missing.png", (40, 60))
