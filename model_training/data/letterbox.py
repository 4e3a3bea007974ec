"""Fit a photo (or its mask) into the model's square without distorting it.

The same geometry as ``petseg_gui.inference.letterbox`` (the two packages share no code, only
this rule): scale so the longer side is S, centre, and fill the rest by mirroring
(BORDER_REFLECT_101). A model trained on squashed photos would see subjects stretched by the
photo's aspect ratio, unlike the undistorted ones the app shows it.
"""

from __future__ import annotations

import numpy as np


def fitted_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) of the photo inside the size x size square (longer side = size)."""
    scale = size / max(height, width)
    return (
        min(size, max(1, round(height * scale))),
        min(size, max(1, round(width * scale))),
    )


def letterbox(
    array: np.ndarray, size: int, *, nearest: bool, photo_shape: tuple[int, int] | None = None
) -> np.ndarray:
    """size x size (x C) square holding ``array`` resized to fit and mirrored into the rest.

    ``nearest``: for class masks (no in-between labels); otherwise area averaging when
    shrinking (no aliasing) and bilinear when enlarging. ``photo_shape``: the photo's own
    (height, width) when ``array`` is a reduced decode or a mask stored at another scale, so
    photo and mask land on exactly the same rectangle (rounding could differ by a pixel).
    """
    import cv2

    height, width = fitted_shape(*(photo_shape or array.shape[:2]), size)
    if nearest:
        # INTER_NEAREST_EXACT samples pixel centres; plain INTER_NEAREST is shifted by up to
        # half a pixel, which would misalign the mask with the area-resized photo.
        interpolation = cv2.INTER_NEAREST_EXACT
    elif height <= array.shape[0]:
        interpolation = cv2.INTER_AREA
    else:
        interpolation = cv2.INTER_LINEAR
    resized = cv2.resize(array, (width, height), interpolation=interpolation)
    top, left = (size - height) // 2, (size - width) // 2
    square = cv2.copyMakeBorder(
        resized, top, size - height - top, left, size - width - left, cv2.BORDER_REFLECT_101
    )
    return square.reshape((size, size, *array.shape[2:]))
