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

from petseg_gui import parallel
from petseg_gui.effects import compiled
from petseg_gui.effects.coverage import coverage, stretch
from petseg_gui.effects.light import (  # noqa: F401 - also this module's public face (tests)
    HIGHLIGHT_GAIN,
    HIGHLIGHT_THRESHOLD,
    _first_boosted_code,
    _highlight_boost_table,
    _srgb_to_linear_table,
    compressed_srgb_u8,
    linear_to_srgb_u8,
)

# Constant weight of the fallback colour in every blurred pixel (see normalised). A disk
# with even one background pixel of a few hundred weighs >= 1e-2, so the fallback moves real
# backgrounds by < 1%; only where there is no background does it take over.
FILL_WEIGHT = 1e-4

# Rows of full-resolution photo turned into premultiplied light at a time (background_pyramid):
# 64 rows of a 4000 px wide photo are ~10 MB of float temporaries (BandBuffers), mostly still in
# the cache from one pass to the next. (256 rows made the passes ~25% slower, and 32 rows were
# no faster than 64: the build is bound by memory traffic.)
BAND_ROWS = 64


# Kernels up to this radius are cheaper by direct convolution than by numpy's FFT (measured on
# 2 cores: radius 6 direct 8 ms vs FFT 30 ms on an 800x600 4-channel image).
DIRECT_MAX_RADIUS = 12.0


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


def premultiplied_background(
    rgb: np.ndarray, alpha: np.ndarray, buffers: BandBuffers | None = None
) -> np.ndarray:
    """float32 HxWx4 ``[rgb * s, w]`` for a uint8 photo: linear light with highlights expanded,
    times ``s``, and the background weight ``w`` (background_weight).

    ``s = w * (1 + boost)``: computed at full resolution (before any downscale) so small
    highlights keep their energy. Only background highlights are expanded (``boost`` fades out
    as alpha reaches 0.5): a bright subject edge must not bloom into the background.
    ``buffers``: where to write (the result is a view of them), so that a band-by-band build
    allocates its temporaries once.

    Plane by plane, then one merge into the 4-channel stack that one resize shrinks: a
    12 MP build is bound by memory traffic, and this way each pixel moves ~80 bytes instead of
    the ~120 of a 4-channel table lookup and a multiply by a merged ``[s, s, s, w]``.
    """
    import cv2

    h, w_ = alpha.shape
    own = buffers or BandBuffers(h, w_)
    weight = own.weight[:h]
    np.subtract(1.0, alpha, out=weight)
    np.multiply(weight, weight, out=weight)  # background_weight, into the buffer
    # cv2.split, not strided channel views, which OpenCV would first copy: 4x faster.
    codes = [plane.reshape(h, w_) for plane in cv2.split(rgb, [p[:h] for p in own.planes])]
    table = _srgb_to_linear_table()
    light = [
        cv2.LUT(code, table, dst=lin[:h]).reshape(h, w_)
        for code, lin in zip(codes, own.light, strict=True)
    ]
    scale = weight
    brightest = cv2.max(
        cv2.max(codes[0], codes[1], dst=own.brightest[:h]), codes[2], dst=own.brightest[:h]
    )
    if cv2.minMaxLoc(brightest)[1] >= _first_boosted_code():
        # Dense passes (a table lookup and three float passes) rather than by index: the
        # boost is 0 for most pixels, but indexing the lit ones cost 3x more in a photo with
        # a bright sky or many lights (~12% of pixels boosted).
        boost = cv2.LUT(brightest, _highlight_boost_table(), dst=own.boost[:h]).reshape(h, w_)
        in_background = own.scale[:h]  # 1 - 2 alpha, clipped to [0, 1]
        np.multiply(alpha, np.float32(-2.0), out=in_background)
        np.add(in_background, np.float32(1.0), out=in_background)
        np.clip(in_background, 0.0, 1.0, out=in_background)
        np.multiply(boost, in_background, out=boost)
        np.add(boost, np.float32(1.0), out=boost)
        scale = np.multiply(weight, boost, out=in_background)
    for lin in light:
        cv2.multiply(lin, scale, dst=lin)
    return cv2.merge([*light, weight], dst=own.stack[:h]).reshape(h, w_, 4)


def halved_premultiplied(
    rgb: np.ndarray,
    alpha: np.ndarray,
    out: np.ndarray | None = None,
    coverage_out: np.ndarray | None = None,
    buffers: BandBuffers | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """For the matte as given (``alpha``, stretched here: coverage.py), the 2x2 block means of
    premultiplied_background(rgb, stretched) (float32 (H/2)x(W/2)x4, into ``out``) and of the
    stretched matte itself ((H/2)x(W/2), into ``coverage_out``): what background_pyramid
    shrinks a large photo's bands by first, and what composite.halved_alpha would make of the
    stretched matte. Both sides of the photo must be even.

    By the compiled pass (_fused.c) when it is built: bit for bit what the numpy and OpenCV
    steps give (tests/test_effects_native.py), in one pass over the photo instead of ~18 over
    band buffers (a 12 MP pyramid 28 -> 15 ms on 2 cores); by those steps when it is not
    (``buffers``: theirs, as in premultiplied_background)."""
    import cv2

    h, w = alpha.shape
    if out is None:
        out = np.empty((h // 2, w // 2, 4), np.float32)
    if coverage_out is None:
        coverage_out = np.empty((h // 2, w // 2), np.float32)
    fused = compiled.fused
    if fused is None:  # ~2.5x the time
        matte = stretch(alpha, None if buffers is None else buffers.coverage[:h])
        stack = premultiplied_background(rgb, matte, buffers)
        cv2.resize(stack, (w // 2, h // 2), dst=out, interpolation=cv2.INTER_AREA)
        cv2.resize(matte, (w // 2, h // 2), dst=coverage_out, interpolation=cv2.INTER_AREA)
        return out, coverage_out
    fused.premultiplied_halves(
        np.ascontiguousarray(rgb),
        np.ascontiguousarray(alpha, np.float32),
        _srgb_to_linear_table(),
        _highlight_boost_table(),
        out,
        coverage_out,
    )
    return out, coverage_out


class BandBuffers:
    """Temporaries of premultiplied_background for up to ``rows`` rows of a ``width`` photo.

    Reused band after band: a fresh 10 MB array per band costs page faults on every band (glibc
    hands large blocks back to the system), ~40% of a 12 MP pyramid build.
    """

    def __init__(self, rows: int, width: int) -> None:
        self.stack = np.empty((rows, width, 4), np.float32)
        self.coverage = np.empty((rows, width), np.float32)  # the stretched matte
        self.light = [np.empty((rows, width), np.float32) for _ in range(3)]
        self.weight = np.empty((rows, width), np.float32)
        self.scale = np.empty((rows, width), np.float32)
        self.boost = np.empty((rows, width), np.float32)
        self.planes = [np.empty((rows, width), np.uint8) for _ in range(3)]
        self.brightest = np.empty((rows, width), np.uint8)


def area_pyramid(stack: np.ndarray, top_side: int, *, min_side: int = 32) -> list[np.ndarray]:
    """The ``[rgb * s, w]`` ``stack`` (premultiplied_background) area-averaged to a longer side
    of at most ``top_side`` (never enlarged), then halved until the longer side is below
    ``min_side``.
    """
    import cv2

    h, w = stack.shape[:2]
    th, tw = _top_level_shape(h, w, top_side)
    top = stack
    if (th, tw) != (h, w):
        if _whole_factor(h, w, th, tw) == 1 and _halved_first(h, w, th, tw):
            top = cv2.resize(stack, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        top = cv2.resize(top, (tw, th), interpolation=cv2.INTER_AREA).reshape(th, tw, 4)
    return _halvings(top, min_side)


# A photo with even sides shrunk by this factor or more is first averaged in 2x2 blocks
# (OpenCV's block path: ~10x cheaper per pixel than its general area resampling, which took 40%
# of a 12 MP pyramid) and then area-resampled to the top level. The footprints' edges then fall
# on whole 2x2 blocks instead of pixels: at most one photo pixel of a 4+ pixel footprint gets a
# neighbour's share of weight (PSNR against the exact blur in docs/EFFECTS.md, issue 12).
HALVE_FIRST_FACTOR = 4.0


def _halved_first(h: int, w: int, th: int, tw: int) -> bool:
    return h % 2 == 0 and w % 2 == 0 and min(h / th, w / tw) >= HALVE_FIRST_FACTOR


def _whole_factor(h: int, w: int, th: int, tw: int) -> int:
    """Photo rows per top-level row when both sides shrink by whole factors (OpenCV's block
    path, exact), else 1."""
    return h // th if h % th == 0 and w % tw == 0 else 1


def background_pyramid(
    rgb: np.ndarray,
    alpha: np.ndarray,
    top_side: int,
    *,
    min_side: int = 32,
    band_rows: int = BAND_ROWS,
) -> list[np.ndarray]:
    """``area_pyramid(premultiplied_background(rgb, coverage(alpha)), top_side)`` for the matte
    as given (``alpha``), built band by band: see pyramid_and_halved_coverage."""
    return pyramid_and_halved_coverage(
        rgb, alpha, top_side, min_side=min_side, band_rows=band_rows
    )[0]


def pyramid_and_halved_coverage(
    rgb: np.ndarray,
    alpha: np.ndarray,
    top_side: int,
    *,
    min_side: int = 32,
    band_rows: int = BAND_ROWS,
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """``area_pyramid(premultiplied_background(rgb, coverage(alpha)), top_side)`` built band by
    band from the matte as given (``alpha``: each band is stretched where it is read), and,
    when the bands are averaged in 2x2 blocks first (a large photo), the stretched matte's 2x2
    block means too (else None), made in the same pass: what composite.halved_alpha gives of
    the stretched matte, bit for bit.

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
        stack = premultiplied_background(rgb, coverage(alpha))
        return area_pyramid(stack, top_side, min_side=min_side), None
    block = _whole_factor(h, w, th, tw)
    halve = block == 1 and _halved_first(h, w, th, tw)
    block = 2 if halve else block  # photo rows per row of ``shrunk``
    step = max(block, band_rows // block * block)
    shrunk = np.empty((h // block, tw, 4), np.float32)
    halved_coverage = np.empty((h // 2, w // 2), np.float32) if halve else None

    def shrink_bands(part: slice) -> None:
        """Bands ``part.start, part.start + step, ...`` (below part.stop), one buffer set."""
        # (The compiled pass needs no band buffers: it writes the 2x2 means straight away.)
        buffers = None if halve and compiled.fused is not None else BandBuffers(step, w)
        halved = np.empty((step // 2, w // 2, 4), np.float32) if halve else None
        for y0 in range(part.start, part.stop, step):
            y1 = min(part.stop, y0 + step)
            n = (y1 - y0) // block
            if halved is not None:  # 2x2 blocks first (HALVE_FIRST_FACTOR), then the rest
                assert halved_coverage is not None
                stack, _ = halved_premultiplied(
                    rgb[y0:y1],
                    alpha[y0:y1],
                    halved[:n],
                    halved_coverage[y0 // 2 : y1 // 2],
                    buffers,
                )
            else:
                assert buffers is not None
                matte = stretch(alpha[y0:y1], buffers.coverage[: y1 - y0])
                stack = premultiplied_background(rgb[y0:y1], matte, buffers)
            rows = slice(y0 // block, y1 // block)
            cv2.resize(stack, (tw, n), dst=shrunk[rows], interpolation=cv2.INTER_AREA)

    # Bands are independent (each writes its own rows of ``shrunk``): both cores take a share.
    parallel.map_bands(shrink_bands, parallel.row_bands(h, h * w, multiple=step))
    if shrunk.shape[0] != th:
        shrunk = cv2.resize(shrunk, (tw, th), interpolation=cv2.INTER_AREA).reshape(th, tw, 4)
    return _halvings(shrunk, min_side), halved_coverage


def _top_level_shape(h: int, w: int, top_side: int) -> tuple[int, int]:
    # Exactly top_side long, not a whole-factor shrink to a larger level (4000x3000 -> 800x600,
    # 3x faster to build): the working image is then an area average of an area average, and
    # the 1600 px preview at blur 10 lost 1.4 dB against the exact blur.
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


def disk_reach(radius: float) -> int | None:
    """Rows a disk blur of this radius reads above and below a pixel; None when the blur
    would go through the FFT (which sees the whole image at once)."""
    if radius > DIRECT_MAX_RADIUS:
        return None
    return disk_kernel(radius).shape[0] // 2


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
    strip = max(1, (_CV_DFT_TAPS - 1) // n)
    total: np.ndarray | None = None
    for y0 in range(0, n, strip):
        part = np.ascontiguousarray(kernel[y0 : y0 + strip])
        rows = part.shape[0]
        # The strip's rows y0.. act on image rows y + y0 - half. Anchored on its own row
        # half - y0 when it has one; a strip wholly below (above) the centre is anchored on
        # its first (last) row and its result lands ``shift`` rows up (down): zero borders make
        # the rows it cannot reach exactly 0. (Until issue 12 the image was padded with zero
        # rows first: one more pass, 9% slower for the 13x13 disk.)
        anchor = min(max(half - y0, 0), rows - 1)
        shift = y0 + anchor - half
        blurred = cv2.filter2D(
            image, -1, part, anchor=(half, anchor), borderType=cv2.BORDER_CONSTANT
        )
        blurred = blurred.reshape(h, w, c)
        if total is None and shift == 0:
            total = blurred
            continue
        if total is None:
            total = np.zeros((h, w, c), np.float32)
        if shift >= h or -shift >= h:
            continue
        into = total[: h - shift] if shift > 0 else total[-shift:]
        cv2.add(into, blurred[shift:] if shift > 0 else blurred[: h + shift], dst=into)
    assert total is not None
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


def disk_blur_regions(
    image: np.ndarray,
    radius: float,
    level_weight: np.ndarray,
    regions: list[tuple[slice, slice]],
    total: np.ndarray,
    top: int = 0,
) -> None:
    """``total += level_weight * disk_blur(image, radius)``, only inside ``regions``: where the
    level's weight is 0 the blur is not computed at all (it would add 0).

    ``image`` and ``level_weight``: the whole working image; ``regions``: (rows, cols) of it;
    ``total``: the rows from ``top`` on. Each region is blurred from itself plus the disk's
    reach on every side (zeros only beyond the image's own border), so its pixels get the very
    sums of a whole-image blur (up to float rounding at the image's right edge, where OpenCV's
    vector loop ends at another column).

    By the compiled pass (_disk.c) when it is built: the disk's full taps summed as column runs,
    ~2.4x faster than filter2D for the far level's 13x13 disk, the same sums up to float32
    rounding (another order of additions).
    """
    kernel = disk_kernel(radius)
    fused = compiled.fused
    accumulate = fused.disk_accumulate if fused is not None else _disk_accumulate
    for rows, cols in regions:
        accumulate(
            image, kernel, level_weight, total, top, rows.start, rows.stop, cols.start, cols.stop
        )


def _disk_accumulate(
    image: np.ndarray,
    kernel: np.ndarray,
    weight: np.ndarray,
    total: np.ndarray,
    top: int,
    y0: int,
    y1: int,
    x0: int,
    x1: int,
) -> None:
    """_fused.disk_accumulate with OpenCV (its arguments): ``total[y - top, x] +=
    weight[y, x] * (kernel * image)[y, x]`` for rows y0..y1 and columns x0..x1, the region
    convolved from itself plus the kernel's reach (zeros beyond the image)."""
    import cv2

    h, w = image.shape[:2]
    reach = kernel.shape[0] // 2
    ry0, ry1 = max(0, y0 - reach), min(h, y1 + reach)
    rx0, rx1 = max(0, x0 - reach), min(w, x1 + reach)
    blurred = _direct_convolution(image[ry0:ry1, rx0:rx1], kernel)
    inner = blurred[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0]
    into = total[y0 - top : y1 - top, x0:x1]
    cv2.accumulateProduct(inner, weight[y0:y1, x0:x1], into)


def mixed(blurred: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    """``sum_i weights_i * blurred_i``: blurred ``[rgb * w, w]`` stacks mixed per pixel by the
    depth-level ``weights`` (HxWx4, the weight repeated; summing to 1 at every pixel), before
    ``normalised``. disk_blur_regions does the same, level by level, where each weighs."""
    import cv2

    total: np.ndarray | None = None
    for stack, level_weight in zip(blurred, weights, strict=True):
        if total is None:
            total = cv2.multiply(stack, level_weight).reshape(stack.shape)
        else:
            cv2.accumulateProduct(stack, level_weight, total)
    assert total is not None
    return total


def normalised(total: np.ndarray, fill: np.ndarray) -> list[np.ndarray]:
    """float32 HxW planes R, G, B: the background colour of a mixed ``[rgb * w, w]`` stack
    (``mixed``, disk_blur_regions), its colour channels divided by its weight.

    The levels are mixed first and normalised once: ``sum_i lw_i rgbw_i / sum_i lw_i w_i``,
    i.e. normalised convolution with the per-pixel kernel ``sum_i lw_i disk_i``. Where the disks
    hold no background at all (deep inside a large subject) the colour falls back to ``fill``,
    through a tiny constant weight (FILL_WEIGHT), instead of 0: upsampling mixes such pixels
    into the neighbours, and black there would darken matte holes and soft edges.
    """
    import cv2

    shape = total.shape[:2]
    # Whole planes by cv2.extractChannel: strided channel slices would make every step several
    # times slower, and cv2.split of a 4-channel float image takes a slow generic path.
    weight = cv2.extractChannel(total, 3).reshape(shape)
    np.add(weight, np.float32(FILL_WEIGHT), out=weight)
    planes = []
    for channel, fill_value in enumerate(fill):
        plane = cv2.extractChannel(total, channel).reshape(shape)
        np.add(plane, np.float32(FILL_WEIGHT * fill_value), out=plane)
        planes.append(cv2.divide(plane, weight, dst=plane).reshape(shape))
    return planes
