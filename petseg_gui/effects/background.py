"""The lens-blurred background at a reduced working resolution.

A blurred background has no fine detail left, so it is computed where the largest disk is
``WORK_RADIUS`` pixels wide (at most MAX_WORK_SIDE long), from the per-photo pyramid of
premultiplied light, and then upsampled: only the composite (composite.py) runs at the output
resolution. The working image is processed in row bands on both cores (parallel.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from petseg_gui.effects import depth, lens_blur, parallel
from petseg_gui.effects.params import blur_radius
from petseg_gui.effects.stages import stage

# Far-background disk radius, in pixels of the reduced working image. Larger draws crisper
# bokeh edges and costs about its square in time (docs/EFFECTS.md has the measurements).
WORK_RADIUS = 6.0
# Longest side of the working image: small radii, which would ask for a large one, stay cheap,
# and a preview and the full-size render then blur the very same working image.
MAX_WORK_SIDE = 640
# Below this radius (output pixels) a blur is invisible; the background is left as is.
MIN_VISIBLE_RADIUS = 0.5
# Bicubic: as fast as bilinear here and closer to the exact full-resolution blur.
UPSAMPLING = 2  # cv2.INTER_CUBIC (a literal so importing this module does not import cv2)


def blurred_background(
    pyramid: list[np.ndarray], fraction: np.ndarray, shape: tuple[int, int], blur: float
) -> np.ndarray | None:
    """uint8 HxWx3 (``shape``) lens-blurred background from the working ``pyramid``
    (lens_blur.background_pyramid) and the depth map ``fraction``; None when the blur would be
    invisible (the photo is the background then)."""
    small = work_background(pyramid, fraction, shape, blur)
    return None if small is None else upsampled(small, shape)


def work_background(
    pyramid: list[np.ndarray],
    fraction: np.ndarray,
    shape: tuple[int, int],
    blur: float,
    *,
    inputs: Callable[[tuple[int, int]], tuple[np.ndarray, list[np.ndarray]]] | None = None,
) -> np.ndarray | None:
    """uint8 hxwx3: the background at the working size for an output of ``shape``; None when
    the blur would be invisible. ``inputs``: a (caching) stand-in for :func:`work_inputs`."""
    h, w = shape
    long_side = max(h, w)
    radius = blur_radius(blur, long_side)
    if radius < MIN_VISIBLE_RADIUS:
        return None
    size = work_size(shape, radius)
    with stage("work inputs"):
        work, weights = (inputs or partial(work_inputs, pyramid, fraction))(size)
    work_radius = radius * max(size) / long_side
    fill = lens_blur.mean_background(pyramid[-1])
    return blur_work_image(work, fraction, fill, work_radius, weights=weights)


def work_size(shape: tuple[int, int], radius: float) -> tuple[int, int]:
    """(h, w) of the working image: the full radius WORK_RADIUS pixels there, the longer side at
    most MAX_WORK_SIDE and never above the output's."""
    h, w = shape
    scale = min(1.0, MAX_WORK_SIDE / max(h, w), WORK_RADIUS / radius)
    return max(1, round(h * scale)), max(1, round(w * scale))


def work_inputs(
    pyramid: list[np.ndarray], fraction: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(the ``[rgb*w, w]`` stack at ``size`` from the pyramid, the depth-level weights there):
    everything of the working image that does not depend on the blur itself."""
    import cv2

    wh, ww = size
    work = _resized_from_pyramid(pyramid, size)
    fraction = cv2.resize(fraction, (ww, wh), interpolation=cv2.INTER_LINEAR).reshape(wh, ww)
    # Repeated over the stack's 4 channels once here, not in every blend (blend_normalised).
    weights = [
        cv2.merge([weight] * 4).reshape(wh, ww, 4) for weight in depth.level_weights(fraction)
    ]
    return work, weights


def upsampled(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``small`` (uint8 hxwx3) resized to ``shape``: a new array (``small`` itself if equal)."""
    import cv2

    h, w = shape
    if small.shape[:2] == (h, w):
        return small
    with stage("upsample"):
        return cv2.resize(small, (w, h), interpolation=UPSAMPLING).reshape(h, w, 3)


def blur_work_image(
    work: np.ndarray,
    fraction: np.ndarray,
    fill: np.ndarray,
    radius: float,
    *,
    weights: list[np.ndarray] | None = None,
) -> np.ndarray:
    """uint8 hxwx3: the premultiplied ``[rgb * w, w]`` stack ``work`` disk-blurred with
    ``radius`` (its pixels) scaled per depth level, ``fill`` (linear rgb) where no background
    reaches, highlights compressed, back to sRGB. ``weights``: the depth-level weights at this
    size, when already known (else computed from ``fraction``).

    Done in row bands on both cores (parallel.py): each band is blurred from its rows plus the
    largest disk's reach above and below, so every pixel sees exactly the neighbourhood it sees
    in the whole image (the same values, bit for bit, whatever the band count).
    """
    import cv2

    wh, ww = work.shape[:2]
    radii = [radius * level for level in depth.LEVELS]
    if weights is None:
        fraction = cv2.resize(fraction, (ww, wh), interpolation=cv2.INTER_LINEAR)
        weights = depth.level_weights(fraction.reshape(wh, ww))
    out = np.empty((wh, ww, 3), np.uint8)
    reach = lens_blur.disk_reach(max(radii))
    # The exact reference's large disks go through one whole-image FFT: no bands there.
    bands = [slice(0, wh)] if reach is None else parallel.row_bands(wh, wh * ww)

    def render_band(rows: slice) -> None:
        top = 0 if reach is None else max(0, rows.start - reach)
        bottom = wh if reach is None else min(wh, rows.stop + reach)
        with stage("work image/disk blurs"):
            blurs = lens_blur.disk_blurs(work[top:bottom], radii)
        inner = slice(rows.start - top, rows.stop - top)
        blurs = [np.ascontiguousarray(blurred[inner]) for blurred in blurs]
        band_weights = [weight[rows] for weight in weights]
        with stage("work image/normalise+blend"):
            planes = lens_blur.blend_normalised(blurs, band_weights, fill)
        with stage("work image/highlights+sRGB"):
            # Encoded plane by plane and merged as bytes: merging the float planes first
            # would write 4x the bytes.
            codes = [lens_blur.linear_to_srgb_u8(p) for p in lens_blur.compress_highlights(planes)]
            merged = cv2.merge(codes, dst=out[rows])
            if not np.shares_memory(merged, out):
                out[rows] = merged.reshape(-1, ww, 3)

    with stage(f"work image ({len(bands)} band{'s' if len(bands) > 1 else ''})"):
        parallel.map_bands(render_band, bands)
    return out


def work_side(shape: tuple[int, int]) -> int:
    """The working pyramid's largest side: at most MAX_WORK_SIDE, never larger than the output."""
    return min(MAX_WORK_SIDE, max(shape))


def _resized_from_pyramid(pyramid: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """The pyramid level just larger than ``size`` (h, w), area-averaged down to it."""
    import cv2

    h, w = size
    source = pyramid[0]
    for level in pyramid:
        if level.shape[0] >= h and level.shape[1] >= w:
            source = level
    if source.shape[:2] == (h, w):
        return source
    return cv2.resize(source, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w, 4)
