"""Lens blur: a disk (aperture-shaped) kernel in linear light, with highlights boosted so small
lights bloom into bokeh discs, and the subject masked out by normalised convolution.

Normalised convolution: with background weights ``w`` (about ``1 - alpha``), the blurred
background is ``blur(rgb * w) / blur(w)``. Subject pixels carry no weight, so their colours
never smear into the background (no halo), and the division refills the area behind the subject
from nearby background. Keeping ``rgb * w`` and ``w`` together as one 4-channel image
means every resampling step (area downscale, disk blur) treats them identically.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Highlight expansion (linear light): a pixel whose brightest channel m is above THRESHOLD is
# scaled by a gain rising smoothly to GAIN at m = 1. A clipped sensor value stands for "at least
# this bright"; expanding it lets a small light spread into a bright bokeh disc instead of a dim
# smudge. After the blur the expansion is inverted (compress_highlights), so an evenly bright
# area (sky, water, a white wall) comes back at its own brightness instead of blowing out:
# only highlights brighter than their surroundings gain energy.
HIGHLIGHT_THRESHOLD = 0.6
HIGHLIGHT_GAIN = 8.0

# Constant weight of the fallback colour in every blurred pixel (see blend_normalised). A disk
# with even one background pixel of a few hundred weighs >= 1e-2, so the fallback moves real
# backgrounds by < 1%; only where there is no background does it take over.
FILL_WEIGHT = 1e-4

# Rows of full-resolution photo turned into premultiplied light at a time (background_pyramid):
# 256 rows of a 6000 px wide photo are ~25 MB of float temporaries.
BAND_ROWS = 256


# Kernels up to this radius are cheaper by direct convolution than by numpy's FFT (measured on
# 2 cores: radius 6 direct 8 ms vs FFT 30 ms on an 800x600 4-channel image).
DIRECT_MAX_RADIUS = 12.0


@lru_cache(maxsize=1)
def _srgb_to_linear_table() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


def linear_to_srgb_u8(linear: np.ndarray) -> np.ndarray:
    """Linear light (float array, clipped to [0, 1]) -> sRGB uint8.

    By a table indexed on sqrt(x), which spaces its entries like the eye (and the sRGB curve)
    does: within 1 code of the exact conversion, 3x faster than evaluating the power curve.
    """
    x = np.clip(linear, 0.0, 1.0, dtype=np.float32)
    np.sqrt(x, out=x)
    x *= _SRGB_ENCODE_STEPS - 1
    x += 0.5
    return _srgb_encode_table()[x.astype(np.intp)]


_SRGB_ENCODE_STEPS = 4096


@lru_cache(maxsize=1)
def _srgb_encode_table() -> np.ndarray:
    x = (np.arange(_SRGB_ENCODE_STEPS, dtype=np.float64) / (_SRGB_ENCODE_STEPS - 1)) ** 2
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)


def _gain(m: np.ndarray) -> np.ndarray:
    """Expansion factor for brightest-channel values ``m`` (linear, float64)."""
    t = np.clip((m - HIGHLIGHT_THRESHOLD) / (1.0 - HIGHLIGHT_THRESHOLD), 0.0, 1.0)
    return 1.0 + (HIGHLIGHT_GAIN - 1.0) * t * t * (3 - 2 * t)  # smoothstep: no visible onset


@lru_cache(maxsize=1)
def _highlight_boost_table() -> np.ndarray:
    """float32[256]: extra gain (factor - 1) by the sRGB code of a pixel's brightest channel."""
    return (_gain(_srgb_to_linear_table().astype(np.float64)) - 1.0).astype(np.float32)


_COMPRESSION_STEPS = 4096


@lru_cache(maxsize=1)
def _compression_table() -> np.ndarray:
    """float32[_COMPRESSION_STEPS]: gain^-1 sampled evenly over the expanded range
    [THRESHOLD, GAIN]; a table lookup is ~4x faster than np.interp on a preview frame."""
    m = np.linspace(HIGHLIGHT_THRESHOLD, 1.0, 8192)
    expanded = m * _gain(m)
    even = np.linspace(HIGHLIGHT_THRESHOLD, HIGHLIGHT_GAIN, _COMPRESSION_STEPS)
    return np.interp(even, expanded, m).astype(np.float32)


def compress_highlights(planes: list[np.ndarray]) -> list[np.ndarray]:
    """Invert the highlight expansion on blurred linear colour planes (R, G, B; in place).

    Scales each pixel so its brightest channel m becomes gain^-1(m) (m > 1 after expansion,
    i.e. brighter than white, ends at 1). Keeps hue: all channels share the factor.
    """
    red, green, blue = planes
    brightest = np.maximum(np.maximum(red, green), blue).reshape(-1)
    lit = np.flatnonzero(brightest > HIGHLIGHT_THRESHOLD)
    if lit.size:
        m = brightest[lit]
        step = (_COMPRESSION_STEPS - 1) / (HIGHLIGHT_GAIN - HIGHLIGHT_THRESHOLD)
        index = np.minimum((m - HIGHLIGHT_THRESHOLD) * step + 0.5, _COMPRESSION_STEPS - 1)
        factor = _compression_table()[index.astype(np.intp)] / m
        for plane in planes:
            plane.reshape(-1)[lit] *= factor
    return planes


def background_weight(alpha: np.ndarray) -> np.ndarray:
    """float32 HxW weight of each pixel as background for the normalised convolution.

    ``(1 - alpha)**2`` rather than ``1 - alpha``: a half-covered edge pixel is half subject
    colour, so it gets a quarter of the weight, which keeps a soft matte's fringe out too.
    Pure subject pixels get exactly 0: in linear light a bright subject is ~100x a dark
    background, so even a 0.1% weight would tint the background near it.
    """
    w = 1.0 - alpha
    np.multiply(w, w, out=w)
    return w


def premultiplied_background(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(linear rgb, highlights expanded, * w: float32 HxWx3; w: float32 HxW) for a uint8 photo.

    Computed at full resolution (before any downscale) so small highlights keep their energy.
    Only background highlights are expanded (fading out as alpha reaches 0.5): a bright subject
    edge must not bloom into the background.
    """
    import cv2

    h, w_ = alpha.shape
    lin = cv2.LUT(rgb, _srgb_to_linear_table()).reshape(h, w_, 3)
    weight = background_weight(alpha)
    scale = weight.copy()
    # Highlights are a small share of a photo: expand them by index instead of running
    # full-image float passes for a factor that is 1 almost everywhere.
    brightest = cv2.max(cv2.max(rgb[..., 0], rgb[..., 1]), rgb[..., 2]).reshape(-1)
    lit = np.flatnonzero(brightest >= _first_boosted_code())
    if lit.size:
        boost = _highlight_boost_table()[brightest[lit]]
        in_background = np.clip(1.0 - 2.0 * alpha.reshape(-1)[lit], 0.0, 1.0)
        scale.reshape(-1)[lit] *= 1.0 + boost * in_background
    np.multiply(lin, scale[..., None], out=lin)
    return lin, weight


@lru_cache(maxsize=1)
def _first_boosted_code() -> int:
    return int(np.argmax(_highlight_boost_table() > 0))


def area_pyramid(
    premult: np.ndarray, weight: np.ndarray, top_side: int, *, min_side: int = 32
) -> list[np.ndarray]:
    """``[premult, weight]`` (4 channels, float32) area-averaged to a longer side of at most
    ``top_side`` (never enlarged), then halved until the longer side is below ``min_side``.
    """
    import cv2

    h, w = weight.shape
    th, tw = _top_level_shape(h, w, top_side)
    # Shrink the 3- and 1-channel parts separately: stacking them first would make one more
    # full-resolution copy (190 MB at 12 MP) just to shrink it.
    if (th, tw) != (h, w):
        premult = cv2.resize(premult, (tw, th), interpolation=cv2.INTER_AREA)
        weight = cv2.resize(weight, (tw, th), interpolation=cv2.INTER_AREA)
    top = np.dstack([premult.reshape(th, tw, 3), weight.reshape(th, tw, 1)])
    return _halvings(top, min_side)


def background_pyramid(
    rgb: np.ndarray,
    alpha: np.ndarray,
    top_side: int,
    *,
    min_side: int = 32,
    band_rows: int = BAND_ROWS,
) -> list[np.ndarray]:
    """``area_pyramid(*premultiplied_background(rgb, alpha), top_side)``, built band by band.

    The whole-image version holds ~7 float copies of the photo's size at once (770 MB at
    24 MP). Here the premultiplied background only ever exists for ``band_rows`` rows, each
    band shrunk at once. OpenCV's area resampling is separable and computes a row's horizontal
    sums before weighting rows, so shrinking every band horizontally and then the stacked
    result (h x top-width x 4, 41 MB at 24 MP) vertically does the same arithmetic in the same
    order as one 2-D resize. Integer factors take OpenCV's block-average path instead, which is
    local to blocks of rows: bands of whole blocks are shrunk directly. Either way the levels
    are bit-identical to the whole-image build (tests/test_effects.py), except when only the
    width is a whole multiple (e.g. 1920x1280): the horizontal pass then takes the block path
    and values differ by float rounding (~1e-7 relative).
    """
    import cv2

    h, w = alpha.shape
    th, tw = _top_level_shape(h, w, top_side)
    if (th, tw) == (h, w) or h <= band_rows:
        return area_pyramid(*premultiplied_background(rgb, alpha), top_side, min_side=min_side)
    block = h // th if h % th == 0 and w % tw == 0 else 1  # rows per output row in a band
    step = max(block, band_rows // block * block)
    shrunk = np.empty((h // block, tw, 4), np.float32)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        premult, weight = premultiplied_background(rgb[y0:y1], alpha[y0:y1])
        size = (tw, (y1 - y0) // block)
        rows = slice(y0 // block, y1 // block)
        shrunk[rows, :, :3] = cv2.resize(premult, size, interpolation=cv2.INTER_AREA)
        shrunk[rows, :, 3] = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    if shrunk.shape[0] != th:
        shrunk = cv2.resize(shrunk, (tw, th), interpolation=cv2.INTER_AREA).reshape(th, tw, 4)
    return _halvings(shrunk, min_side)


def _top_level_shape(h: int, w: int, top_side: int) -> tuple[int, int]:
    scale = min(1.0, top_side / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def _halvings(top: np.ndarray, min_side: int) -> list[np.ndarray]:
    """``[top, top / 2, top / 4, ...]`` (area-averaged) while the longer side is >= 2 min_side."""
    import cv2

    levels = [top]
    th, tw = top.shape[:2]
    while max(th, tw) >= 2 * min_side:
        th, tw = max(1, th // 2), max(1, tw // 2)
        levels.append(
            cv2.resize(levels[-1], (tw, th), interpolation=cv2.INTER_AREA).reshape(th, tw, 4)
        )
    return levels


def disk_kernel(radius: float) -> np.ndarray:
    """See _disk_kernel. Radii are rounded to 1/32 px (invisible) so that a slider drag reuses
    kernels instead of rebuilding one per frame."""
    return _disk_kernel(max(round(float(radius) * 32) / 32, 0.5))


@lru_cache(maxsize=64)
def _disk_kernel(radius: float) -> np.ndarray:
    """float32 (2k+1)x(2k+1) disk of the given radius, antialiased by pixel coverage, sum 1.

    Coverage (16x16 samples per pixel) gives sub-pixel radii and smooth edges, so a small work
    resolution still draws round discs and radius changes animate smoothly.
    """
    k = int(np.ceil(radius - 0.5))
    n = 16
    offsets = (np.arange(n) + 0.5) / n - 0.5
    grid = np.arange(-k, k + 1, dtype=np.float64)
    sub = (grid[:, None] + offsets[None, :]).ravel()
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2) <= radius * radius
    cover = inside.reshape(2 * k + 1, n, 2 * k + 1, n).mean(axis=(1, 3))
    kernel = (cover / cover.sum()).astype(np.float32)
    kernel.setflags(write=False)
    return kernel


def disk_blurs(image: np.ndarray, radii: list[float]) -> list[np.ndarray]:
    """``image`` (HxWxC float32) blurred with a disk of each radius; zeros beyond the border.

    Zero padding is what normalised convolution wants: outside the image there is no
    background (weight 0), so the division renormalises at the border instead of darkening.
    Radii up to DIRECT_MAX_RADIUS (all of the fast path) use direct convolution; larger ones (the
    exact reference) go through one shared forward FFT, so extra radii cost one inverse each.
    """
    h, w, c = image.shape
    results: list[np.ndarray | None] = [None] * len(radii)
    large = []
    for i, r in enumerate(radii):
        if r <= DIRECT_MAX_RADIUS:
            results[i] = _direct_convolution(image, disk_kernel(r))
        else:
            large.append(i)
    if large:
        blurred_large = _fft_convolutions(image, [radii[i] for i in large])
        for i, blurred in zip(large, blurred_large, strict=True):
            results[i] = blurred
    return results  # type: ignore[return-value]


# OpenCV's filter2D switches float32 kernels of this many taps or more to its DFT path, which is
# 3-5x slower than direct convolution at the kernel sizes used here.
_CV_DFT_TAPS = 130


def _direct_convolution(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """filter2D with zero borders, split into row strips each below OpenCV's DFT switch."""
    import cv2

    h, w, c = image.shape
    n = kernel.shape[0]
    if n * n < _CV_DFT_TAPS:
        blurred = cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        return blurred.reshape(h, w, c)
    half = n // 2
    # Zero rows above and below, so each strip can be anchored on its own first row: the
    # result for image row y from kernel rows y0.. lands on padded row y + y0.
    padded = cv2.copyMakeBorder(image, half, half, 0, 0, cv2.BORDER_CONSTANT, value=0)
    padded = padded.reshape(h + 2 * half, w, c)
    strip = max(1, (_CV_DFT_TAPS - 1) // n)
    total = np.zeros((h, w, c), np.float32)
    for y0 in range(0, n, strip):
        part = np.ascontiguousarray(kernel[y0 : y0 + strip])
        rows = part.shape[0]
        window = padded[y0 : y0 + h + rows - 1]
        blurred = cv2.filter2D(window, -1, part, anchor=(half, 0), borderType=cv2.BORDER_CONSTANT)
        total += blurred.reshape(window.shape)[:h]
    return total


def _fft_convolutions(image: np.ndarray, radii: list[float]) -> list[np.ndarray]:
    """Disk blurs by FFT (zero padding), sharing the image's forward transform."""
    import cv2

    h, w, _ = image.shape
    pad = int(np.ceil(max(radii))) + 1
    fh, fw = cv2.getOptimalDFTSize(h + pad), cv2.getOptimalDFTSize(w + pad)
    spectrum = np.fft.rfft2(np.moveaxis(image, 2, 0), s=(fh, fw))
    results = []
    for radius in radii:
        kernel = disk_kernel(radius)
        k = kernel.shape[0] // 2
        # Kernel centred on (0, 0) with wrap-around, so the result needs no shift.
        padded = np.zeros((fh, fw), np.float32)
        padded[: k + 1, : k + 1] = kernel[k:, k:]
        padded[: k + 1, fw - k :] = kernel[k:, :k]
        padded[fh - k :, : k + 1] = kernel[:k, k:]
        padded[fh - k :, fw - k :] = kernel[:k, :k]
        blurred = np.fft.irfft2(spectrum * np.fft.rfft2(padded), s=(fh, fw))
        results.append(np.ascontiguousarray(np.moveaxis(blurred[:, :h, :w], 0, 2)))
    return results


def mean_background(stack: np.ndarray) -> np.ndarray:
    """float32[3]: the photo's average background colour (linear) from a ``[rgb * w, w]`` stack;
    mid grey when there is no background at all (then it is never seen)."""
    sums = stack.reshape(-1, 4).sum(axis=0, dtype=np.float64)
    if sums[3] <= 0:
        return np.full(3, 0.2, np.float32)
    return (sums[:3] / sums[3]).astype(np.float32)


def blend_normalised(
    blurred: list[np.ndarray], weights: list[np.ndarray], fill: np.ndarray
) -> list[np.ndarray]:
    """float32 HxW planes R, G, B: sum of ``weights[i] * colour(blurred[i])`` over the levels.

    Each ``blurred[i]`` is a blurred ``[rgb * w, w]`` stack; its colour is the weighted mean of
    the background, ``rgb*w / w``. Where a disk holds no background at all (deep inside a
    large subject) the colour falls back to ``fill``, through a tiny constant weight
    (FILL_WEIGHT), instead of 0: upsampling mixes such pixels into the neighbours, and black
    there would darken matte holes and soft edges. Works on separate planes: strided channel
    slices of the 4-channel stack would make every step several times slower.
    """
    import cv2

    # sum_i lw_i (c_i + F fill) / (w_i + F) = sum_i s_i c_i + F fill sum_i s_i, s_i = lw_i/(w_i+F):
    # one fused multiply-add per colour plane and level (cv2.accumulateProduct), no temporaries;
    # ~30% less work than scaling each level's colours first (same values to ~1e-7).
    total: list[np.ndarray] | None = None
    scale_sum: np.ndarray | None = None
    for stack, level_weight in zip(blurred, weights, strict=True):
        *colour, weight = cv2.split(stack)
        if colour[0].ndim == 1:  # cv2.split drops a dimension of 1-pixel-wide images
            colour, weight = (
                [c.reshape(level_weight.shape) for c in colour],
                weight.reshape(level_weight.shape),
            )
        cv2.add(weight, FILL_WEIGHT, dst=weight)
        scale = cv2.divide(level_weight, weight).reshape(level_weight.shape)
        if total is None or scale_sum is None:
            total = [cv2.multiply(c, scale).reshape(level_weight.shape) for c in colour]
            scale_sum = scale
        else:
            for acc, c in zip(total, colour, strict=True):
                cv2.accumulateProduct(c, scale, acc)
            cv2.add(scale_sum, scale, dst=scale_sum)
    assert total is not None and scale_sum is not None
    for acc, fill_value in zip(total, fill, strict=True):
        cv2.scaleAdd(scale_sum, FILL_WEIGHT * float(fill_value), acc, dst=acc)
    return total
