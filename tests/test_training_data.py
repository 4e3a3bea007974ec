"""model_training.data: sources, folder checks, masks -> classes, splits (tiny folders on disk)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED_PEOPLE

from model_training.data import CLASS_NAMES, load_data, resolve_source, scan_folder
from model_training.data.masks import default_boundary_width, trimap_from_binary
from model_training.errors import TrainingError

SUBJECT, BACKGROUND, BOUNDARY = 0, 1, 2


def _photo_and_subject(height: int, width: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A bright ellipse (the subject) on a dark noisy background; BGR uint8 and bool mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    subject = ((yy - height / 2) / (height * 0.3)) ** 2 + (
        (xx - width / 2) / (width * 0.3)
    ) ** 2 < 1
    photo = rng.integers(0, 40, (height, width, 3)).astype(np.uint8)
    photo[subject] = 220
    return photo, subject


def _write(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def make_mask_folder(
    root: Path, count: int = 6, size: tuple[int, int] = (48, 64), mask_scale: float = 1.0
) -> Path:
    """images/N.jpg + masks/N.png (0/255), masks stored at ``mask_scale`` of the photo size."""
    for i in range(count):
        photo, subject = _photo_and_subject(*size, seed=i)
        _write(root / "images" / f"p{i}.jpg", photo)
        mask = subject.astype(np.uint8) * 255
        if mask_scale != 1.0:
            mh, mw = round(size[0] * mask_scale), round(size[1] * mask_scale)
            mask = cv2.resize(mask, (mw, mh), interpolation=cv2.INTER_NEAREST)
        _write(root / "masks" / f"p{i}.png", mask)
    return root


def make_oxford_folder(root: Path, train: int = 4, test: int = 3) -> Path:
    """The official layout: images/*.jpg, annotations/trimaps/*.png (1, 2, 3) and the lists."""
    names = [f"Breed_{i}" for i in range(train + test)]
    for i, name in enumerate(names):
        photo, subject = _photo_and_subject(40, 50, seed=i)
        _write(root / "images" / f"{name}.jpg", photo)
        trimap = trimap_from_binary(subject, 2) + 1  # Oxford values: 1 pet, 2 bg, 3 border
        _write(root / "annotations" / "trimaps" / f"{name}.png", trimap)
    # macOS archive debris, as in the real annotations.tar.gz: must be ignored.
    (root / "annotations" / "trimaps" / "._Breed_0.png").write_bytes(b"\0\5\26\7")
    lines = [f"{n} 1 1 1" for n in names]
    (root / "annotations" / "trainval.txt").write_text("\n".join(lines[:train]) + "\n")
    (root / "annotations" / "test.txt").write_text("\n".join(lines[train:]) + "\n")
    return root


def _arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    pairs = [(i.numpy(), m.numpy()) for i, m in dataset]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# --- sources -------------------------------------------------------------------------------


def test_resolve_source_kinds_and_refusals(tmp_path):
    assert resolve_source("oxford_iiit_pet") == "tfds"
    assert resolve_source(str(make_mask_folder(tmp_path / "m", count=1))) == "mask_folder"
    assert resolve_source(str(make_oxford_folder(tmp_path / "o", 1, 1))) == "oxford_folder"
    (tmp_path / "neither" / "photos").mkdir(parents=True)
    with pytest.raises(TrainingError, match="neither.*images/ \\+ masks/"):
        resolve_source(str(tmp_path / "neither"))
    with pytest.raises(TrainingError, match="nowhere: no such folder"):
        resolve_source(str(tmp_path / "nowhere"))


def test_class_names_follow_oxford_order():
    assert CLASS_NAMES == ("subject", "background", "boundary")


# --- mask folder ---------------------------------------------------------------------------


def test_mask_folder_shapes_dtypes_values_and_alignment(tmp_path):
    root = make_mask_folder(tmp_path, count=5, size=(60, 80), mask_scale=0.5)
    splits = load_data(str(root), image_size=32, validation_split=0.2)
    assert (splits.train_count, splits.validation_count) == (4, 1)
    images, labels = _arrays(splits.train)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
    assert labels.shape == (4, 32, 32, 1) and labels.dtype == np.uint8
    assert 0.0 <= images.min() and images.max() <= 1.0
    # Masks stored at half size are resized nearest: only the three labels, all present.
    assert set(np.unique(labels).tolist()) == {SUBJECT, BACKGROUND, BOUNDARY}
    # And aligned with the photo: subject pixels are the bright ellipse (0.86), background
    # the dark noise (< 0.16). A few pixels beside the band mix both (area resizing); a shift
    # of 2 px would put a fifth of the subject pixels on the background.
    bright = images.mean(axis=-1) > 0.5
    assert bright[labels[..., 0] == SUBJECT].mean() > 0.97
    assert (~bright[labels[..., 0] == BACKGROUND]).mean() > 0.99


def test_wide_photo_is_letterboxed_not_squashed(tmp_path):
    """A round subject in a 2:1 photo stays round in the model's square (as the app shows it)."""
    photo = np.full((50, 100, 3), 20, np.uint8)
    yy, xx = np.mgrid[0:50, 0:100]
    disk = (yy - 25) ** 2 + (xx - 50) ** 2 < 15**2
    photo[disk] = 230
    _write(tmp_path / "images" / "wide.png", photo)
    _write(tmp_path / "masks" / "wide.png", disk.astype(np.uint8) * 255)
    images, labels = _arrays(load_data(str(tmp_path), image_size=40, split="all").validation)
    subject = labels[0, 10:30, :, 0] != BACKGROUND  # the photo's rows: 40 * 50/100 = 20
    rows, cols = np.nonzero(subject)
    assert np.ptp(rows) == pytest.approx(np.ptp(cols), abs=1)  # round, not 2:1
    assert images[0, 10:30].mean(axis=-1)[subject].mean() > 0.7  # photo and mask agree
    # The strips above and below mirror the photo (no flat bars for the model to learn).
    np.testing.assert_array_equal(images[0, 9], images[0, 11])


def test_split_is_deterministic_from_seed_and_recorded(tmp_path):
    root = str(make_mask_folder(tmp_path, count=10, size=(16, 16)))
    a = load_data(root, image_size=16, validation_split=0.3, seed=1)
    b = load_data(root, image_size=16, validation_split=0.3, seed=1)
    others = [load_data(root, image_size=16, validation_split=0.3, seed=s) for s in (2, 3, 4)]
    ids = a.description["validation_ids"]
    assert len(ids) == 3 and ids == b.description["validation_ids"]
    assert any(o.description["validation_ids"] != ids for o in others)
    assert (a.train_count, a.validation_count) == (7, 3)
    np.testing.assert_array_equal(_arrays(a.validation)[0], _arrays(b.validation)[0])
    # Evaluation splits: the same validation part, or every pair, in .validation.
    val = load_data(root, image_size=16, validation_split=0.3, seed=1, split="validation")
    assert val.description["validation_ids"] == ids and val.train_count == 0
    assert len(list(val.train)) == 0
    everything = load_data(root, image_size=16, split="test")
    assert everything.validation_count == 10


def test_boundary_band_is_thin_and_on_the_edge():
    yy, xx = np.mgrid[0:400, 0:400]
    disk = (yy - 200) ** 2 + (xx - 200) ** 2 < 100**2
    width = default_boundary_width(400, 400)
    assert width == 4  # 1% of the shorter side
    classes = trimap_from_binary(disk, width)
    band = classes == BOUNDARY
    # The band covers the edge (perimeter x width), and nothing far from it.
    assert band.sum() == pytest.approx(2 * np.pi * 100 * width, rel=0.1)
    distance = np.abs(np.hypot(yy - 200, xx - 200) - 100)
    assert distance[band].max() <= width / 2 + 1
    assert (classes[disk & ~band] == SUBJECT).all() and (classes[~disk & ~band] == BACKGROUND).all()
    assert not (trimap_from_binary(disk, 0) == BOUNDARY).any()
    assert default_boundary_width(100, 150) == 2  # never thinner than 2 px


def test_boundary_band_is_drawn_at_photo_resolution(tmp_path):
    """Same picture at 2 sizes, loaded at one model size: the band covers the same share."""
    shares = []
    for side in (200, 800):
        root = tmp_path / str(side)
        photo, subject = _photo_and_subject(side, side)
        _write(root / "images" / "a.jpg", photo)
        _write(root / "masks" / "a.png", subject.astype(np.uint8) * 255)
        labels = _arrays(load_data(str(root), image_size=100, split="all").validation)[1]
        shares.append((labels == BOUNDARY).mean())
    assert shares[0] > 0 and shares[1] == pytest.approx(shares[0], rel=0.35)
    explicit = load_data(str(root), image_size=100, split="all", boundary_width=40)
    assert (_arrays(explicit.validation)[1] == BOUNDARY).mean() > 3 * shares[1]


def test_anti_aliased_mask_is_thresholded(tmp_path):
    root = make_mask_folder(tmp_path, count=2, size=(64, 64))
    mask = cv2.imread(str(root / "masks" / "p0.png"), cv2.IMREAD_GRAYSCALE)
    _write(root / "masks" / "p0.png", cv2.GaussianBlur(mask, (5, 5), 0))  # soft edge
    assert len(np.unique(cv2.imread(str(root / "masks" / "p0.png")))) > 10
    labels = _arrays(load_data(str(root), image_size=32, split="all").validation)[1]
    assert set(np.unique(labels).tolist()) == {SUBJECT, BACKGROUND, BOUNDARY}


def test_aspect_mismatch_is_refused_naming_the_mask(tmp_path):
    root = make_mask_folder(tmp_path, count=3, size=(40, 40))
    _write(root / "masks" / "p1.png", np.zeros((40, 60), np.uint8))
    with pytest.raises(TrainingError, match=r"p1\.png: is 60x40 but its photo is 40x40"):
        load_data(str(root), image_size=16)
    with pytest.raises(TrainingError, match=r"p1\.png"):
        scan_folder(root)


def _damage(root: Path, how: str, name: str = "p1") -> str:
    """Break pair ``name`` of a mask folder; returns a pattern the error must match."""
    photo, mask = root / "images" / f"{name}.jpg", root / "masks" / f"{name}.png"
    if how == "zero-byte photo":
        photo.write_bytes(b"")
        return rf"{name}\.jpg: is empty"
    if how == "truncated photo":
        photo.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
        return rf"{name}\.jpg: is damaged or truncated"
    if how == "not an image":
        photo.write_text("hello")
        return rf"{name}\.jpg: is not a readable image"
    if how == "photo without mask":
        mask.unlink()
        return rf"{name}\.jpg: has no mask masks/{name}\.png"
    if how == "grey mask":
        _write(mask, np.tile(np.arange(0, 256, 4, dtype=np.uint8), (40, 1))[:, :40])
        return rf"{name}\.png: has \d+ grey levels"
    if how == "colour mask":
        colour = np.zeros((40, 40, 3), np.uint8)
        colour[:20, :, 2] = 255
        colour[20:, :, 1] = 255
        _write(mask, colour)
        return rf"{name}\.png: is a colour image"
    raise AssertionError(how)


DAMAGES = [
    "zero-byte photo",
    "truncated photo",
    "not an image",
    "photo without mask",
    "grey mask",
    "colour mask",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_bad_file_error_names_the_file(tmp_path, how):
    root = make_mask_folder(tmp_path, count=3, size=(40, 40))
    expected = _damage(root, how)
    with pytest.raises(TrainingError, match=expected) as caught:
        load_data(str(root), image_size=16)
    assert "\n" not in str(caught.value)  # one line for the CLI
    if how != "truncated photo":  # scan_folder reads photo headers only
        with pytest.raises(TrainingError, match=expected):
            scan_folder(str(root))


def test_skip_bad_skips_and_counts(tmp_path):
    root = make_mask_folder(tmp_path, count=8, size=(40, 40))
    _damage(root, "truncated photo", "p1")
    _damage(root, "grey mask", "p2")
    _damage(root, "photo without mask", "p3")
    (root / "masks" / "spare.png").write_bytes((root / "masks" / "p4.png").read_bytes())
    splits = load_data(str(root), image_size=16, skip_bad=True, validation_split=0.25)
    assert splits.train_count + splits.validation_count == 5
    assert splits.description["skipped_count"] == len(splits.skipped) == 4
    skipped = {Path(f).name: reason for f, reason in splits.skipped}
    assert skipped.keys() == {"p1.jpg", "p2.png", "p3.jpg", "spare.png"}
    assert "truncated" in skipped["p1.jpg"] and "grey levels" in skipped["p2.png"]
    assert "ignored" in skipped["spare.png"]  # a mask without a photo is not an error
    # scan_folder checks headers only: the truncated photo passes it, the rest do not.
    examples, problems = scan_folder(str(root), skip_bad=True)
    assert [e.id for e in examples] == ["p0", "p1", "p4", "p5", "p6", "p7"]
    assert {Path(f).name for f, _ in problems} == {"p2.png", "p3.jpg", "spare.png"}


def test_empty_images_folder_and_nothing_usable(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(TrainingError, match=r"images: no photos"):
        load_data(str(tmp_path), image_size=16, skip_bad=True)


def test_orphan_mask_is_reported_not_fatal(tmp_path):
    root = make_mask_folder(tmp_path, count=2, size=(20, 20))
    _write(root / "masks" / "lonely.png", np.zeros((20, 20), np.uint8))
    examples, problems = scan_folder(root)
    assert [e.id for e in examples] == ["p0", "p1"]
    assert problems == [(str(root / "masks" / "lonely.png"), "has no photo in images/; ignored")]


# --- Oxford-IIIT Pet folder -----------------------------------------------------------------


def test_oxford_folder_uses_its_lists_and_trimaps(tmp_path):
    root = make_oxford_folder(tmp_path, train=4, test=3)
    _write(root / "images" / "Unlisted_1.jpg", np.zeros((8, 8, 3), np.uint8))  # not in a list
    # Real-data quirks that must decode: a PNG named .jpg, and a grayscale JPEG.
    photo, _ = _photo_and_subject(40, 50, seed=1)
    png_bytes = cv2.imencode(".png", photo)[1].tobytes()
    (root / "images" / "Breed_1.jpg").write_bytes(png_bytes)
    _write(root / "images" / "Breed_2.jpg", cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    splits = load_data(str(root), image_size=24)
    assert (splits.train_count, splits.validation_count) == (4, 3)
    assert splits.description["validation_ids"] == ["Breed_4", "Breed_5", "Breed_6"]
    images, labels = _arrays(splits.train)
    assert images.shape == (4, 24, 24, 3) and labels.shape == (4, 24, 24, 1)
    assert set(np.unique(labels).tolist()) == {SUBJECT, BACKGROUND, BOUNDARY}
    with pytest.raises(TrainingError, match="boundary width applies only"):
        load_data(str(root), image_size=24, boundary_width=3)


def test_oxford_trimap_with_unexpected_value_is_an_error(tmp_path):
    root = make_oxford_folder(tmp_path, train=2, test=1)
    trimap = np.full((40, 50), 2, np.uint8)
    trimap[10:20, 10:20] = 7
    _write(root / "annotations" / "trimaps" / "Breed_1.png", trimap)
    with pytest.raises(TrainingError, match=r"Breed_1\.png: has values 7; an Oxford trimap"):
        load_data(str(root), image_size=16)


def test_oxford_listed_id_without_trimap(tmp_path):
    root = make_oxford_folder(tmp_path, train=2, test=2)
    (root / "annotations" / "trimaps" / "Breed_3.png").unlink()
    with pytest.raises(TrainingError, match=r"Breed_3\.jpg: has no mask trimaps/Breed_3\.png"):
        load_data(str(root), image_size=16)
    splits = load_data(str(root), image_size=16, skip_bad=True)
    assert (splits.train_count, splits.validation_count, len(splits.skipped)) == (2, 1, 1)


# --- the shared people folder -----------------------------------------------------------------


@pytest.mark.skipif(not SHARED_PEOPLE.is_dir(), reason="shared people data not present")
def test_people_folder_counts_split_and_nearest_masks():
    splits = load_data(str(SHARED_PEOPLE), image_size=48, validation_split=0.2, seed=0)
    assert (splits.train_count, splits.validation_count) == (192, 48)
    assert splits.skipped == []
    assert len(splits.description["validation_ids"]) == 48
    labels = _arrays(splits.validation)[1]
    # Nearest-neighbour resizing of masks stored at other resolutions: only the 3 labels.
    assert set(np.unique(labels).tolist()) == {SUBJECT, BACKGROUND, BOUNDARY}
