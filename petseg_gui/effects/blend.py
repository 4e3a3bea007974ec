"""The final composite, ``out = alpha * sharpened_subject + (1 - alpha) * background``, done
only where it changes anything.

Inside the subject box most pixels are either pure subject (alpha == 1: the sharpened subject
is copied, a uint8 masked copy) or pure background (alpha == 0: ``out`` already holds it); only
the soft edge (0 < alpha < 1, typically a few percent of the box) is blended, by index. That
takes about half the time of blending the whole box in float with cv2.blendLinear (stage
timers: 2.3 -> 1.1 ms on a 1600 px preview, 12 -> 7 ms at 12 MP); a Prepared computes the
masks once per matte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlendMasks:
    """Where a region's matte is 1 and where it is soft (computed once per matte region)."""

    inner: np.ndarray  # uint8 hxw: non-zero where alpha == 1 (the subject replaces the background)
    edge_rows: np.ndarray  # intp[n]: pixels with 0 < alpha < 1 ...
    edge_cols: np.ndarray  # intp[n]
    edge_alpha: np.ndarray  # float32 (n, 1): ... and their alpha


# The open interval (0, 1) as cv2.inRange's closed bounds, in float32.
_ABOVE_ZERO = float(np.nextafter(np.float32(0), np.float32(1)))
_BELOW_ONE = float(np.nextafter(np.float32(1), np.float32(0)))
_INFINITY = float("inf")


def blend_masks(alpha: np.ndarray) -> BlendMasks:
    """Masks for a float32 hxw matte region (values in [0, 1]).

    With OpenCV's inRange and findNonZero (one pass each, in row-major order like
    np.nonzero): numpy's comparisons, & and nonzero took 17 of a 12 MP render's ~80 ms of
    sharpening and blending CPU time, these 8."""
    import cv2

    alpha = np.ascontiguousarray(alpha, np.float32)
    inner = cv2.inRange(alpha, 1.0, _INFINITY)  # alpha is clipped: == 1 (255 where it is)
    points = cv2.findNonZero(cv2.inRange(alpha, _ABOVE_ZERO, _BELOW_ONE))
    if points is None:
        rows = cols = np.empty(0, np.intp)
    else:
        points = points.reshape(-1, 2)
        rows, cols = points[:, 1].astype(np.intp), points[:, 0].astype(np.intp)
    return BlendMasks(inner, rows, cols, alpha[rows, cols].reshape(-1, 1))


def blend_into(
    out: np.ndarray, region: tuple[slice, slice], subject: np.ndarray, masks: BlendMasks
) -> None:
    """``out[region] = alpha * subject + (1 - alpha) * out[region]``, rounded, in place (``out``:
    a contiguous uint8 HxWx3; ``subject`` and ``masks``: the region's size). Exact where alpha
    is 0 or 1."""
    import cv2

    view = out[region]
    copied = cv2.copyTo(subject, masks.inner, view)
    if not np.shares_memory(copied, out):
        view[...] = copied  # OpenCV could not write into this view in place
    if not masks.edge_rows.size:
        return
    rows, cols = region
    # Soft pixels by flat index, each pixel's 3 bytes as one opaque item: numpy's take/put on
    # those are ~4x faster than fancy indexing of (row, col, channel).
    pixels = out.reshape(-1).view(_PIXEL)
    at = (masks.edge_rows + rows.start) * out.shape[1] + (masks.edge_cols + cols.start)
    behind = _as_rgb(pixels.take(at)).astype(np.float32)
    in_subject = masks.edge_rows * subject.shape[1] + masks.edge_cols
    front = _as_rgb(np.ascontiguousarray(subject).reshape(-1).view(_PIXEL).take(in_subject))
    front = front.astype(np.float32)
    # behind + alpha * (front - behind): elementwise float32 numpy, so a pixel gets the same
    # value whichever band or box it is blended in (render == render_prepared, bit for bit).
    np.subtract(front, behind, out=front)
    np.multiply(front, masks.edge_alpha, out=front)
    np.add(front, behind, out=front)
    blended = np.rint(front).astype(np.uint8)
    np.put(pixels, at, blended.reshape(-1).view(_PIXEL))


_PIXEL = np.dtype((np.void, 3))


def _as_rgb(pixels: np.ndarray) -> np.ndarray:
    return pixels.view(np.uint8).reshape(-1, 3)
