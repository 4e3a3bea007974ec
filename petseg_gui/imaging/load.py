"""Open a photo file as upright RGB uint8 pixels plus the metadata worth keeping on save."""

from __future__ import annotations

import errno
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from petseg_gui.errors import PetsegError
from petseg_gui.imaging.convert import has_alpha, to_rgb8
from petseg_gui.imaging.exif import (
    ORIENTATION_TAG,
    apply_orientation,
    exif_from_tiff_tags,
    normal_orientation,
)

# Segmenting a photo smaller than this is meaningless (the model sees a blur of a few
# pixels), so such files are refused with a clear message instead of a useless matte.
MIN_SIDE = 8
_JPEG_FORMATS = {"JPEG", "MPO"}  # MPO: camera JPEGs carrying a second (preview) picture
_JPEG_END = b"\xff\xd9"


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo. ``pixels`` are RGB uint8 HxWx3, already turned upright (EXIF).

    ``exif`` has its orientation reset to 1 (it describes the upright pixels) or is None;
    ``icc_profile`` is the embedded colour profile, passed through untouched (the pixels are
    not colour-converted, so saving them with this profile keeps their colours).
    """

    pixels: np.ndarray
    path: Path
    format: str
    exif: bytes | None
    icc_profile: bytes | None
    had_alpha: bool

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the upright pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]


def load_image(path: str | Path, *, max_megapixels: float = 100.0) -> LoadedImage:
    """Decode JPEG, PNG, WebP, TIFF, BMP (and anything else Pillow reads) into RGB uint8.

    The EXIF orientation is applied. Alpha is flattened onto white and 16-bit data scaled to
    8 bits (see ``petseg_gui.imaging.convert``). Multi-frame files give their first frame.
    The image size is checked against ``max_megapixels`` from the header, before decoding,
    so a decompression bomb costs no memory. Baseline 8-bit JPEGs are decoded with OpenCV's
    libjpeg-turbo (about 1.6x faster than Pillow at 12 MP); everything else with Pillow.

    Raises PetsegError (one line naming the file and what to do) for a missing file, a
    folder, an unreadable, empty, damaged or unsupported file, a photo smaller than
    MIN_SIDE x MIN_SIDE, or one larger than ``max_megapixels``.
    """
    path = Path(path)
    _check_readable_file(path)
    try:
        with warnings.catch_warnings():
            # Our own megapixel check below replaces Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _decode(path, image, max_megapixels)
    except PetsegError:
        raise
    except UnidentifiedImageError:
        raise PetsegError(
            f"{path}: not a photo petseg can read; use a JPEG, PNG, WebP, TIFF or BMP file"
        ) from None
    except Image.DecompressionBombError as exc:
        # Pillow's own guard (beyond ~179 MP) fires inside Image.open, before ours.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else None
        raise _too_large(path, pixels, max_megapixels) from None
    except MemoryError:
        raise PetsegError(
            f"{path}: not enough memory to open this photo; close other programs or "
            "use a smaller copy"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow signals damaged data with all of these, depending on the format.
        raise PetsegError(
            f"{path}: the file is damaged or truncated ({_short(exc)}); copy or export it again"
        ) from None


def _check_readable_file(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise PetsegError(f"{path}: no such file; check the name and folder") from None
    except OSError as exc:
        raise PetsegError(f"{path}: cannot be read ({_short(exc)})") from None
    if path.is_dir():
        raise PetsegError(f"{path}: is a folder, not a photo; choose an image file inside it")
    if info.st_size == 0:
        raise PetsegError(f"{path}: the file is empty (0 bytes); copy or export it again")
    if not os.access(path, os.R_OK):
        raise PetsegError(f"{path}: permission denied; make the file readable")


def _decode(path: Path, image: Image.Image, max_megapixels: float) -> LoadedImage:
    width, height = image.size  # from the header; nothing is decoded yet
    if width * height > max_megapixels * 1_000_000:
        raise _too_large(path, width * height, max_megapixels, f"{width}x{height} = ")
    if min(width, height) < MIN_SIDE:
        raise PetsegError(
            f"{path}: the photo is only {width}x{height} pixels; petseg needs at least "
            f"{MIN_SIDE}x{MIN_SIDE}"
        )
    file_format = "JPEG" if image.format in _JPEG_FORMATS else (image.format or "unknown")
    pixels = _decode_jpeg_fast(path, image) if file_format == "JPEG" else None
    if pixels is None:
        image.load()  # decode errors (truncation, bad data) surface here
        pixels = to_rgb8(image)
    # Read metadata after decoding: PNG may store eXIf after the pixel data.
    exif_block = image.info.get("exif")
    orientation = _orientation(image)
    icc_profile = image.info.get("icc_profile") or None
    if image.mode == "CMYK":
        icc_profile = None  # a CMYK profile would misdescribe the RGB pixels we return
    pixels = apply_orientation(pixels, orientation)
    if isinstance(exif_block, bytes):
        exif = normal_orientation(exif_block)
    else:
        exif = exif_from_tiff_tags(image) if file_format == "TIFF" else None
    return LoadedImage(
        pixels=pixels,
        path=path,
        format=file_format,
        exif=exif,
        icc_profile=icc_profile if isinstance(icc_profile, bytes) else None,
        had_alpha=has_alpha(image),
    )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except Exception:  # a damaged EXIF block must not make the photo unreadable
        return 1
    return value if isinstance(value, int) else 1


def _decode_jpeg_fast(path: Path, image: Image.Image) -> np.ndarray | None:
    """OpenCV's decode of a complete 8-bit RGB/grey JPEG, or None to let Pillow do it.

    OpenCV fills a damaged or truncated JPEG with grey and only warns, so it is used only
    when the data ends with the JPEG end marker; anything else goes to Pillow, which refuses
    truncated data. Orientation is ignored here and applied by the caller, as for Pillow.
    """
    if image.mode not in {"RGB", "L"}:
        return None
    import cv2

    data = np.fromfile(path, dtype=np.uint8)  # not cv2.imread: it fails on non-ASCII paths
    if bytes(data[-2:]) != _JPEG_END:
        return None
    flags = cv2.IMREAD_IGNORE_ORIENTATION
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.11
    pixels = cv2.imdecode(data, flags | (rgb_flag if rgb_flag is not None else cv2.IMREAD_COLOR))
    if pixels is None or pixels.shape[:2] != (image.size[1], image.size[0]):
        return None
    if rgb_flag is None:
        cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels)
    return pixels


def _too_large(
    path: Path, pixels: int | None, max_megapixels: float, size: str = ""
) -> PetsegError:
    found = f"{size}{pixels / 1e6:.0f} MP" if pixels else "too many pixels"
    return PetsegError(
        f"{path}: the photo is too large ({found}; the limit is {max_megapixels:g} MP); "
        "use a smaller copy"
    )


def _short(exc: BaseException) -> str:
    """An exception's message on one line, without the file name repeated."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return exc.strerror if exc.errno != errno.ENOENT else "no such file"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
