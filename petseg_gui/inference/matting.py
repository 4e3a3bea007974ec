"""Class probabilities at the model's resolution -> soft alpha matte + trimap at the photo's.

The model sees the photo at ~224 px, so one model pixel covers ~18 pixels of a 12 MP photo:
bilinear upsampling alone gives a blurred staircase. An edge-aware filter guided by the photo
(He, Sun & Tang's guided filter, in its fast form: He & Sun 2015, arXiv:1505.00996) fits, in
every window, alpha ~ a . colour + b; a and b are smooth, so they are computed at a reduced
"guide" resolution and only upsampled and applied at full resolution. Where the photo shows
hair against a background the fitted alpha follows the colours, giving partial alpha instead
of a staircase. A colour guide separates a subject from a background of similar brightness but
different hue, which a grey guide cannot (see docs/INFERENCE.md for the measurement).

Everything is float32 and vectorised with OpenCV; the full-resolution pass runs in strips of
~128 rows so its temporaries stay in cache and no 12 MP float buffer besides the result exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from petseg_gui.contract.geometry import resize

SUBJECT, BACKGROUND, BOUNDARY = 0, 1, 2
# Guide alpha this close to 0 or 1 counts as settled: the full-resolution pass upsamples it
# instead of applying the colour term there (apply_at_full_resolution).
CONFIDENT = 0.02
# Full-resolution columns per block of that pass when it skips settled blocks (256 x 128 rows
# was fastest on a 12 MP people photo: smaller blocks cost calls, larger ones settle less often).
BLOCK_COLUMNS = 256
# A settled block whose guide alpha is this far inside a trimap threshold gets its class as a
# constant (bilinear upsampling never leaves the range of its samples; the margin covers the
# trimap's 8-bit rounding).
TRIMAP_MARGIN = 0.01


@dataclass(frozen=True)
class RefineParams:
    """Knobs of the full-resolution refinement (defaults measured in benchmarks/)."""

    # Window radius of the guided filter in MODEL pixels: the upsampled edge can be about a
    # model pixel off, the window must see both sides of the true edge.
    radius: float = 2.0
    # Regularisation (colours in [0, 1]): a colour step smaller than ~sqrt(eps) (~4/255) is
    # treated as texture, not edge. Lower was better on the known-edge scenes, JPEG included.
    eps: float = 3e-4
    # Long side of the guide image, and at least this many guide pixels per model pixel. One
    # guide pixel per model pixel is He & Sun's fast guided filter (coefficients on a subsampled
    # guide, applied at full resolution): against 2 per model pixel it was faster (12 MP: 4x
    # fewer guide pixels) and no worse: known-edge MAE 0.0091 vs 0.0122, people IoU 0.930 vs
    # 0.929 (docs/INFERENCE.md).
    guide_long_side: int = 256
    guide_per_model_pixel: float = 1.0
    color_guide: bool = True
    # Trimap: subject where alpha >= high, background where alpha <= low, boundary between.
    trimap_low: float = 0.1
    trimap_high: float = 0.9
    # Full-resolution rows per strip of the final pass (temporaries stay in cache).
    strip_rows: int = 128


def alpha_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """docs/INTERFACES.md section 5: alpha = p_subject + 0.5 p_boundary (float32, h x w)."""
    p = probabilities
    return cv2.addWeighted(
        np.ascontiguousarray(p[..., SUBJECT]), 1.0, np.ascontiguousarray(p[..., BOUNDARY]), 0.5, 0
    )


def boundary_mask(probabilities: np.ndarray) -> np.ndarray:
    """uint8: BOUNDARY where the boundary class wins, else 0."""
    p = probabilities
    wins = (p[..., BOUNDARY] > p[..., SUBJECT]) & (p[..., BOUNDARY] > p[..., BACKGROUND])
    return wins.astype(np.uint8) * BOUNDARY


def guide_factor(height: int, width: int, working_long_side: int, params: RefineParams) -> int:
    """Integer downscale factor k from the photo to the guide (k >= 1): the guide's long side
    is about ``params.guide_long_side``, and at least ``guide_per_model_pixel`` x the working
    resolution's long side.

    An integer factor keeps the full-resolution mapping exact and lets OpenCV's INTER_AREA
    take its fast path (7 ms instead of 16 ms for 12 MP).
    """
    long_side = max(params.guide_long_side, round(params.guide_per_model_pixel * working_long_side))
    return max(1, int(round(max(height, width) / max(1, long_side))))


def downscale(rgb: np.ndarray, k: int) -> np.ndarray:
    """Area-average ``rgb`` by the integer factor ``k``: (H // k, W // k). The < k leftover
    rows/columns at the bottom/right are dropped here and extrapolated at full resolution."""
    if k == 1:
        return rgb
    h, w = rgb.shape[0] // k, rgb.shape[1] // k
    return cv2.resize(rgb[: h * k, : w * k], (w, h), interpolation=cv2.INTER_AREA)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resample probabilities or images: area-average when shrinking, bilinear when growing
    (the contract's rule, which the trainer's letterbox follows too)."""
    return resize(image, height, width)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    size = 2 * radius + 1
    return cv2.boxFilter(image, -1, (size, size), borderType=cv2.BORDER_REFLECT)


def guided_coefficients(
    guide: np.ndarray,
    target: np.ndarray,
    radius: int,
    eps: float,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Window-averaged linear coefficients (mean_a, mean_b) of the guided filter.

    ``guide``: float32 h x w x C (C = 3 colour or 1 grey) in [0, 1]; ``target``: float32 h x w.
    The filtered output is ``sum_c mean_a[..., c] * guide[..., c] + mean_b``; returning the
    coefficients rather than the output is what lets them be applied to a larger guide.

    ``weights`` (float32 h x w, >= 0, optional): how much each pixel's target is trusted. The
    window fits and the averaging of the coefficients then use weighted means, so pixels of
    weight ~0 get their alpha from the colours of the trusted pixels around them (a brush
    stroke's unknown ring, edits/brush.py). Without weights this is the plain guided filter,
    computed exactly as before.
    """
    guide = guide.reshape(guide.shape[0], guide.shape[1], -1)
    channels = guide.shape[2]
    if weights is None:

        def mean(x: np.ndarray) -> np.ndarray:
            return _box(x, radius)
    else:
        w = np.ascontiguousarray(weights, dtype=np.float32)
        inv_total = 1.0 / np.maximum(_box(w, radius), np.float32(1e-6))

        def mean(x: np.ndarray) -> np.ndarray:
            if x.ndim == 2:
                return _box(x * w, radius) * inv_total
            m = _box(x * w[..., None], radius).reshape(x.shape)
            return m * inv_total[..., None]

    mean_i = mean(guide).reshape(guide.shape)
    mean_p = mean(target)
    mean_ip = mean(guide * target[..., None]).reshape(guide.shape)
    cov_ip = mean_ip - mean_i * mean_p[..., None]

    if channels == 1:
        var = mean(guide[..., 0] * guide[..., 0]) - mean_i[..., 0] ** 2
        a = (cov_ip[..., 0] / (var + eps))[..., None]
    else:
        r, g, b = guide[..., 0], guide[..., 1], guide[..., 2]
        # The six distinct entries of the per-pixel 3x3 colour covariance, one box filter call.
        products = np.stack([r * r, r * g, r * b, g * g, g * b, b * b], axis=2)
        sums = cv2.split(mean(products))
        mr, mg, mb = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
        rr = sums[0] - mr * mr + eps
        rg = sums[1] - mr * mg
        rb = sums[2] - mr * mb
        gg = sums[3] - mg * mg + eps
        gb = sums[4] - mg * mb
        bb = sums[5] - mb * mb + eps
        # Closed-form inverse of the symmetric 3x3 (Sigma + eps I): vectorised, no per-pixel
        # np.linalg.solve.
        c_rr = gg * bb - gb * gb
        c_rg = gb * rb - rg * bb
        c_rb = rg * gb - gg * rb
        c_gg = rr * bb - rb * rb
        c_gb = rb * rg - rr * gb
        c_bb = rr * gg - rg * rg
        inv_det = 1.0 / (rr * c_rr + rg * c_rg + rb * c_rb)
        cr, cg, cb = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
        a = np.stack(
            [
                (c_rr * cr + c_rg * cg + c_rb * cb) * inv_det,
                (c_rg * cr + c_gg * cg + c_gb * cb) * inv_det,
                (c_rb * cr + c_gb * cg + c_bb * cb) * inv_det,
            ],
            axis=2,
        )
    b = mean_p - np.einsum("hwc,hwc->hw", a, mean_i, optimize=False)
    if weights is not None:
        # Average each window's fit by how much it knew (its total weight): a window that saw
        # only untrusted pixels must not outvote one that saw the stroke and its surroundings.
        known = _box(w, radius)
        inv = 1.0 / np.maximum(_box(known, radius), np.float32(1e-6))
        weighted_a = (a * known[..., None]).astype(np.float32)
        mean_a = _box(weighted_a, radius).reshape(a.shape) * inv[..., None]
        mean_b = _box((b * known).astype(np.float32), radius) * inv
        return mean_a.astype(np.float32), mean_b.astype(np.float32)
    mean_a = _box(a.astype(np.float32), radius).reshape(a.shape)
    mean_b = _box(b.astype(np.float32), radius)
    return mean_a, mean_b


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
) -> tuple[np.ndarray, np.ndarray]:
    """alpha = clip(mean_a . rgb/255 + mean_b) and its trimap, at the photo's resolution.

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
    term only follows texture within 0.02 of 0 or 1: measured on a 12 MP people photo, at most
    0.005 apart from the full pass (mean 2e-5), and 16% of the pixels needed the colour term.

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
    edge = pad_g = None
    if channels and guide_alpha is not None:
        pad_g = _pad_edges(np.ascontiguousarray(guide_alpha, dtype=np.float32))
        partial = (pad_g > CONFIDENT) & (pad_g < 1.0 - CONFIDENT)
        edge = cv2.dilate((partial | (pad_t > 0)).astype(np.uint8), np.ones((3, 3), np.uint8))
    ones = np.ones((1, 3), np.float32)
    cols = max(1, BLOCK_COLUMNS // k) if edge is not None else gw

    alpha = np.empty((height, width), np.float32)
    trimap = np.empty((height, width), np.uint8)
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
            out = alpha[y0:y1, x0:x1]
            t_src = pad_t[block]
            if edge is not None and not edge[block].any():
                g_src = pad_g[block]  # type: ignore[index]
                out[...] = _upsample(g_src, k, n, m, cv2.INTER_LINEAR)
                low, high = params.trimap_low, params.trimap_high
                if g_src.max() < low - TRIMAP_MARGIN:
                    trimap[y0:y1, x0:x1] = BACKGROUND
                elif g_src.min() > high + TRIMAP_MARGIN:
                    trimap[y0:y1, x0:x1] = SUBJECT
                else:
                    trimap_from_alpha(out, None, low, high, out=trimap[y0:y1, x0:x1])
                continue
            b_up = _upsample(pad_b[block], k, n, m, cv2.INTER_LINEAR)
            if channels:
                a_up = _upsample(pad_a[block], k, n, m, cv2.INTER_LINEAR)
                if channels == 1:
                    luma = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
                    cv2.multiply(a_up.reshape(n, m), luma, dst=out, dtype=cv2.CV_32F)
                else:
                    cv2.multiply(a_up, rgb[y0:y1, x0:x1], dst=a_up, dtype=cv2.CV_32F)
                    cv2.transform(a_up, ones, dst=out)
                cv2.add(out, b_up, dst=out)
            else:
                out[...] = b_up
            np.clip(out, 0.0, 1.0, out=out)
            t_up = _upsample(t_src, k, n, m, cv2.INTER_NEAREST) if t_src.any() else None
            low, high = params.trimap_low, params.trimap_high
            trimap_from_alpha(out, t_up, low, high, out=trimap[y0:y1, x0:x1])
    return alpha, trimap


def refine(
    rgb: np.ndarray,
    guide_rgb: np.ndarray,
    k: int,
    probabilities: np.ndarray,
    params: RefineParams,
    *,
    enabled: bool = True,
    check: Callable[[], None] = lambda: None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution (alpha, trimap) of ``rgb`` from ``probabilities`` covering the photo.

    ``guide_rgb`` is ``downscale(rgb, k)``; ``enabled=False`` gives plain bilinear upsampling
    of the probabilities' alpha (the unrefined baseline, same trimap rule).
    """
    gh, gw = guide_rgb.shape[:2]
    probs = resize_to(probabilities, gh, gw)
    target = alpha_from_probabilities(probs)
    boundary = boundary_mask(probs)
    if not enabled:
        return apply_at_full_resolution(rgb, None, target, boundary, k, params, check)
    model_px = max(gh, gw) / max(probabilities.shape[:2])  # guide pixels per model pixel
    radius = max(1, int(round(params.radius * model_px)))
    guide = guide_rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    if not params.color_guide:
        guide = cv2.cvtColor(guide, cv2.COLOR_RGB2GRAY)
    check()
    mean_a, mean_b = guided_coefficients(guide, target, radius, params.eps)
    guide_alpha = (
        np.einsum(
            "hwc,hwc->hw", mean_a.reshape(*mean_b.shape, -1), guide.reshape(*mean_b.shape, -1)
        )
        + mean_b
    )
    np.clip(guide_alpha, 0.0, 1.0, out=guide_alpha)
    return apply_at_full_resolution(
        rgb, mean_a, mean_b, boundary, k, params, check, guide_alpha=guide_alpha
    )
