"""The final composite, ``out = alpha * sharpened_subject + (1 - alpha) * background``, done
only where it changes anything, in 16-bit fixed point.

Inside the subject box most pixels of a hand-made or brushed matte are either pure subject
(the sharpened subject is copied, a uint8 masked copy) or pure background (``out`` already
holds it); only the soft edge (typically a few percent of the box) is blended, by index. That
takes about half the time of blending the whole box (stage timers: 2.3 -> 1.1 ms on a 1600 px
preview, 12 -> 7 ms at 12 MP); a Prepared computes the masks once per matte.

"Pure" means within INVISIBLE_ALPHA of 0 or 1, where the rounded blend is exactly the
background (the subject). A model's matte is a softmax, never exactly 0 or 1: with exact
comparisons every pixel of a real photo was "soft", and a 12 MP render blended 12 M pixels by
index (~800 ms). A region mostly soft is blended whole instead, by OpenCV on 16-bit integers.

The blend itself: ``out = behind + rint((front - behind) * a / 2**ALPHA_BITS)``, with ``a`` the
alpha rounded to ALPHA_BITS bits. Every step is exact but the one rounding (half to even), so
OpenCV's 16-bit arithmetic on a whole region and numpy's on indexed pixels give the same bytes,
whichever band or box a pixel is blended in (render == render_prepared, bit for bit). It differs
from the real-valued blend by at most 1/2 code plus 255/2**15 (the alpha's rounding), and costs
a third of a float32 blend (no conversions to and from float: ~110 vs ~300 ms of CPU at 12 MP).

Where setup.py built the compiled pass (``_fused.c``, compiled.py), none of the above runs:
blend_masks only keeps the region's matte, and blend_into does the same formula in one pass
over the region, the same bytes (tests/test_effects_speed_paths.py runs all three paths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petseg_gui.effects import compiled


@dataclass(frozen=True)
class BlendMasks:
    """Where a region's matte is 1 and where it is soft (computed once per matte region)."""

    inner: np.ndarray  # uint8 hxw: non-zero where the subject replaces the background
    edge_rows: np.ndarray  # intp[n]: the soft pixels (blended) ...
    edge_cols: np.ndarray  # intp[n]
    edge_alpha: np.ndarray  # float32 (n, 1): ... and their fixed-point alpha / 2**14 (exact)
    dense: np.ndarray | None = None  # int16 hxwx3: the region's fixed-point alpha, blended whole
    matte: np.ndarray | None = None  # float32 hxw: the region's matte, for the compiled blend


# Alpha as an integer of this many bits after the point: 1.0 is 2**14, which int16 holds, and
# (front - behind) * a stays below 2**22, exact in float32 too (the index path).
ALPHA_BITS = 14
_ONE = 1 << ALPHA_BITS
# Alpha below this leaves the background's uint8 value exactly as it is, and above 1 minus this
# gives the subject's: |difference * a| / 2**14 <= 255 * 32 / 2**14 < 0.5 rounds away. Exact:
# the output is the full blend's, byte for byte.
INVISIBLE_ALPHA = 1.0 / 512.0
# A region with more than this share of soft pixels is blended whole (a model's matte, never
# exactly 0 or 1, is soft far into the background). Measured on a 2 MP region, one thread: the
# blend by index costs as much as the whole region's at ~14% soft pixels (the preview, whose
# masks are made once per matte), masks and blend together at ~8% (the one-shot render's bands).
DENSE_SHARE = 0.125

# [INVISIBLE_ALPHA, 1 - INVISIBLE_ALPHA) as cv2.inRange's closed bounds, in float32.
_SOFT_LOW = float(np.float32(INVISIBLE_ALPHA))
_SOFT_HIGH = float(np.nextafter(np.float32(1.0 - INVISIBLE_ALPHA), np.float32(0)))
_INNER_LOW = float(np.float32(1.0 - INVISIBLE_ALPHA))
_INFINITY = float("inf")


def fixed_alpha(alpha: np.ndarray) -> np.ndarray:
    """int16: ``rint(alpha * 2**ALPHA_BITS)`` (half to even) of float32 alpha in [0, 1]."""
    import cv2

    alpha = np.ascontiguousarray(alpha, np.float32)
    if alpha.ndim < 2 or alpha.size <= 4:
        # numpy, not OpenCV: its binding takes a 1-D array of up to 4 values, or (OpenCV 5.1)
        # a 1x1 one beside a number, for a Scalar. The index path's soft pixels come here.
        return np.rint(alpha * np.float32(_ONE)).astype(np.int16)
    return cv2.multiply(alpha, float(_ONE), dtype=cv2.CV_16S).reshape(alpha.shape)


def blend_masks(alpha: np.ndarray) -> BlendMasks:
    """Masks for a float32 hxw matte region (values in [0, 1]); with the compiled pass, the
    region itself (kept, not copied: it must not change while the masks are in use).

    With OpenCV's inRange and findNonZero (one pass each, in row-major order like
    np.nonzero): numpy's comparisons, & and nonzero took 17 of a 12 MP render's ~80 ms of
    sharpening and blending CPU time, these 8."""
    import cv2

    if compiled.fused is not None:
        # The compiled blend needs no masks: one pass over the region skips the background,
        # copies the subject and blends the rest (docs/EFFECTS.md, issue 12's eighth session).
        # It reads rows where they lie: a view of the caller's matte, not a copy.
        if alpha.dtype != np.float32 or alpha.ndim != 2 or alpha.strides[1] != 4:
            alpha = np.ascontiguousarray(alpha, np.float32)
        return _blended_whole(matte=alpha)
    alpha = np.ascontiguousarray(alpha, np.float32)
    soft = cv2.inRange(alpha, _SOFT_LOW, _SOFT_HIGH)
    if cv2.countNonZero(soft) > DENSE_SHARE * alpha.size:
        return _blended_whole(dense=cv2.merge([fixed_alpha(alpha)] * 3).reshape(*alpha.shape, 3))
    inner = cv2.inRange(alpha, _INNER_LOW, _INFINITY)  # 255 where the subject shows as it is
    points = cv2.findNonZero(soft)
    if points is None:
        rows = cols = np.empty(0, np.intp)
    else:
        points = points.reshape(-1, 2)
        rows, cols = points[:, 1].astype(np.intp), points[:, 0].astype(np.intp)
    # Scaled once here, not at every blend (a power of two: still exactly the fixed-point value).
    edge_alpha = fixed_alpha(alpha[rows, cols]).astype(np.float32) * np.float32(1.0 / _ONE)
    return BlendMasks(inner, rows, cols, edge_alpha.reshape(-1, 1))


def _blended_whole(dense: np.ndarray | None = None, matte: np.ndarray | None = None) -> BlendMasks:
    """Masks of a region blended whole (by OpenCV from ``dense``, or by the compiled pass from
    ``matte``): no subject mask, no soft pixels by index."""
    empty = np.empty(0, np.intp)
    return BlendMasks(
        np.empty((0, 0), np.uint8), empty, empty, np.empty((0, 1), np.float32), dense, matte
    )


def blend_into(
    out: np.ndarray, region: tuple[slice, slice], subject: np.ndarray, masks: BlendMasks
) -> None:
    """``out[region] = behind + rint((subject - behind) * a / 2**14)``, ``behind`` being
    ``out[region]``, in place (``out``: a contiguous uint8 HxWx3; ``subject`` and ``masks``: the
    region's size). See the module's docstring for the arithmetic."""
    import cv2

    view = out[region]
    if masks.matte is not None:
        compiled.fused.blend(view, subject, masks.matte)  # type: ignore[union-attr]
        return
    if masks.dense is not None:
        # OpenCV's 16-bit multiply with a scale works in float32 and rounds half to even; the
        # product is below 2**22 and the scale a power of two, so only that rounding is inexact.
        difference = cv2.subtract(subject, view, dtype=cv2.CV_16S)
        cv2.multiply(difference, masks.dense, dst=difference, scale=1.0 / _ONE, dtype=cv2.CV_16S)
        view[...] = cv2.add(view, difference, dtype=cv2.CV_8U)
        return
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
    # The dense path's arithmetic in float32: difference * a is an integer below 2**22 and the
    # scale a power of two, so the product is exact until the one rounding.
    np.subtract(front, behind, out=front)
    np.multiply(front, masks.edge_alpha, out=front)
    np.rint(front, out=front)
    np.add(front, behind, out=front)
    np.put(pixels, at, front.astype(np.uint8).reshape(-1).view(_PIXEL))


_PIXEL = np.dtype((np.void, 3))


def _as_rgb(pixels: np.ndarray) -> np.ndarray:
    return pixels.view(np.uint8).reshape(-1, 3)
