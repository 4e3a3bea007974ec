"""Model > Add this photo to my training set (petseg_gui.edits.teach): the trainer accepts it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model_training.data import scan_folder
from petseg_gui.edits import add_to_training_set, count_training_pairs, default_training_folder

ORIENTATION = 0x0112


def sideways_photo(path: Path) -> None:
    """Stored 60 wide x 40 high with EXIF orientation 6: displayed 40 wide x 60 high."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    Image.new("RGB", (60, 40), (90, 120, 30)).save(path, exif=exif.tobytes())


def upright_matte(height: int = 60, width: int = 40) -> np.ndarray:
    matte = np.zeros((height, width), np.float32)
    matte[10:50, 8:32] = 0.9
    return matte


def test_teach_writes_a_pair_the_trainer_accepts(tmp_path: Path) -> None:
    photo = tmp_path / "phone.jpg"
    sideways_photo(photo)
    folder = tmp_path / "mine"
    image_path, mask_path = add_to_training_set(photo, upright_matte(), folder)
    assert image_path == folder / "images" / "phone.jpg"
    assert image_path.read_bytes() == photo.read_bytes()  # EXIF and all
    mask = np.asarray(Image.open(mask_path))
    assert mask.shape == (60, 40) and set(np.unique(mask)) == {0, 255}
    good, problems = scan_folder(folder)
    assert [e.id for e in good] == ["phone"] and not problems
    assert count_training_pairs(folder) == 1


def test_unique_ids_and_count(tmp_path: Path) -> None:
    photo = tmp_path / "cat.png"
    Image.new("RGB", (40, 60), (10, 20, 30)).save(photo)
    folder = tmp_path / "mine"
    assert count_training_pairs(folder) == 0
    ids = [add_to_training_set(photo, upright_matte(), folder)[0].stem for _ in range(3)]
    assert ids == ["cat", "cat-2", "cat-3"]
    assert count_training_pairs(folder) == 3
    good, _ = scan_folder(folder)
    assert len(good) == 3
    assert not list(folder.rglob("*.tmp"))


def test_wrong_matte_size_and_default_folder(tmp_path: Path, monkeypatch) -> None:
    photo = tmp_path / "phone.jpg"
    sideways_photo(photo)
    with pytest.raises(ValueError, match="upright size"):
        add_to_training_set(photo, np.zeros((40, 60), np.float32), tmp_path / "mine")
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "data"))
    assert default_training_folder() == tmp_path / "data" / "training-data"
