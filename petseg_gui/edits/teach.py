"""Model > "Add this photo to my training set": the photo and its corrected mask into the user's
own training folder, in the ``images/`` + ``masks/`` layout the trainer reads (a "mask folder",
model_training/data/sources.py), so Retrain can use it like any other source.

The photo file is copied byte for byte (EXIF kept). The trainer applies the EXIF orientation,
and the matte is in the upright orientation, so photo and mask agree even for a phone photo
stored sideways.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from petseg_gui.contract.photos import (
    MASK_EXTENSIONS,
    PHOTO_EXTENSIONS,
    PhotoFileError,
    by_stem,
    photo_size,
)
from petseg_gui.edits.files import write_atomic
from petseg_gui.errors import PetsegError
from petseg_gui.model_registry import app_data_dir


def default_training_folder() -> Path:
    """``<app data>/training-data``: beside the user's models (model_registry's rules, no Qt;
    ``$PETSEG_DATA_DIR`` moves both). Not created here."""
    return app_data_dir() / "training-data"


def add_to_training_set(
    photo_path: str | Path, matte: np.ndarray, folder: str | Path | None = None
) -> tuple[Path, Path]:
    """Copy the photo to ``folder/images/<id><ext>`` and write ``folder/masks/<id>.png``
    (uint8, 255 where ``matte`` > 0.5, else 0); ``matte``: float32 H x W at the photo's upright
    size. ``id`` is the photo's stem, then ``stem-2``, ``stem-3``... if taken. The mask is
    written first: a crash between the two leaves a spare mask, which the trainer ignores,
    never a photo without a mask, which it refuses. Returns (image path, mask path)."""
    photo = Path(photo_path)
    root = Path(folder) if folder is not None else default_training_folder()
    ext = photo.suffix.lower()
    if ext not in PHOTO_EXTENSIONS:
        raise PetsegError(
            f"{photo}: the trainer reads only {', '.join(PHOTO_EXTENSIONS)} photos; "
            "save a copy as JPEG or PNG and add that"
        )
    try:
        size = photo_size(photo)
    except PhotoFileError as err:
        raise PetsegError(str(err)) from None
    if matte.shape != size:
        raise ValueError(f"matte {matte.shape} is not the photo's upright size {size}")
    images, masks = root / "images", root / "masks"
    try:
        images.mkdir(parents=True, exist_ok=True)
        masks.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PetsegError(
            f"{root}: cannot create the training folder ({err.strerror}); choose another"
        ) from None
    ident = _free_id(images, masks, photo.stem)
    mask = np.where(matte > 0.5, np.uint8(255), np.uint8(0))
    ok, encoded = cv2.imencode(".png", mask)
    if not ok:
        raise PetsegError(f"{photo}: its mask could not be encoded; nothing was written")
    image_path, mask_path = images / f"{ident}{ext}", masks / f"{ident}.png"
    write_atomic(mask_path, encoded.tobytes())
    try:
        data = photo.read_bytes()
    except OSError as err:
        mask_path.unlink(missing_ok=True)
        raise PetsegError(f"{photo}: cannot be read ({err.strerror}); check the file") from None
    write_atomic(image_path, data)
    return image_path, mask_path


def count_training_pairs(folder: str | Path | None = None) -> int:
    """How many photos of the folder have a mask (what the menu shows); 0 if none yet."""
    root = Path(folder) if folder is not None else default_training_folder()
    try:
        photos, _ = by_stem(root / "images", PHOTO_EXTENSIONS)
        masks, _ = by_stem(root / "masks", MASK_EXTENSIONS)
    except OSError:
        return 0
    return len(photos.keys() & masks.keys())


def _free_id(images: Path, masks: Path, stem: str) -> str:
    """The first of stem, stem-2, stem-3... no photo or mask uses, with any extension (the
    trainer matches photos and masks by stem, so two photos may not share one)."""
    taken = {p.stem for folder in (images, masks) for p in folder.iterdir()}
    ident, counter = stem, 2
    while ident in taken:
        ident, counter = f"{stem}-{counter}", counter + 1
    return ident
