"""Putting the effect together: per-photo preparation, the background at the right scale, and
the final composite ``out = alpha * sharpened_subject + (1 - alpha) * blurred_background``.

Two renderers share pure functions (``subject_box``, ``composite_band`` at the end of this
module; the background at the working size in background.py): the cached preview renderer
(``Prepared`` + ``render_prepared``, for slider moves) and the one-shot banded full render
(``render``, for saving: no caches, the subject sharpened and blended in bands of rows).

Speed comes from blurring at a reduced resolution chosen from the radius (background.py); only
the composite runs at the output resolution, and only where the matte shows (blend.py).
"""

from __future__ import annotations

from functools import cached_property
from threading import Lock

import numpy as np

from petseg_gui import parallel
from petseg_gui.effects import blend, depth, lens_blur, sharpen
from petseg_gui.effects.background import (  # noqa: F401 - the reference (tests) uses them here
    MIN_VISIBLE_RADIUS,
    WorkInputs,
    blur_work_image,
    blurred_background,
    upsampled,
    work_background,
    work_inputs,
    work_side,
)
from petseg_gui.effects.coverage import Stretched, coverage
from petseg_gui.effects.params import PortraitParams
from petseg_gui.effects.stages import stage

# The depth map is computed once on a copy of the matte this large (longer side); distances are
# smooth, so resizing it to any working size loses nothing.
DEPTH_MAP_SIDE = 512
# Working sizes whose inputs (the resized pyramid level, the depth-level weights and regions) a
# Prepared keeps: a 640x480 entry is ~20 MB.
WORK_CACHE_SIZE = 2
# Rows of the subject sharpened and blended at a time by the one-shot render: a 24 MP
# subject box at once needs ~200 MB of uint8 and float temporaries, a band of 512 rows ~15 MB,
# at the cost of re-sharpening 2 * sharpen.reach rows (~10%) per band.
COMPOSITE_BAND_ROWS = 512


class Prepared:
    """One photo + matte, with everything the sliders do not change computed at most once: the
    cached preview renderer.

    Build it with :func:`prepare` (computes eagerly; meant for the GUI's worker) and render it
    with :func:`render_prepared` as often as the sliders move. Attributes are read-only arrays:
    ``rgb`` (uint8 HxWx3, the photo at output size), ``alpha`` (float32 HxW, the matte as given,
    clipped to [0, 1]) and ``coverage`` (the matte the effect blends with: coverage.py).
    """

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray, max_size: int | None = None) -> None:
        """Copy (and with ``max_size`` shrink) the photo and matte.

        The blur's working images are built now, from the full-size input: highlights and the
        matte are turned into light and weights before shrinking, so a preview's bokeh is as
        bright as the saved photo's.
        """
        from petseg_gui.preview import downscale

        rgb, alpha = _checked(rgb, alpha, max_size)
        matte = coverage(alpha)  # what the effect blends (a new array: the caller's is kept)
        # Clipped only when needed: a full-size clip is a 12 MP pass and copy even when the
        # preview keeps a small downscaled copy of it.
        given = alpha if _within_unit_range(alpha) else np.clip(alpha, 0.0, 1.0)
        self.rgb = _private(downscale(rgb, max_size), rgb).view()  # views: read-only flag ours
        self.alpha = _private(downscale(given, max_size), alpha).view()
        self.coverage = downscale(matte, max_size).view()
        for array in (self.rgb, self.alpha, self.coverage):
            array.setflags(write=False)
        # The latest blur and its background at the working size (None: the photo itself), and
        # the latest sharpen amount and its sharpened subject box: a drag of one slider reuses
        # what the other one made.
        self._background_cache: tuple[float, np.ndarray | None] | None = None
        self._sharpened_cache: tuple[float, np.ndarray] | None = None
        self._work_cache: dict[tuple[int, int], WorkInputs] = {}
        self._work_lock = Lock()
        self.pyramid = lens_blur.background_pyramid(rgb, alpha, work_side(self.shape))

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape  # type: ignore[return-value]

    @cached_property
    def _halved_alpha(self) -> np.ndarray | None:
        return halved_alpha(self.coverage)

    @cached_property
    def subject_box(self) -> tuple[slice, slice] | None:
        """See :func:`subject_box`."""
        return subject_box(self.coverage, self._halved_alpha)

    @cached_property
    def _box_bands(self) -> list[tuple[slice, blend.BlendMasks]]:
        """subject_box in row bands (one per core, parallel.py), each with its blend masks
        (where the matte is 1 and where it is soft): rows relative to the box."""
        assert self.subject_box is not None
        box_alpha = self.coverage[self.subject_box]
        height, width = box_alpha.shape
        return [
            (band, blend.blend_masks(box_alpha[band]))  # (a view: the matte is read-only)
            for band in parallel.row_bands(height, height * width)
        ]

    @cached_property
    def radius_fraction(self) -> np.ndarray:
        """See :func:`depth_fraction`."""
        return depth_fraction(self.coverage, self._halved_alpha)

    @cached_property
    def sharpen_base(self) -> sharpen.SharpenBase | None:
        """Sharpening's precomputed parts for the subject box (None without a subject)."""
        if self.subject_box is None:
            return None
        box = np.ascontiguousarray(self.rgb[self.subject_box])
        return sharpen.sharpen_base(box, long_side=max(self.shape))

    def warm_up(self) -> Prepared:
        """Compute every slider-independent part now (e.g. in a worker thread)."""
        names = ("subject_box", "radius_fraction", "sharpen_base")
        for name in names + (("_box_bands",) if self.subject_box is not None else ()):
            getattr(self, name)
        return self

    def work_background(self, blur: float) -> np.ndarray | None:
        """uint8 hxwx3 lens-blurred background (subject refilled) at the working size, None when
        the blur would be invisible. The latest result is kept, so moving only the sharpen
        slider does not blur again (it only upsamples again). Never write into it."""
        cached = self._background_cache
        if cached is not None and cached[0] == blur:
            return cached[1]
        result = work_background(
            self.pyramid, self.radius_fraction, self.shape, blur, inputs=self._work_inputs
        )
        self._background_cache = (blur, result)
        return result

    def background(self, blur: float) -> np.ndarray:
        """uint8 HxWx3 background at output size: a new array, the caller's to write into."""
        small = self.work_background(blur)
        if small is None:
            return self.rgb.copy()
        if small.shape[:2] == self.shape:
            return small.copy()  # no upsampling: the cached array itself must stay unchanged
        return upsampled(small, self.shape)

    def composite(self, background: np.ndarray, sharpen_amount: float) -> np.ndarray:
        """A new uint8 HxWx3: the sharpened subject blended over ``background`` (unchanged)."""
        out = background.copy()
        self.composite_into(out, sharpen_amount, photo_behind=background is self.rgb)
        return out

    def composite_into(self, out: np.ndarray, sharpen_amount: float, photo_behind: bool) -> None:
        """Blend the sharpened subject into ``out`` (uint8 HxWx3, in place). ``photo_behind``:
        ``out`` holds the photo itself (an invisible blur), so sharpen 0 changes nothing."""
        box = self.subject_box
        if box is None or (photo_behind and sharpen_amount == 0):
            return  # no subject to composite, or nothing changed (blur invisibly small)
        with stage("sharpen"):
            subject = self._sharpened(sharpen_amount)
        rows, cols = box

        def blend_band(band: tuple[slice, blend.BlendMasks]) -> None:
            part, masks = band
            region = (slice(rows.start + part.start, rows.start + part.stop), cols)
            blend.blend_into(out, region, subject[part], masks)

        with stage("composite"):
            # Bands write disjoint rows of ``out``: both cores take a share.
            parallel.map_bands(blend_band, self._box_bands)

    def _sharpened(self, amount: float) -> np.ndarray:
        """The subject box sharpened by ``amount``; the latest one is kept (read-only), so a
        drag of the blur slider does not sharpen again."""
        cached = self._sharpened_cache
        if cached is not None and cached[0] == amount:
            return cached[1]
        subject = sharpen.sharpened(self.sharpen_base, amount)  # type: ignore[arg-type]
        subject.setflags(write=False)  # at amount 0: the base's own box, never written either
        self._sharpened_cache = (amount, subject)
        return subject

    def _work_inputs(self, size: tuple[int, int]) -> WorkInputs:
        """work_inputs for a working size, kept for the last WORK_CACHE_SIZE sizes."""
        # A lock around the dict only: two renders of one Prepared may overlap (a stale one
        # still running in the GUI's pool); computing the entry needs none.
        with self._work_lock:
            entry = self._work_cache.pop(size, None)
        if entry is None:
            entry = work_inputs(self.pyramid, self.radius_fraction, size)
        with self._work_lock:
            self._work_cache.pop(size, None)
            while len(self._work_cache) >= WORK_CACHE_SIZE:
                self._work_cache.pop(next(iter(self._work_cache)))
            self._work_cache[size] = entry  # most recently used last
        return entry


def prepare(rgb: np.ndarray, alpha: np.ndarray, max_size: int | None = None) -> Prepared:
    """Everything about one photo + matte that the sliders do not change, computed now."""
    return Prepared(rgb, alpha, max_size).warm_up()


def render_prepared(prepared: Prepared, params: PortraitParams) -> np.ndarray:
    """The portrait effect on a prepared photo: uint8 HxWx3 at the prepared size (a new array)."""
    if params.is_identity:
        return prepared.rgb.copy()
    # The background is a fresh array (upsampled or copied): the composite goes straight into it.
    out = prepared.background(params.blur)
    photo_behind = prepared.work_background(params.blur) is None
    prepared.composite_into(out, params.sharpen, photo_behind)
    return out


def render(
    rgb: np.ndarray,
    alpha: np.ndarray,
    params: PortraitParams,
    *,
    max_size: int | None = None,
) -> np.ndarray:
    """One-shot portrait effect: uint8 hxwx3, longest side ``max_size`` (None = full size).

    Nothing is cached and the inputs are only read: at 24 MP that keeps ~600 MB of copies and
    whole-subject temporaries from existing at once. At full size not even the stretched matte
    (coverage.py) is held whole: it is read a region at a time (coverage.Stretched). The
    background becomes the output, and the subject is sharpened and blended into it in bands of
    rows: the same pixels as :func:`render_prepared`, bit for bit.
    """
    from petseg_gui.preview import downscale

    with stage("checks, shrink"):
        rgb, alpha = _checked(rgb, alpha, max_size)
        small = downscale(rgb, max_size)
    if params.is_identity:
        return small.copy()
    shape = small.shape[:2]
    pyramid = halved = None
    if params.enabled and params.blur > 0:
        with stage("pyramid (full-res light)"):
            pyramid, halved = lens_blur.pyramid_and_halved_coverage(rgb, alpha, work_side(shape))
    with stage("stretch the matte"):
        if shape == alpha.shape and halved is not None and max(shape) >= 4 * DEPTH_MAP_SIDE:
            # Full size, and the pyramid's pass made the 2x2 means, which is all the depth map
            # reads of a photo this large: the stretched matte is only ever read a region at a
            # time (the subject box's edges, the composite's bands).
            small_alpha = Stretched(alpha)
        else:
            small_alpha = downscale(coverage(alpha), max_size)
            halved = halved_alpha(small_alpha) if pyramid is not None else None
    background = None
    if pyramid is not None:
        with stage("depth map"):
            fraction = depth_fraction(small_alpha, halved)
        background = blurred_background(pyramid, fraction, shape, params.blur)
    out = small.copy() if background is None else background
    with stage("subject box"):
        box = subject_box(small_alpha, halved)
    if box is None or (background is None and params.sharpen == 0):
        return out
    rows, cols = box
    # Bands write disjoint rows of ``out``: the box's rows are split evenly between the cores,
    # each share then done in bands of at most COMPOSITE_BAND_ROWS. (Whole bands dealt out
    # instead left one core 3 of a 12 MP subject's 5 bands: 40% of the stage idle on the other.)
    height = rows.stop - rows.start
    groups = []
    for part in parallel.row_bands(height, height * (cols.stop - cols.start)):
        start, stop = rows.start + part.start, rows.start + part.stop
        groups.append(
            [
                slice(y, min(stop, y + COMPOSITE_BAND_ROWS))
                for y in range(start, stop, COMPOSITE_BAND_ROWS)
            ]
        )

    def composite_bands(group: list[slice]) -> None:
        for band in group:
            composite_band(small, small_alpha, out, box, band, params.sharpen)

    with stage("sharpen+composite (bands)"):
        parallel.map_bands(composite_bands, groups)
    return out


# --- the pure pieces both renderers are made of -----------------------------------------------


def subject_box(alpha: np.ndarray, halved: np.ndarray | None = None) -> tuple[slice, slice] | None:
    """Rows and columns that hold every pixel the subject shows in (alpha at least
    blend.INVISIBLE_ALPHA: below it the output is exactly the background), plus the sharpening
    filter's reach; None without a subject. Sharpening and blending run only inside it:
    outside, the result is the background as is (a portrait's subject is often under half the
    frame).

    ``halved``: :func:`halved_alpha` of ``alpha`` when known. A 2x2 block that holds a pixel
    at the threshold averages at least a quarter of it, so the blocks at a quarter of the
    threshold bound the extent, found on a quarter of the pixels; the exact extent is then
    looked for from that bound's edges in (7 -> ~2 ms at 12 MP).
    """
    h, w = alpha.shape
    if halved is None:
        halved = halved_alpha(alpha)
    if halved is None:
        extent = _extent(alpha, blend.INVISIBLE_ALPHA)
    else:
        extent = _extent(halved, blend.INVISIBLE_ALPHA / 4)
        if extent is not None:
            extent = _refined(alpha, *extent)
    if extent is None:
        return None
    top, bottom, left, right = extent  # inclusive
    margin = sharpen.reach(max(h, w))
    return (
        slice(max(0, top - margin), min(h, bottom + 1 + margin)),
        slice(max(0, left - margin), min(w, right + 1 + margin)),
    )


# Mattes of at least this many pixels with even sides are averaged in 2x2 blocks once (OpenCV's
# block path) for the subject box and the depth map.
HALVE_PIXELS = 2_000_000


def halved_alpha(alpha: np.ndarray) -> np.ndarray | None:
    """``alpha`` (float32 HxW) averaged in 2x2 blocks, or None when it is small or a side odd."""
    import cv2

    h, w = alpha.shape
    if h % 2 or w % 2 or h * w < HALVE_PIXELS:
        return None
    halved = cv2.resize(alpha, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return halved.reshape(h // 2, w // 2)


def _extent(alpha: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    """(first row, last row, first column, last column) with alpha >= threshold, or None."""
    # numpy's max along rows (3 ms at 12 MP), not cv2.reduce (40 ms along rows).
    rows = np.flatnonzero(alpha.max(axis=1) >= threshold)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0] : rows[-1] + 1].max(axis=0) >= threshold)
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _refined(
    alpha: np.ndarray, top: int, bottom: int, left: int, right: int
) -> tuple[int, int, int, int] | None:
    """The extent at blend.INVISIBLE_ALPHA inside the bound that a 2x2-block extent gives: the
    bound's two edge rows (columns) on each side are looked at first; where they hold no such
    pixel (blocks of pixels all just below the threshold) the whole bound is searched."""
    threshold = blend.INVISIBLE_ALPHA
    rows, cols = slice(2 * top, 2 * bottom + 2), slice(2 * left, 2 * right + 2)
    first = np.flatnonzero(alpha[rows.start : rows.start + 2, cols].max(axis=1) >= threshold)
    last = np.flatnonzero(alpha[rows.stop - 2 : rows.stop, cols].max(axis=1) >= threshold)
    if first.size == 0 or last.size == 0:
        inside = _extent(alpha[rows, cols], threshold)
        if inside is None:
            return None
        first_row, last_row, first_col, last_col = inside
        return (
            rows.start + first_row,
            rows.start + last_row,
            cols.start + first_col,
            cols.start + last_col,
        )
    top, bottom = rows.start + int(first[0]), rows.stop - 2 + int(last[-1])
    band = slice(top, bottom + 1)  # (2-D regions only: ``alpha`` may be a coverage.Stretched)
    first = np.flatnonzero(alpha[band, cols.start : cols.start + 2].max(axis=0) >= threshold)
    last = np.flatnonzero(alpha[band, cols.stop - 2 : cols.stop].max(axis=0) >= threshold)
    if first.size == 0 or last.size == 0:
        found = np.flatnonzero(alpha[band, cols].max(axis=0) >= threshold)  # its top row has one
        return top, bottom, cols.start + int(found[0]), cols.start + int(found[-1])
    return top, bottom, cols.start + int(first[0]), cols.stop - 2 + int(last[-1])


def depth_fraction(alpha: np.ndarray, halved: np.ndarray | None = None) -> np.ndarray:
    """Depth falloff map (see depth.py) on a copy of the matte at most DEPTH_MAP_SIDE.
    ``halved``: :func:`halved_alpha` of ``alpha`` when known (then the first halving below)."""
    import cv2

    from petseg_gui.preview import downscale

    # A 12 MP matte is first halved by whole factors (OpenCV's block-average path) while that
    # stays above twice the map's size: area weights straight to 512 px took 20 ms of a 12 MP
    # render, this ~5 ms. The map is thresholded and smooth, so the two steps change nothing
    # visible; render() and render_prepared still compute it the same way, bit for bit.
    h, w = alpha.shape
    while min(h, w) % 2 == 0 and max(h, w) >= 4 * DEPTH_MAP_SIDE:
        h, w = h // 2, w // 2
        if halved is not None and halved.shape == (h, w):
            alpha = halved  # the same 2x2 block averages, already made
        else:
            alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA).reshape(h, w)
    return depth.radius_fraction(downscale(alpha, DEPTH_MAP_SIDE))


def composite_band(
    rgb: np.ndarray,
    alpha: np.ndarray,
    out: np.ndarray,
    box: tuple[slice, slice],
    rows: slice,
    sharpen_amount: float,
) -> None:
    """``out[rows, box cols] = alpha * sharpened_photo + (1 - alpha) * out[...]``, rounded.

    ``rows`` lie inside the subject ``box``; they are sharpened from the box's rows around them
    (sharpen.reach of them, cut at the box like the whole-box base of :class:`Prepared`), so
    every pixel sees the very neighbourhood it sees in the whole box. Only the columns of this
    band's own subject pixels (plus the reach) are worked on: the box spans the whole subject,
    and a band across a head or a cat's back holds a narrower part of it.
    """
    box_rows, box_cols = box
    long_side = max(alpha.shape)
    margin = sharpen.reach(long_side)
    band_alpha = alpha[rows, box_cols]  # read once (``alpha`` may be a coverage.Stretched)
    inside = np.flatnonzero(band_alpha.max(axis=0) >= blend.INVISIBLE_ALPHA)
    if inside.size == 0:
        return  # no subject pixel in these rows: the background stays
    first, stop = max(0, int(inside[0]) - margin), int(inside[-1]) + 1 + margin
    cols = slice(box_cols.start + first, min(box_cols.stop, box_cols.start + stop))
    top, bottom = max(box_rows.start, rows.start - margin), min(box_rows.stop, rows.stop + margin)
    context = np.ascontiguousarray(rgb[top:bottom, cols])
    base = sharpen.sharpen_base(context, long_side=long_side)
    subject = sharpen.sharpened(base, sharpen_amount)[rows.start - top : rows.stop - top]
    masks = blend.blend_masks(
        band_alpha[:, cols.start - box_cols.start : cols.stop - box_cols.start]
    )
    blend.blend_into(out, (rows, cols), subject, masks)


def _checked(
    rgb: np.ndarray, alpha: np.ndarray, max_size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Contract checks (programming errors -> ValueError); alpha as float32 HxW."""
    # Contiguous (a no-op for most callers): OpenCV rejects views such as bgr[..., ::-1].
    rgb = np.ascontiguousarray(rgb)
    alpha = np.ascontiguousarray(alpha)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or 0 in rgb.shape:
        raise ValueError(f"rgb must be a non-empty uint8 HxWx3 array, got {rgb.dtype} {rgb.shape}")
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[..., 0]
    if alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha shape {alpha.shape} does not match the photo {rgb.shape[:2]}")
    if alpha.dtype != np.bool_ and not np.issubdtype(alpha.dtype, np.floating):
        raise ValueError(f"alpha must be float in [0, 1] (or bool), got {alpha.dtype}")
    if max_size is not None and max_size < 1:
        raise ValueError(f"max_size must be a positive number of pixels, got {max_size}")
    return rgb, alpha.astype(np.float32, copy=False)


def _within_unit_range(alpha: np.ndarray) -> bool:
    """True when every value is in [0, 1], so clipping would copy for nothing."""
    import cv2

    low, high, _, _ = cv2.minMaxLoc(alpha.reshape(alpha.shape[0], -1))
    return 0.0 <= low and high <= 1.0


def _private(array: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``array`` contiguous and sharing no memory with the caller's ``source``: the caller's
    arrays are never written and cannot change under a Prepared."""
    if np.may_share_memory(array, source):
        return array.copy()
    return np.ascontiguousarray(array)
