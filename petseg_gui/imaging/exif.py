"""EXIF handling: read the orientation, and reset it to 1 once the pixels are upright.

The orientation is patched in place in the raw EXIF block instead of re-serialising it with
Pillow, because a re-serialised block can lose or corrupt maker notes and other tags whose
values are stored by offset. Only the two bytes of the orientation value change.
"""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image

ORIENTATION_TAG = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_SHORT = 3
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
# Descriptive TIFF tags worth carrying into another format: description, make, model,
# software, date, artist, copyright. Layout tags (strips, bits per sample) are not.
_DESCRIPTIVE_TIFF_TAGS = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x8298)


def normal_orientation(exif: bytes | None) -> bytes | None:
    """``exif`` with its orientation tag set to 1 (normal); unchanged if it has no such tag.

    Accepts a block with or without the ``Exif\\0\\0`` header (JPEG/PNG vs WebP style).
    Returns None when the block cannot be parsed: dropping unreadable metadata is better than
    keeping an orientation that would make viewers rotate the upright pixels a second time.
    """
    if not exif:
        return None
    start = len(_EXIF_HEADER) if exif.startswith(_EXIF_HEADER) else 0
    data = bytearray(exif)
    order = {b"II": "<", b"MM": ">"}.get(bytes(data[start : start + 2]))
    try:
        if order is None or struct.unpack_from(order + "H", data, start + 2)[0] != 42:
            return None
        ifd0 = start + struct.unpack_from(order + "I", data, start + 4)[0]
        (count,) = struct.unpack_from(order + "H", data, ifd0)
        for i in range(count):
            entry = ifd0 + 2 + 12 * i
            tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
            if tag == ORIENTATION_TAG:
                if kind != _SHORT or n != 1:
                    return None
                struct.pack_into(order + "H", data, entry + 8, 1)
                break
    except struct.error:  # offsets pointing past the end: a damaged block
        return None
    return bytes(data)


def exif_from_tiff_tags(image: Image.Image) -> bytes | None:
    """A TIFF keeps its EXIF among its own image tags; rebuild a portable EXIF block from the
    descriptive ones plus the Exif and GPS sub-directories (no orientation: pixels are upright).
    """
    try:
        tags = image.getexif()
        portable = Image.Exif()
        for tag in _DESCRIPTIVE_TIFF_TAGS:
            if tag in tags:
                portable[tag] = tags[tag]
        for pointer in (_EXIF_IFD, _GPS_IFD):
            if pointer in tags and (sub := tags.get_ifd(pointer)):
                portable[pointer] = dict(sub)
        return portable.tobytes() if len(portable) else None
    except Exception:  # damaged tags: the photo still opens, without them
        return None


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn decoded pixels upright for an EXIF orientation (1-8), as viewers display them.

    Matches ``PIL.ImageOps.exif_transpose``; unknown values leave the pixels as they are.
    Returns a C-contiguous array (a new one unless the orientation is normal).
    """
    import cv2

    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return cv2.transpose(pixels)
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels
