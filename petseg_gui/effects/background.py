"""The lens-blurred background at a reduced working resolution.

A blurred background has no fine detail left, so it is computed where the largest disk is
``WORK_RADIUS`` pixels wide (at most MAX_WORK_SIDE long), from the per-photo pyramid of
premultiplied light, and then upsampled: only the composite (composite.py) runs at the output
resolution. The working image is processed in row bands on both cores (parallel.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from petseg_gui import parallel
from petseg_gui.effects import depth, lens_blur
from petseg_gui.effects.params import blur_radius
from petseg_gui.effects.stages import stage

# Far-background disk radius, in pixels of the reduced working image. Larger draws crisper
# bokeh edges and costs about its square in time (docs/EFFECTS.md has the measurements).
WORK_RADIUS = 6.0
# Longest side of the working image: small radii, which would ask for a large one, stay cheap,
# and a preview and the full-size render then blur the very same working image.
MAX_WORK_SIDE = 640
# Radius-set working sizes are rounded up to the next of the sides MAX_WORK_SIDE / RATIO**k
# (work_size): at most 3% larger than asked, and the full radius at most 6.2 px there (a 13x13
# disk, like WORK_RADIUS's).
WORK_SIDE_RATIO = 1.03
# Below this radius (output pixels) a blur is invisible; the background is left as is.
MIN_VISIBLE_RADIUS = 0.5
# Bicubic: closer to the exact full-resolution blur than bilinear (1.2-1.8 dB at 12 MP), and at
# the 1600 px preview bilinear, 1 ms faster, softened the detail near the subject that the
# depth falloff leaves (test_background_near_the_subject_is_blurred_less_than_far_away).
UPSAMPLING = 2  # cv2.INTER_CUBIC (a literal so importing this module does not import cv2)
# A depth level is blurred only in rectangles that hold its non-zero weights (level_regions),
# found in blocks of this many rows of the working image. Each rectangle is blurred from itself
# plus the disk's reach on every side, so shorter blocks fit the level's shape more closely but
# blur more margin rows twice: on the 640 px working image 48 rows cost least (the disk blurs
# and the mix 20-25% below whole-image levels at blur 25-32, docs/EFFECTS.md).
REGION_ROWS = 48
# Column runs of a level with at most this many empty columns between them are one rectangle:
# blurring the gap costs less than a second rectangle's margins and call.
REGION_GAP = 16


@dataclass(frozen=True)
class WorkInputs:
    """Everything of the working image that does not depend on the blur itself."""

    work: np.ndarray  # float32 hxwx4: the [rgb * w, w] stack at the working size
    weights: list[np.ndarray]  # per depth level: float32 hxwx4, the level's weight repeated
    regions: list[list[tuple[slice, slice]]]  # per depth level: level_regions


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
    inputs: Callable[[tuple[int, int]], WorkInputs] | None = None,
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
        at_size = (inputs or partial(work_inputs, pyramid, fraction))(size)
    work_radius = radius * max(size) / long_side
    fill = lens_blur.mean_background(pyramid[-1])
    return blur_work_image(at_size.work, fraction, fill, work_radius, inputs=at_size)


def work_size(shape: tuple[int, int], radius: float) -> tuple[int, int]:
    """(h, w) of the working image: the full radius WORK_RADIUS pixels there, the longer side at
    most MAX_WORK_SIDE and never above the output's.

    Where the radius sets the size, its longer side is rounded up to the next of a fixed
    ladder of sides (WORK_SIDE_RATIO apart): the frames of a blur-slider drag then share
    working sizes, and with them the cached working inputs (~3 ms to rebuild at 640 px),
    instead of each frame needing its own.
    """
    h, w = shape
    long_side = max(h, w)
    cap = min(1.0, MAX_WORK_SIDE / long_side)
    scale = min(cap, WORK_RADIUS / radius)
    if scale < cap:
        # The rung at or just above long_side * scale (rounded, so that float noise in the
        # radius cannot move a size to the next rung).
        rung = math.floor(round(math.log(MAX_WORK_SIDE / (long_side * scale), WORK_SIDE_RATIO), 9))
        scale = min(cap, MAX_WORK_SIDE / WORK_SIDE_RATIO**rung / long_side)
    return max(1, round(h * scale)), max(1, round(w * scale))


def work_inputs(
    pyramid: list[np.ndarray], fraction: np.ndarray, size: tuple[int, int]
) -> WorkInputs:
    """The ``[rgb*w, w]`` stack at ``size`` from the pyramid, and the depth levels' weights and
    regions there (for the depth map ``fraction``)."""
    return level_inputs(_resized_from_pyramid(pyramid, size), fraction)


def level_inputs(work: np.ndarray, fraction: np.ndarray) -> WorkInputs:
    """WorkInputs of the ``[rgb*w, w]`` stack ``work`` and the depth map ``fraction`` (any
    size: resized to the stack's)."""
    import cv2

    wh, ww = work.shape[:2]
    fraction = cv2.resize(fraction, (ww, wh), interpolation=cv2.INTER_LINEAR).reshape(wh, ww)
    levels = depth.level_weights(fraction)
    # Repeated over the stack's 4 channels once here, not in every mix.
    weights = [cv2.merge([weight] * 4).reshape(wh, ww, 4) for weight in levels]
    return WorkInputs(work, weights, [level_regions(weight) for weight in levels])


def region_rows(height: int) -> int:
    """Rows per block of level_regions for a working image this tall: about REGION_ROWS, in an
    even number of blocks, so that two cores get equal bands of whole blocks."""
    blocks = max(1, round(height / REGION_ROWS))
    blocks += blocks % 2 if blocks > 1 else 0
    return -(-height // blocks)


def level_regions(weight: np.ndarray) -> list[tuple[slice, slice]]:
    """(rows, cols) rectangles of the float32 hxw ``weight`` that together hold every pixel
    where it is not 0: per block of region_rows(h) rows, its column runs (merged across gaps
    of up to REGION_GAP empty columns). A portrait's far level is 0 in a ring around the
    subject, the near level far from it: the blur of a level is skipped outside its regions."""
    h, w = weight.shape
    regions = []
    block = region_rows(h)
    for top in range(0, h, block):
        rows = slice(top, min(h, top + block))
        used = np.flatnonzero(weight[rows].max(axis=0) > 0)
        if used.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(used) > REGION_GAP + 1)  # more empty columns
        starts = [int(used[0]), *(int(used[b + 1]) for b in breaks)]
        stops = [*(int(used[b]) + 1 for b in breaks), int(used[-1]) + 1]
        regions.extend((rows, slice(a, b)) for a, b in zip(starts, stops, strict=True))
    return regions


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
    inputs: WorkInputs | None = None,
) -> np.ndarray:
    """uint8 hxwx3: the premultiplied ``[rgb * w, w]`` stack ``work`` disk-blurred with
    ``radius`` (its pixels) scaled per depth level, ``fill`` (linear rgb) where no background
    reaches, highlights compressed, back to sRGB. ``inputs``: level_inputs of ``work``, when
    already known (else computed from ``fraction``).

    Done in row bands of whole region_rows blocks on both cores (parallel.py). Each depth level
    is blurred only in its regions (level_regions), each from its pixels plus the disk's reach,
    so every pixel sees exactly the neighbourhood it sees in the whole image, and the result is
    the same, bit for bit, whatever the band count.
    """
    wh, ww = work.shape[:2]
    radii = [radius * level for level in depth.LEVELS]
    if inputs is None:
        inputs = level_inputs(work, fraction)
    out = np.empty((wh, ww, 3), np.uint8)
    # The exact reference's large disks go through one whole-image FFT: no bands there.
    whole = lens_blur.disk_reach(max(radii)) is None
    block = region_rows(wh)
    bands = [slice(0, wh)] if whole else parallel.row_bands(wh, wh * ww, multiple=block)

    def render_band(rows: slice) -> None:
        with stage("work image/disk blurs+mix"):
            if whole:
                blurs = lens_blur.disk_blurs(work, radii)
                total = lens_blur.mixed(blurs, inputs.weights)
            else:
                total = np.zeros((rows.stop - rows.start, ww, 4), np.float32)
                for radius_, weight, regions in zip(
                    radii, inputs.weights, inputs.regions, strict=True
                ):
                    mine = [r for r in regions if rows.start <= r[0].start < rows.stop]
                    lens_blur.disk_blur_regions(work, radius_, weight, mine, total, rows.start)
        with stage("work image/normalise"):
            planes = lens_blur.normalised(total, fill)
        with stage("work image/highlights+sRGB"):
            lens_blur.compressed_srgb_u8(planes, out=out[rows])

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
