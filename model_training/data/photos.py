"""Reading training photos and masks: header checks, EXIF orientation, reduced-size decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Extensions and the EXIF-aware header reader are shared with the app's Retrain data check.
from petseg_gui.contract.photos import (  # noqa: F401 (extensions re-exported for sources.py)
    MASK_EXTENSIONS,
    PHOTO_EXTENSIONS,
    REPLACE_ADVICE,
    PhotoFileError,
    aspect_problem,
    displayed_size,
    first_line,
    open_image,
)
from petseg_gui.contract.photos import photo_size as contract_photo_size

from .letterbox import letterbox
from .problems import BadFile


def _open(path: Path):
    try:
        return open_image(path)
    except PhotoFileError as err:
        raise BadFile(path, err.reason) from None


def _decoded(path: Path, img):
    """The image with its pixels loaded and EXIF orientation applied (as photo viewers show it)."""
    from PIL import ImageOps

    try:
        img.load()  # truncated files fail here (PIL's LOAD_TRUNCATED_IMAGES stays off)
        return ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError) as err:
        raise BadFile(
            path, f"is damaged or truncated ({first_line(err)}); {REPLACE_ADVICE}"
        ) from None


def photo_size(path: Path) -> tuple[int, int]:
    """(height, width) as displayed, from the header only (fast: no pixel decoding); the app's
    Retrain data check reads sizes with the same contract function."""
    try:
        return contract_photo_size(path)
    except PhotoFileError as err:
        raise BadFile(path, err.reason) from None


def read_photo(path: Path, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB uint8 ``size`` x ``size`` (letterboxed, as the app shows photos to the model) and
    the photo's own displayed (height, width).

    JPEGs are decoded at 1/2, 1/4 or 1/8 scale when that still leaves at least ``size``
    pixels both ways (PIL's draft mode: DCT-domain scaling), which makes a large photo faster
    to read; the rest of the way is an area-average resize, so nothing aliases.
    """
    with _open(path) as img:
        full = displayed_size(img)
        img.draft("RGB", (size, size))
        rgb = np.asarray(_decoded(path, img).convert("RGB"))
    return letterbox(rgb, size, nearest=False, photo_shape=full), full


def read_mask(path: Path, *, palette_indices: bool) -> np.ndarray:
    """The mask's pixel array. ``palette_indices``: keep a palette image's indices (Oxford
    trimaps store labels that way); otherwise a palette is mapped to grey first, so a
    black-and-white mask saved with any palette reads as black and white."""
    with _open(path) as img:
        img = _decoded(path, img)
        if img.mode == "P" and not palette_indices:
            img = img.convert("LA" if "transparency" in img.info else "L")
        return np.asarray(img)


def check_aspect(photo: tuple[int, int], mask: tuple[int, int], mask_path: Path) -> None:
    """Refuse a mask whose aspect ratio differs from its photo's by more than 2%."""
    problem = aspect_problem(photo, mask)
    if problem:
        raise BadFile(mask_path, problem)
