"""The quick check of a local training folder that runs before a training can start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from retrain_data import write_ellipse_dataset

from petseg_gui.training_data_check import MAX_LISTED, check_data_folder


def test_images_and_masks_layout_counts_pairs(tmp_path):
    check = check_data_folder(write_ellipse_dataset(tmp_path / "d", count=6))
    assert check.ok and check.layout == "images+masks" and check.pairs == 6
    assert check.summary().startswith("6 image/mask pairs found")


def test_oxford_layout_pairs_images_with_trimaps(tmp_path):
    root = tmp_path / "oxford"
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    for i in range(5):
        Image.new("RGB", (40, 30)).save(root / "images" / f"cat_{i}.jpg")
        Image.new("L", (40, 30), 2).save(root / "annotations" / "trimaps" / f"cat_{i}.png")
    (root / "images" / "notes.mat").write_bytes(b"matlab")  # Oxford ships a few: not images
    (root / "annotations" / "trimaps" / "._cat_0.png").write_bytes(b"mac")  # hidden junk
    check = check_data_folder(root)
    assert check.ok and check.layout == "oxford" and check.pairs == 5


def test_problems_are_listed_by_file(tmp_path):
    root = write_ellipse_dataset(tmp_path / "d", count=6)
    (root / "masks" / "000.png").unlink()  # photo without mask
    Image.new("L", (48, 48)).save(root / "masks" / "zzz.png")  # mask without photo
    (root / "images" / "001.png").write_bytes(b"not an image")  # unreadable
    Image.fromarray(np.zeros((48, 96), np.uint8)).save(root / "masks" / "002.png")  # wrong shape
    check = check_data_folder(root)
    assert not check.ok
    assert check.pairs == 3  # 6 - missing - unreadable - wrong shape
    text = "\n".join(check.problems)
    assert "000.png: no mask" in text
    assert "zzz.png: a mask without a photo" in text
    assert "001.png: is not a readable image" in text
    assert "002.png: is 96x48 but its photo is 48x48" in text


def test_a_mask_at_another_resolution_is_fine(tmp_path):
    root = write_ellipse_dataset(tmp_path / "d", count=4)
    Image.new("L", (96, 96)).save(root / "masks" / "000.png")  # same shape, double size
    assert check_data_folder(root).ok


def test_long_problem_lists_are_capped(tmp_path):
    root = write_ellipse_dataset(tmp_path / "d", count=4)
    for i in range(MAX_LISTED + 5):
        Image.new("RGB", (8, 8)).save(root / "images" / f"orphan{i}.png")
    check = check_data_folder(root)
    assert len(check.problems) == MAX_LISTED and check.more_problems == 5
    assert f"{MAX_LISTED + 5} problems" in check.summary()


def test_wrong_folders_are_refused(tmp_path):
    assert "not a folder" in check_data_folder(tmp_path / "missing").problems[0]
    (tmp_path / "plain").mkdir()
    assert "no masks/" in check_data_folder(tmp_path / "plain").problems[0]
    (tmp_path / "few" / "images").mkdir(parents=True)
    (tmp_path / "few" / "masks").mkdir()
    few = check_data_folder(tmp_path / "few")
    assert not few.ok and "at least" in few.problems[0]


def test_the_shared_people_folder_passes(tmp_path):
    people = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "people"
    if not people.is_dir():
        pytest.skip("the shared people data set is only on the team machines")
    check = check_data_folder(people)
    assert check.pairs > 200, check.problems


def test_phone_photos_turned_by_exif_pair_with_upright_masks(tmp_path):
    """Issue 11: photos stored sideways with EXIF orientation 6 and upright masks were refused
    by this check (it compared the stored size) but accepted by the trainer."""
    from model_training.data.photos import photo_size as trainer_photo_size

    root = tmp_path / "phone"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    for i in range(4):
        Image.new("RGB", (64, 48)).save(root / "images" / f"{i}.jpg", exif=exif)  # stored 64x48
        Image.new("L", (48, 64)).save(root / "masks" / f"{i}.png")  # upright: 48 wide, 64 tall
    check = check_data_folder(root)
    assert check.ok, check.problems
    assert check.pairs == 4
    assert trainer_photo_size(root / "images" / "0.jpg") == (64, 48)  # the same rule


def test_two_files_with_one_name_are_named(tmp_path):
    root = write_ellipse_dataset(tmp_path / "d", count=5)
    Image.new("RGB", (48, 48)).save(root / "images" / "000.jpg")  # beside 000.png
    check = check_data_folder(root)
    assert any("000.png: another file in images/ has the same name" in p for p in check.problems)


def test_a_cancelled_check_stops_reading_headers(tmp_path):
    root = write_ellipse_dataset(tmp_path / "d", count=6)
    (root / "images" / "005.png").write_bytes(b"not an image")
    assert not check_data_folder(root).ok
    assert check_data_folder(root, cancelled=lambda: True).problems == []
