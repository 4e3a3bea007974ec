"""Class probabilities at the model's resolution -> soft alpha matte + trimap at the photo's.

The model sees the photo at ~224 px, so one model pixel covers ~18 pixels of a 12 MP photo:
bilinear upsampling alone gives a blurred staircase. An edge-aware filter guided by the photo
(He, Sun & Tang's guided filter, in its fast form: He & Sun 2015, arXiv:1505.00996) fits, in
every window, alpha ~ a . colour + b; a and b are smooth, so they are computed at a reduced
"guide" resolution and only upsampled and applied at full resolution. Where the photo shows
hair against a background the fitted alpha follows the colours, giving partial alpha instead
of a staircase. A colour guide separates a subject from a background of similar brightness but
different hue, which a grey guide cannot (see docs/INFERENCE.md for the measurement).

Everything is float32 and vectorised with OpenCV; the full-resolution pass (full_resolution.py)
runs in strips of ~128 rows so its temporaries stay in cache and no 12 MP float buffer besides
the result exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from petseg_gui.contract.geometry import resize
from petseg_gui.inference import full_resolution

# The full-resolution pass and the trimap rule live in full_resolution.py (module size); they are
# re-exported here, where edits/ and the tests import them from.
from petseg_gui.inference.full_resolution import (  # noqa: F401
    BACKGROUND,
    BOUNDARY,
    SUBJECT,
    apply_at_full_resolution,
    trimap_from_alpha,
)


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
    native = full_resolution.native
    if channels == 3 and native is not None:
        # The same algebra in C (_matte.c), without numpy's ~40 temporaries: a 0.2 MP photo's
        # guide (k = 1) 22 -> 12 ms.
        height, width = guide.shape[:2]
        products = np.empty((height, width, 6), np.float32)
        native.colour_products(np.ascontiguousarray(guide, np.float32), products)
        sums = np.ascontiguousarray(mean(products), np.float32)
        a, b = np.empty((height, width, 3), np.float32), np.empty((height, width), np.float32)
        means = (np.ascontiguousarray(m, np.float32) for m in (mean_i, mean_p, mean_ip))
        native.colour_fit(sums, *means, float(eps), a, b)
    else:
        cov_ip = mean_ip - mean_i * mean_p[..., None]
        if channels == 1:
            var = mean(guide[..., 0] * guide[..., 0]) - mean_i[..., 0] ** 2
            a = (cov_ip[..., 0] / (var + eps))[..., None]
        else:
            a = _colour_fit(guide, mean, mean_i, cov_ip, eps)
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


def _colour_fit(guide, mean, mean_i, cov_ip, eps):  # noqa: ANN001, ANN202 - guided_coefficients'
    """The colour guided filter's a: (Sigma + eps I)^-1 cov(I, p) per pixel, in numpy."""
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
    return np.stack(
        [
            (c_rr * cr + c_rg * cg + c_rb * cb) * inv_det,
            (c_rg * cr + c_gg * cg + c_gb * cb) * inv_det,
            (c_rb * cr + c_gb * cg + c_bb * cb) * inv_det,
        ],
        axis=2,
    )


def refine(
    rgb: np.ndarray,
    guide_rgb: np.ndarray,
    k: int,
    probabilities: np.ndarray,
    params: RefineParams,
    *,
    enabled: bool = True,
    check: Callable[[], None] = lambda: None,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution (alpha, trimap) of ``rgb`` from ``probabilities`` covering the photo
    (written into ``out`` when given: apply_at_full_resolution).

    ``guide_rgb`` is ``downscale(rgb, k)``; ``enabled=False`` gives plain bilinear upsampling
    of the probabilities' alpha (the unrefined baseline, same trimap rule).
    """
    gh, gw = guide_rgb.shape[:2]
    probs = resize_to(probabilities, gh, gw)
    target = alpha_from_probabilities(probs)
    boundary = boundary_mask(probs)
    if not enabled:
        return apply_at_full_resolution(rgb, None, target, boundary, k, params, check, out=out)
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
        rgb, mean_a, mean_b, boundary, k, params, check, guide_alpha=guide_alpha, out=out
    )
