"""Letterbox/fit geometry: how a photo (or its mask) is put into the model's square.

The paper squashed every photo to 224 x 224, stretching a portrait's subject by the photo's
aspect ratio. Both sides instead scale the photo so its longer side is S, centre it and fill the
rest by mirroring (BORDER_REFLECT_101: no artificial edge for the model to segment). The trainer
must show the model photos exactly as the app will, so this is the one implementation of the
rule, down to rounding and the choice of interpolation. OpenCV is imported inside the functions
(the contract stays cheap to import).
"""

from __future__ import annotations

import numpy as np


def fit_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """(h, w) of a ``height`` x ``width`` photo inside the size x size square (longer side =
    size, neither side below one pixel)."""
    scale = size / max(height, width)
    return (
        min(size, max(1, round(height * scale))),
        min(size, max(1, round(width * scale))),
    )


def centre_offsets(height: int, width: int, size: int) -> tuple[int, int]:
    """(top, left) of a fitted ``height`` x ``width`` rectangle centred in the square; an odd
    margin puts the extra pixel at the bottom/right."""
    return (size - height) // 2, (size - width) // 2


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample an image or probabilities to ``height`` x ``width``: area averaging when no side
    grows (no aliasing; a side that keeps its length is left as it is), bilinear otherwise."""
    import cv2

    if image.shape[:2] == (height, width):
        return image
    shrink = height <= image.shape[0] and width <= image.shape[1]
    mode = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=mode)


def pad_square(image: np.ndarray, size: int) -> np.ndarray:
    """The fitted ``image`` centred in a size x size square, the rest mirrored into."""
    import cv2

    height, width = image.shape[:2]
    top, left = centre_offsets(height, width, size)
    # BORDER_REFLECT_101 mirrors without repeating the edge pixel and, unlike numpy's reflect,
    # keeps mirroring when the pad is wider than the image (a 1-pixel strip).
    square = cv2.copyMakeBorder(
        image, top, size - height - top, left, size - width - left, cv2.BORDER_REFLECT_101
    )
    return square.reshape((size, size, *image.shape[2:]))


def letterbox(
    array: np.ndarray, size: int, *, nearest: bool, photo_shape: tuple[int, int] | None = None
) -> np.ndarray:
    """size x size (x C) square holding ``array`` resized to fit and mirrored into the rest.

    ``nearest``: for class masks (no in-between labels); otherwise ``resize``'s rule.
    ``photo_shape``: the photo's own (height, width) when ``array`` is a reduced decode or a mask
    stored at another scale, so photo and mask land on exactly the same rectangle.
    """
    import cv2

    height, width = fit_shape(*(photo_shape or array.shape[:2]), size)
    if nearest:
        # INTER_NEAREST_EXACT samples pixel centres; plain INTER_NEAREST is shifted by up to
        # half a pixel, which would misalign the mask with the area-resized photo.
        resized = cv2.resize(array, (width, height), interpolation=cv2.INTER_NEAREST_EXACT)
    else:
        resized = resize(array, height, width)
    # OpenCV drops a trailing channel of 1 (a trimap of H x W x 1); give it back.
    return pad_square(resized, size).reshape((size, size, *array.shape[2:]))
