"""Masks to class indices: binary subject masks, Oxford-IIIT Pet trimaps and the boundary band.

Class indices follow the Oxford trimap values minus one: 0 subject, 1 background, 2 boundary.
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ("subject", "background", "boundary")
SUBJECT, BACKGROUND, BOUNDARY = 0, 1, 2
UNKNOWN = 3  # not a class: pixels left out of loss and metrics (a source's class3=unknown)

# A grey mask counts as an anti-aliased (or JPEG-saved) binary mask when this share of its
# pixels lies near black or white; only its soft edge is in between, so a threshold is safe.
_NEAR_EXTREME = 16
_MIN_EXTREME_SHARE = 0.9

BINARY_FIX = (
    "expected a binary mask (255 or 1 = subject, 0 = background); save it as black and white"
)


class MaskValueError(ValueError):
    """The mask's pixel values do not fit its kind; ``str(err)`` is the reason and the fix."""


def single_channel(mask: np.ndarray) -> np.ndarray:
    """HxW from a mask stored as grey, grey-as-RGB, or an RGBA cut-out (alpha = subject)."""
    if mask.ndim == 2:
        return mask
    if mask.ndim == 3 and mask.shape[2] in (2, 4):
        colour, alpha = mask[..., :-1], mask[..., -1]
        # A cut-out (constant colour, shape in the alpha channel), as background removers save.
        if alpha.min() != alpha.max() and colour.min() == colour.max():
            return alpha
        mask = colour
    if mask.ndim == 3:
        first = mask[..., 0]
        if all(np.array_equal(first, mask[..., c]) for c in range(1, mask.shape[2])):
            return first
    raise MaskValueError(f"is a colour image; {BINARY_FIX}")


def binary_subject(mask: np.ndarray) -> np.ndarray:
    """Bool HxW, True = subject, from a binary mask (0/255, 0/1, bool, 16-bit 0/65535).

    Grey masks that are binary apart from a soft edge are thresholded at half range; masks with
    many grey levels (a photo, a depth map, a label map) are refused rather than guessed.
    """
    mask = single_channel(mask)
    if mask.dtype == bool:
        return mask
    if mask.dtype not in (np.uint8, np.uint16):
        raise MaskValueError(f"has pixel type {mask.dtype}; {BINARY_FIX}")
    top = int(np.iinfo(mask.dtype).max)
    counts = np.bincount(mask.ravel(), minlength=top + 1)
    present = np.flatnonzero(counts)
    if set(present.tolist()) <= {0, 1}:
        return mask == 1
    if set(present.tolist()) <= {0, top}:
        return mask == top
    near = (_NEAR_EXTREME * (top + 1)) // 256
    extreme_share = (counts[: near + 1].sum() + counts[top - near :].sum()) / mask.size
    if extreme_share >= _MIN_EXTREME_SHARE:
        return mask >= (top + 1) // 2
    sample = ", ".join(str(v) for v in present[:: max(1, len(present) // 5)][:5])
    raise MaskValueError(f"has {len(present)} grey levels (e.g. {sample}); {BINARY_FIX}")


def oxford_classes(trimap: np.ndarray) -> np.ndarray:
    """uint8 HxW class indices from an Oxford-IIIT Pet trimap (1 pet, 2 background, 3 border)."""
    trimap = single_channel(trimap)
    unexpected = sorted(set(np.unique(trimap).tolist()) - {1, 2, 3})
    if unexpected:
        shown = ", ".join(str(v) for v in unexpected[:5])
        raise MaskValueError(
            f"has values {shown}; an Oxford trimap holds only 1 (pet), 2 (background), "
            "3 (border): restore it from annotations.tar.gz or remove the pair"
        )
    return (trimap - 1).astype(np.uint8)


def default_boundary_width(height: int, width: int) -> int:
    """Band width in pixels at the photo's own resolution: 1% of the shorter side, at least 2.

    Oxford trimaps have a border a few pixels wide on ~500 px photos; a width relative to the
    photo keeps the band the same share of the picture whatever the photo's size.
    """
    return max(2, round(0.01 * min(height, width)))


def trimap_from_binary(subject: np.ndarray, boundary_width: int) -> np.ndarray:
    """uint8 HxW classes: subject, background, and a band ``boundary_width`` px wide that
    straddles the mask edge (half inside, half outside), like an Oxford trimap's border."""
    import cv2

    classes = np.where(subject, SUBJECT, BACKGROUND).astype(np.uint8)
    if boundary_width <= 0 or subject.all() or not subject.any():
        return classes
    inner = boundary_width // 2
    outer = boundary_width - inner
    binary = subject.astype(np.uint8)
    # cv2's default border value leaves the frame alone: a subject cut by the photo's edge
    # gets no band along that edge (nothing is uncertain there).
    eroded = cv2.erode(binary, _disk(inner)) if inner else binary
    dilated = cv2.dilate(binary, _disk(outer))
    classes[dilated != eroded] = BOUNDARY
    return classes


def _disk(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
