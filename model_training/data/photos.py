"""Reading training photos and masks: header checks, EXIF orientation, reduced-size decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .letterbox import letterbox
from .problems import BadFile

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MASK_EXTENSIONS = PHOTO_EXTENSIONS  # lossy masks are thresholded (see masks.binary_subject)
MAX_ASPECT_MISMATCH = 0.02  # relative; a mask of another shape outlines another picture

_ORIENTATION_TAG = 0x0112
_SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees
_REPLACE = "replace it with a good copy or remove it"


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size == 0:
            raise BadFile(path, f"is empty (0 bytes); {_REPLACE}")
        return Image.open(path)
    except FileNotFoundError:
        raise BadFile(path, "is missing; put it back or remove its pair") from None
    except (UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise BadFile(path, f"is not a readable image ({_first_line(err)}); {_REPLACE}") from None
    except OSError as err:
        raise BadFile(path, f"cannot be opened ({_first_line(err)}); {_REPLACE}") from None


def _decoded(path: Path, img):
    """The image with its pixels loaded and EXIF orientation applied (as photo viewers show it)."""
    from PIL import ImageOps

    try:
        img.load()  # truncated files fail here (PIL's LOAD_TRUNCATED_IMAGES stays off)
        return ImageOps.exif_transpose(img)
    except (OSError, SyntaxError, ValueError) as err:
        raise BadFile(path, f"is damaged or truncated ({_first_line(err)}); {_REPLACE}") from None


def photo_size(path: Path) -> tuple[int, int]:
    """(height, width) as displayed, from the header only (fast: no pixel decoding)."""
    with _open(path) as img:
        return _displayed_size(img)


def _displayed_size(img) -> tuple[int, int]:
    width, height = img.size
    try:
        orientation = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block is ignored, as viewers do
        orientation = 1
    return (width, height) if orientation in _SWAPS_SIDES else (height, width)


def read_photo(path: Path, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB uint8 ``size`` x ``size`` (letterboxed, as the app shows photos to the model) and
    the photo's own displayed (height, width).

    JPEGs are decoded at 1/2, 1/4 or 1/8 scale when that still leaves at least ``size``
    pixels both ways (PIL's draft mode: DCT-domain scaling), which makes a large photo faster
    to read; the rest of the way is an area-average resize, so nothing aliases.
    """
    with _open(path) as img:
        full = _displayed_size(img)
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
    (ph, pw), (mh, mw) = photo, mask
    mismatch = abs((pw / ph) / (mw / mh) - 1.0)
    if mismatch > MAX_ASPECT_MISMATCH:
        raise BadFile(
            mask_path,
            f"is {mw}x{mh} but its photo is {pw}x{ph} (aspect ratios differ by "
            f"{mismatch:.0%}); a mask may be stored at another scale but must have the "
            "photo's shape: export it again from the photo",
        )


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
