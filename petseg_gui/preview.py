"""Qt-free helpers for screen-sized previews: while a slider moves, the editor renders a copy of
the photo no larger than the screen needs, which is what keeps dragging smooth on 12 MP photos."""

from __future__ import annotations

import math

import numpy as np

# The largest preview (longest side); a preview is otherwise as large as the pane shows it.
DEFAULT_PREVIEW_SIDE = 1600


def fit_side(height: int, width: int, view_height: int, view_width: int) -> int:
    """Longest side, in device pixels, of a ``height`` x ``width`` photo fitted into a view of
    ``view_height`` x ``view_width`` device pixels: the largest preview that a pane showing the
    whole photo can use (a preview costs what the screen shows), and exactly the size the pane
    draws pixel for pixel (``image_view.pixel_exact_fit``), where any other size is resampled
    on every paint."""
    scale = min(max(1, view_width) / width, max(1, view_height) / height)
    # The 1e-9 keeps a side that is the view's own (e.g. 480.0 computed as 479.9999...) whole.
    return max(1, math.floor(max(height, width) * scale + 1e-9))


def preview_shape(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """(h, w) scaled so the longer side is at most ``max_side``; never enlarged."""
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def downscale(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """``image`` (HxW or HxWxC) shrunk with area averaging so its longer side <= ``max_side``.

    Returns the input itself when it is already small enough (callers must not modify it).
    """
    import cv2

    h, w = image.shape[:2]
    th, tw = preview_shape(h, w, max_side)
    if (th, tw) == (h, w):
        return image
    # INTER_AREA averages the covered pixels: no aliasing on fine textures or matte edges.
    return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)


def downscale_labels(labels: np.ndarray, max_side: int | None) -> np.ndarray:
    """Class-index image (HxW uint8) shrunk by nearest neighbour: averaging class indices would
    invent classes (the mean of subject 0 and boundary 2 is background 1)."""
    import cv2

    h, w = labels.shape[:2]
    th, tw = preview_shape(h, w, max_side)
    if (th, tw) == (h, w):
        return labels
    return cv2.resize(labels, (tw, th), interpolation=cv2.INTER_NEAREST)
