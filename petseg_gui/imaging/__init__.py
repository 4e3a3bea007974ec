"""Photo I/O (Qt-free): decode any photo to upright RGB uint8, save atomically with metadata."""

from __future__ import annotations

from petseg_gui.imaging.formats import SUPPORTED_EXTENSIONS
from petseg_gui.imaging.load import MIN_SIDE, LoadedImage, load_image
from petseg_gui.imaging.save import save_image

__all__ = ["MIN_SIDE", "SUPPORTED_EXTENSIONS", "LoadedImage", "load_image", "save_image"]
