"""Which file formats petseg writes, chosen by the file's extension, and what each can carry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from petseg_gui.contract.photos import PHOTO_EXTENSIONS


@dataclass(frozen=True)
class FileFormat:
    """A writable format: Pillow's name for it and the metadata it can hold."""

    pillow_name: str
    keeps_exif: bool
    keeps_icc: bool


# BMP has no place for EXIF or an ICC profile; the others keep both.
FORMAT_BY_EXTENSION: dict[str, FileFormat] = {
    ".jpg": FileFormat("JPEG", keeps_exif=True, keeps_icc=True),
    ".jpeg": FileFormat("JPEG", keeps_exif=True, keeps_icc=True),
    ".png": FileFormat("PNG", keeps_exif=True, keeps_icc=True),
    ".webp": FileFormat("WEBP", keeps_exif=True, keeps_icc=True),
    ".tif": FileFormat("TIFF", keeps_exif=True, keeps_icc=True),
    ".tiff": FileFormat("TIFF", keeps_exif=True, keeps_icc=True),
    ".bmp": FileFormat("BMP", keeps_exif=False, keeps_icc=False),
}

# The photo extensions of the contract (what the trainer and the Retrain check read), all of
# which can be written; test_imaging checks the table covers exactly those.
SUPPORTED_EXTENSIONS: tuple[str, ...] = PHOTO_EXTENSIONS


def format_for_path(path: str | Path) -> FileFormat | None:
    """The format a file name asks for (case-insensitive extension), or None if unknown."""
    return FORMAT_BY_EXTENSION.get(Path(path).suffix.lower())
