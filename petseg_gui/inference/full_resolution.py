"""The last stage of the refinement: the guided filter's coefficients, fitted at the guide
resolution, applied to the full-resolution photo; and the trimap rule.

The pass runs in C (``_matte.c``) where setup.py built it: one sweep per strip that reads each
photo pixel once, where the OpenCV path below makes ~12 calls per block of 128 x 256 pixels, each
with its temporaries. On a 12 MP photo, settled blocks skipped: 19 ms on one core, 11-12 ms with
the strips on both (parallel.py; its row loops built for AVX2 too where GCC can), against 44-47
ms; the same numbers within float32 rounding (tests/test_matte_native.py). ``native`` is the
switch, read at call time; None: the OpenCV path.

(The OpenCV path stays on the calling thread: OpenCV already spreads its larger calls over the
cores, and with its strips on two threads the pass over a 12 MP photo took 52 ms against 47 ms,
interleaved medians of 21.)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from petseg_gui import native as _native
from petseg_gui import parallel

if TYPE_CHECKING:
    from petseg_gui.inference.matting import RefineParams

SUBJECT, BACKGROUND, BOUNDARY = 0, 1, 2
# Guide alpha this close to 0 or 1 counts as settled: the full-resolution pass upsamples it
# instead of applying the colour term there (apply_at_full_resolution). 0.05 (0.02 until issue
# 12): on the 12 MP people photo 128 of 400 blocks instead of 157 take the colour term, and the
# alpha stays within 0.0032 of the full pass everywhere (under one 8-bit level; 0.02: 0.0013).
CONFIDENT = 0.05
# Full-resolution columns per block of that pass when it skips settled blocks (256 x 128 rows
# was fastest on a 12 MP people photo: smaller blocks cost calls, larger ones settle less often).
BLOCK_COLUMNS = 256
# A settled block whose guide alpha is this far inside a trimap threshold gets its class as a
# constant (bilinear upsampling never leaves the range of its samples; the margin covers the
# trimap's 8-bit rounding).
TRIMAP_MARGIN = 0.01

# The arguments and meaning of _matte.c's functions this version calls them with (its INTERFACE;
# matting.py calls its colour_products and colour_fit).
INTERFACE = 2
native, stale = _native.load("petseg_gui.inference._matte", INTERFACE)


def status() -> str:
    """One line for ``petseg --version`` and the About box: how the matte's compiled passes run
    (this one, and the guided filter's colour algebra in matting.py)."""
    if native is not None:
        return "Matte: compiled passes (C)"
    why = (
        "built for another version of petseg: reinstall petseg to rebuild it"
        if stale
        else "installed without a C compiler: install one and reinstall petseg to build it"
    )
    return f"Matte: OpenCV and numpy passes ({why}; segmenting a photo is slower)"


def trimap_from_alpha(
    alpha: np.ndarray,
    boundary: np.ndarray | None,
    low: float,
    high: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """uint8 trimap: SUBJECT where alpha >= high, BACKGROUND where <= low, else BOUNDARY; also
    BOUNDARY wherever ``boundary`` (uint8, 0 or BOUNDARY) says the model saw a boundary."""
    quantised = cv2.convertScaleAbs(alpha, alpha=255.0)  # saturating round to 0..255
    trimap = cv2.LUT(quantised, _trimap_lut(low, high), dst=out)
    if boundary is not None:
        # BOUNDARY (2) is the largest class index, so "or boundary" is a per-pixel max.
        cv2.max(trimap, boundary, dst=trimap)
    return trimap


@lru_cache(maxsize=8)
def _trimap_lut(low: float, high: float) -> np.ndarray:
    lut = np.full(256, BOUNDARY, np.uint8)
    levels = np.arange(256) / 255.0
    lut[levels <= low] = BACKGROUND
    lut[levels >= high] = SUBJECT
    return lut


def _pad_edges(image: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(image, 1, 1, 1, 1, cv2.BORDER_REPLICATE)


def _upsample(src: np.ndarray, k: int, rows: int, cols: int, interpolation: int) -> np.ndarray:
    """Upsample a padded guide block (its first and last row/column are the margin) by exactly
    k and return the (rows, cols) full-resolution pixels it stands for."""
    up = cv2.resize(src, (src.shape[1] * k, src.shape[0] * k), interpolation=interpolation)
    return up[k : k + rows, k : k + cols]


def apply_at_full_resolution(
    rgb: np.ndarray,
    mean_a: np.ndarray | None,
    mean_b: np.ndarray,
    boundary: np.ndarray,
    k: int,
    params: RefineParams,
    check: Callable[[], None] = lambda: None,
    guide_alpha: np.ndarray | None = None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """alpha = clip(mean_a . rgb/255 + mean_b) and its trimap, at the photo's resolution;
    written into ``out`` (float32 and uint8, C-contiguous, the photo's height and width) when
    given, e.g. the segmenter child's shared block (no fresh pages, no copy there).

    ``mean_a`` (gh x gw x C, or None for plain bilinear upsampling of ``mean_b``), ``mean_b``
    and ``boundary`` are at the guide resolution (gh, gw) = (H // k, W // k). The photo is done
    in strips of rows; each strip's guide rows are bilinearly upsampled by exactly k with a
    one-pixel margin (replicated at the photo's border), so strips join without seams and pixel
    (y, x) maps to guide ((y + .5) / k - .5, ...) everywhere, the leftover < k rows/columns
    included. ``check`` is called between strips (cancellation).

    ``guide_alpha`` (gh x gw, the filter's output at the guide resolution, clipped): when given,
    only blocks of a strip near partial alpha (guide alpha within ``CONFIDENT`` of neither 0
    nor 1, or a model boundary, one guide pixel around) take the colour term; the confident rest
    is ``guide_alpha`` upsampled (one channel instead of four, no products). There the colour
    term only follows texture within 0.05 of 0 or 1: measured on a 12 MP people photo, at most
    0.0032 apart from the full pass (mean 1e-5), and 10% of the guide pixels needed it.

    (Tried: skipping the colour term in blocks far from edges, judged on the probabilities. A
    real model's probabilities are not flat enough there for that to pay: 20% of blocks.)
    """
    height, width = rgb.shape[:2]
    gh, gw = mean_b.shape
    rows = max(1, params.strip_rows // k)
    channels = 0 if mean_a is None else mean_a.reshape(gh, gw, -1).shape[2]
    pad_b = _pad_edges(mean_b)
    pad_t = _pad_edges(boundary)
    if channels:
        # Fold the photo's 1/255 into a, so the uint8 photo is used as is (no 12 MP float copy).
        pad_a = _pad_edges(mean_a.reshape(gh, gw, channels) * np.float32(1.0 / 255.0))
        pad_a = pad_a.reshape(gh + 2, gw + 2, channels)
    pad_g = None
    cols = gw
    if channels and guide_alpha is not None:
        pad_g = _pad_edges(np.ascontiguousarray(guide_alpha, dtype=np.float32))
        cols = max(1, BLOCK_COLUMNS // k)
    modes = _block_modes(pad_g, pad_t, rows, cols)
    low, high = params.trimap_low, params.trimap_high

    if out is None:
        out = np.empty((height, width), np.float32), np.empty((height, width), np.uint8)
    alpha, trimap = out
    if native is not None and channels != 1:  # (a grey guide's term: the OpenCV path)
        empty = np.empty(0, np.float32)
        lut = _trimap_lut(low, high)
        # The LUT's rule as thresholds on the rounded level: background up to low_q, subject from
        # high_q (it is monotonic).
        low_q = int(np.count_nonzero(lut == BACKGROUND)) - 1
        high_q = 256 - int(np.count_nonzero(lut == SUBJECT))
        # The C takes float32 and uint8 only (a caller's float64 coefficients work on OpenCV).
        rgb = np.ascontiguousarray(rgb)
        coeffs = np.ascontiguousarray(pad_a, np.float32) if channels == 3 else empty
        offsets = np.ascontiguousarray(pad_b, np.float32)
        labels = np.ascontiguousarray(pad_t, np.uint8)
        settled = pad_g if pad_g is not None else empty
        pass_ = native.matte_rows

        def band(guide_rows: slice) -> None:
            for g0 in range(guide_rows.start, guide_rows.stop, rows):
                check()
                g1 = min(gh, g0 + rows)
                y0, y1 = g0 * k, (height if g1 == gh else g1 * k)
                geometry = (k, rows, cols, low_q, high_q, y0, y1)
                pass_(rgb, coeffs, offsets, labels, settled, modes, geometry, alpha, trimap)

        # Whole strips on both cores (a 12 MP photo: 11-12 ms against 19 ms on one).
        parallel.map_bands(band, parallel.row_bands(gh, height * width, multiple=rows))
        return alpha, trimap

    ones = np.ones((1, 3), np.float32)

    for g0 in range(0, gh, rows):
        check()
        g1 = min(gh, g0 + rows)
        y0, y1 = g0 * k, (height if g1 == gh else g1 * k)
        for c0 in range(0, gw, cols):
            c1 = min(gw, c0 + cols)
            x0, x1 = c0 * k, (width if c1 == gw else c1 * k)
            n, m = y1 - y0, x1 - x0
            # Padded rows g0 .. g1+1 are guide rows g0-1 .. g1 (one margin row each side).
            block = (slice(g0, g1 + 2), slice(c0, c1 + 2))
            dst = alpha[y0:y1, x0:x1]
            t_src = pad_t[block]
            if not modes[g0 // rows, c0 // cols]:
                g_src = pad_g[block]  # type: ignore[index]
                dst[...] = _upsample(g_src, k, n, m, cv2.INTER_LINEAR)
                if g_src.max() < low - TRIMAP_MARGIN:
                    trimap[y0:y1, x0:x1] = BACKGROUND
                elif g_src.min() > high + TRIMAP_MARGIN:
                    trimap[y0:y1, x0:x1] = SUBJECT
                else:
                    trimap_from_alpha(dst, None, low, high, out=trimap[y0:y1, x0:x1])
                continue
            b_up = _upsample(pad_b[block], k, n, m, cv2.INTER_LINEAR)
            if channels:
                a_up = _upsample(pad_a[block], k, n, m, cv2.INTER_LINEAR)
                if channels == 1:
                    luma = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
                    cv2.multiply(a_up.reshape(n, m), luma, dst=dst, dtype=cv2.CV_32F)
                else:
                    cv2.multiply(a_up, rgb[y0:y1, x0:x1], dst=a_up, dtype=cv2.CV_32F)
                    cv2.transform(a_up, ones, dst=dst)
                cv2.add(dst, b_up, dst=dst)
            else:
                dst[...] = b_up
            # Clip to [0, 1] with two thresholds: 4 us each per block against np.clip's 17.
            cv2.threshold(dst, 1.0, 0.0, cv2.THRESH_TRUNC, dst=dst)
            cv2.threshold(dst, 0.0, 0.0, cv2.THRESH_TOZERO, dst=dst)
            t_up = _upsample(t_src, k, n, m, cv2.INTER_NEAREST) if t_src.any() else None
            trimap_from_alpha(dst, t_up, low, high, out=trimap[y0:y1, x0:x1])

    return alpha, trimap


def _block_modes(pad_g: np.ndarray | None, pad_t: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """uint8 (strips x blocks) of apply_at_full_resolution's blocks: 1 where a block takes the
    colour term, 0 where it is settled (``pad_g``, the padded guide alpha, within ``CONFIDENT``
    of 0 or 1 and no model boundary, its one-pixel margin included). All 1 without ``pad_g``."""
    gh, gw = pad_t.shape[0] - 2, pad_t.shape[1] - 2
    starts_y, starts_x = np.arange(0, gh, rows), np.arange(0, gw, cols)
    if pad_g is None:
        return np.ones((len(starts_y), len(starts_x)), np.uint8)
    partial = (pad_g > CONFIDENT) & (pad_g < 1.0 - CONFIDENT)
    edge = cv2.dilate((partial | (pad_t > 0)).astype(np.uint8), np.ones((3, 3), np.uint8))
    # A block's padded rows g0 .. g1+1 and columns c0 .. c1+1: sums over them from the integral
    # image (each block's own and its margins').
    total = cv2.integral(edge)
    y0, y1 = starts_y, np.minimum(gh, starts_y + rows) + 2
    x0, x1 = starts_x, np.minimum(gw, starts_x + cols) + 2
    sums = (
        total[np.ix_(y1, x1)]
        - total[np.ix_(y0, x1)]
        - total[np.ix_(y1, x0)]
        + total[np.ix_(y0, x0)]
    )
    return (sums > 0).astype(np.uint8)
