"""Which files are photos and masks, and a photo's size as it is displayed (EXIF applied).

The Retrain dialog's folder check and the trainer must agree on both: a phone photo stored
sideways with EXIF orientation 6 and an upright mask is one good pair for the trainer, so the
dialog must not refuse it by comparing the stored (sideways) size. Pillow is imported inside
the functions (the contract stays cheap to import).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from petseg_gui.contract.errors import ContractError

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp")
MASK_EXTENSIONS = PHOTO_EXTENSIONS  # lossy masks are thresholded by the trainer
OXFORD_MASK_EXTENSIONS = (".png",)  # annotations/trimaps/ of the Oxford-IIIT Pet layout
MAX_ASPECT_MISMATCH = 0.02  # relative; a mask of another shape outlines another picture

_ORIENTATION_TAG = 0x0112
_SWAPS_SIDES = {5, 6, 7, 8}  # EXIF orientations that turn the picture by 90 degrees
REPLACE_ADVICE = "replace it with a good copy or remove it"


class PhotoFileError(ContractError):
    """A file that cannot be used; ``reason`` says what and what to do, without the path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def by_stem(folder: Path, extensions: tuple[str, ...]) -> tuple[dict[str, Path], list[Path]]:
    """Files of ``folder`` with one of ``extensions`` (any case) by stem, and the files whose
    stem an earlier name (sorted order) already took: the trainer refuses those, since masks are
    matched by name. Hidden files (._x.jpg from macOS, .DS_Store) are not data."""
    found: dict[str, Path] = {}
    clashes: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in extensions and not path.name.startswith(".") and path.is_file():
            if path.stem in found:
                clashes.append(path)
            else:
                found[path.stem] = path
    return found, clashes


def open_image(path: str | Path) -> Any:
    """A lazily decoded PIL image (a context manager), or PhotoFileError saying why not."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise PhotoFileError(path, f"is empty (0 bytes); {REPLACE_ADVICE}")
        return Image.open(path)
    except FileNotFoundError:
        raise PhotoFileError(path, "is missing; put it back or remove its pair") from None
    except (UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise PhotoFileError(
            path, f"is not a readable image ({first_line(err)}); {REPLACE_ADVICE}"
        ) from None
    except OSError as err:
        raise PhotoFileError(
            path, f"cannot be opened ({first_line(err)}); {REPLACE_ADVICE}"
        ) from None


def displayed_size(img: Any) -> tuple[int, int]:
    """(height, width) of an open PIL image as viewers show it (EXIF orientation applied)."""
    width, height = img.size
    try:
        orientation = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block is ignored, as viewers do
        orientation = 1
    return (width, height) if orientation in _SWAPS_SIDES else (height, width)


def photo_size(path: str | Path) -> tuple[int, int]:
    """(height, width) as displayed, from the header only (fast: no pixel decoding)."""
    with open_image(path) as img:
        return displayed_size(img)


def aspect_mismatch(photo: tuple[int, int], mask: tuple[int, int]) -> float:
    """Relative difference of the (height, width) shapes' aspect ratios (0 = same shape)."""
    (ph, pw), (mh, mw) = photo, mask
    return abs((pw / ph) / (mw / mh) - 1.0)


def aspect_problem(photo: tuple[int, int], mask: tuple[int, int]) -> str | None:
    """Why a mask of ``mask`` shape cannot outline a photo of ``photo`` shape, or None."""
    mismatch = aspect_mismatch(photo, mask)
    if mismatch <= MAX_ASPECT_MISMATCH:
        return None
    (ph, pw), (mh, mw) = photo, mask
    return (
        f"is {mw}x{mh} but its photo is {pw}x{ph} (aspect ratios differ by {mismatch:.0%}); a "
        "mask may be stored at another scale but must have the photo's shape: export it again "
        "from the photo"
    )


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
