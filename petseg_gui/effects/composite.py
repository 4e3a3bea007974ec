"""Putting the effect together: per-photo preparation, the background at the right scale, and
the final composite ``out = alpha * sharpened_subject + (1 - alpha) * blurred_background``.

Two renderers share the pure functions at the end of this module (``blurred_background``,
``blur_work_image``, ``subject_box``, ``composite_band``): the cached preview renderer
(``Prepared`` + ``render_prepared``, for slider moves) and the one-shot banded full render
(``render``, for saving: no caches, the subject sharpened and blended in bands of rows).

Speed comes from blurring at a reduced resolution chosen from the radius: the blurred background
has no fine detail left, so it is computed where the largest disk is ``WORK_RADIUS`` pixels wide,
then upsampled; only the (cheap) composite runs at the output resolution with the sharp subject.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from petseg_gui.effects import depth, lens_blur, sharpen
from petseg_gui.effects.params import PortraitParams, blur_radius

# Far-background disk radius, in pixels of the reduced working image. Larger draws crisper
# bokeh edges and costs about its square in time (docs/EFFECTS.md has the measurements).
WORK_RADIUS = 6.0
# Longest side of the working image: small radii, which would ask for a large one, stay cheap,
# and a preview and the full-size render then blur the very same working image.
MAX_WORK_SIDE = 640
# Below this radius (output pixels) a blur is invisible; the background is left as is.
MIN_VISIBLE_RADIUS = 0.5
# The depth map is computed once on a copy of the matte this large (longer side); distances are
# smooth, so resizing it to any working size loses nothing.
DEPTH_MAP_SIDE = 512
# Bicubic: as fast as bilinear here and closer to the exact full-resolution blur.
UPSAMPLING = 2  # cv2.INTER_CUBIC (a literal so importing this module does not import cv2)
# Rows of the subject sharpened and blended at a time by the one-shot render: a 24 MP
# subject box at once needs ~200 MB of uint8 and float temporaries, a band of 512 rows ~15 MB,
# at the cost of re-sharpening 2 * sharpen.reach rows (~10%) per band.
COMPOSITE_BAND_ROWS = 512


class Prepared:
    """One photo + matte, with everything the sliders do not change computed at most once: the
    cached preview renderer.

    Build it with :func:`prepare` (computes eagerly; meant for the GUI's worker) and render it
    with :func:`render_prepared` as often as the sliders move. Attributes are read-only arrays:
    ``rgb`` (uint8 HxWx3, the photo at output size) and ``alpha`` (float32 HxW).
    """

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray, max_size: int | None = None) -> None:
        """Copy (and with ``max_size`` shrink) the photo and matte.

        The blur's working images are built now, from the full-size input: highlights and the
        matte are turned into light and weights before shrinking, so a preview's bokeh is as
        bright as the saved photo's.
        """
        from petseg_gui.preview import downscale

        rgb, alpha = _checked(rgb, alpha, max_size)
        alpha = np.clip(alpha, 0.0, 1.0)
        small = downscale(rgb, max_size)
        # Private copies: the caller's arrays are never written and cannot change under us.
        if np.may_share_memory(small, rgb):
            small = small.copy()
        self.rgb = np.ascontiguousarray(small).view()  # a view: read-only flag stays ours
        self.alpha = downscale(alpha, max_size).view()
        for array in (self.rgb, self.alpha):
            array.setflags(write=False)
        self._background_cache: tuple[float, np.ndarray] | None = None
        self.pyramid = lens_blur.background_pyramid(rgb, alpha, _work_side(self.shape))

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape  # type: ignore[return-value]

    @cached_property
    def subject_box(self) -> tuple[slice, slice] | None:
        """See :func:`subject_box`."""
        return subject_box(self.alpha)

    @cached_property
    def _box_alpha(self) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, 1 - alpha) inside subject_box, contiguous, as cv2.blendLinear wants them."""
        assert self.subject_box is not None
        alpha = np.ascontiguousarray(self.alpha[self.subject_box])
        return alpha, 1.0 - alpha

    @cached_property
    def radius_fraction(self) -> np.ndarray:
        """See :func:`depth_fraction`."""
        return depth_fraction(self.alpha)

    @cached_property
    def sharpen_base(self) -> sharpen.SharpenBase | None:
        """Sharpening's precomputed parts for the subject box (None without a subject)."""
        if self.subject_box is None:
            return None
        box = np.ascontiguousarray(self.rgb[self.subject_box])
        return sharpen.sharpen_base(box, long_side=max(self.shape))

    def warm_up(self) -> Prepared:
        """Compute every slider-independent part now (e.g. in a worker thread)."""
        for name in ("subject_box", "_box_alpha", "radius_fraction", "sharpen_base"):
            getattr(self, name)
        return self

    def background(self, blur: float) -> np.ndarray:
        """uint8 HxWx3 lens-blurred background (subject refilled) at output size, or
        :attr:`rgb` itself when the blur would be invisible. The latest result is kept, so
        moving only the sharpen slider does not blur again. Never write into it."""
        cached = self._background_cache
        if cached is not None and cached[0] == blur:
            return cached[1]
        result = blurred_background(self.pyramid, self.radius_fraction, self.shape, blur)
        result = self.rgb if result is None else result
        self._background_cache = (blur, result)
        return result

    def composite(self, background: np.ndarray, sharpen_amount: float) -> np.ndarray:
        """A new uint8 HxWx3: the sharpened subject blended over ``background`` (unchanged)."""
        out = background.copy()
        box = self.subject_box
        if box is None or (background is self.rgb and sharpen_amount == 0):
            return out  # no subject to composite, or nothing changed (blur invisibly small)
        alpha, inverse = self._box_alpha
        subject = sharpen.sharpened(self.sharpen_base, sharpen_amount)  # type: ignore[arg-type]
        _blend(out, box, subject, alpha, inverse)
        return out


def prepare(rgb: np.ndarray, alpha: np.ndarray, max_size: int | None = None) -> Prepared:
    """Everything about one photo + matte that the sliders do not change, computed now."""
    return Prepared(rgb, alpha, max_size).warm_up()


def render_prepared(prepared: Prepared, params: PortraitParams) -> np.ndarray:
    """The portrait effect on a prepared photo: uint8 HxWx3 at the prepared size (a new array)."""
    if params.is_identity:
        return prepared.rgb.copy()
    return prepared.composite(prepared.background(params.blur), params.sharpen)


def render(
    rgb: np.ndarray,
    alpha: np.ndarray,
    params: PortraitParams,
    *,
    max_size: int | None = None,
) -> np.ndarray:
    """One-shot portrait effect: uint8 hxwx3, longest side ``max_size`` (None = full size).

    Nothing is cached and the inputs are only read (no copies unless shrinking): at 24 MP that
    keeps ~600 MB of copies and whole-subject temporaries from existing at once. The background
    becomes the output, and the subject is sharpened and blended into it in bands of rows: the
    same pixels as :func:`render_prepared`, bit for bit.
    """
    from petseg_gui.preview import downscale

    rgb, alpha = _checked(rgb, alpha, max_size)
    if not _within_unit_range(alpha):
        alpha = np.clip(alpha, 0.0, 1.0)
    small, small_alpha = downscale(rgb, max_size), downscale(alpha, max_size)
    if params.is_identity:
        return small.copy()
    shape = small_alpha.shape
    background = None
    if params.enabled and params.blur > 0:
        pyramid = lens_blur.background_pyramid(rgb, alpha, _work_side(shape))
        background = blurred_background(pyramid, depth_fraction(small_alpha), shape, params.blur)
    out = small.copy() if background is None else background
    box = subject_box(small_alpha)
    if box is None or (background is None and params.sharpen == 0):
        return out
    rows, cols = box
    for start in range(rows.start, rows.stop, COMPOSITE_BAND_ROWS):
        band = slice(start, min(rows.stop, start + COMPOSITE_BAND_ROWS))
        composite_band(small, small_alpha, out, box, band, params.sharpen)
    return out


# --- the pure pieces both renderers are made of -----------------------------------------------


def subject_box(alpha: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns that hold every pixel with alpha > 0, plus the sharpening filter's
    reach; None without a subject. Sharpening and blending run only inside it: outside,
    the result is the background as is (a portrait's subject is often under half the frame).
    """
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0] : rows[-1] + 1].max(axis=0) > 0)
    h, w = alpha.shape
    margin = sharpen.reach(max(h, w))
    return (
        slice(max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)),
        slice(max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)),
    )


def depth_fraction(alpha: np.ndarray) -> np.ndarray:
    """Depth falloff map (see depth.py) on a copy of the matte at most DEPTH_MAP_SIDE."""
    from petseg_gui.preview import downscale

    return depth.radius_fraction(downscale(alpha, DEPTH_MAP_SIDE))


def blurred_background(
    pyramid: list[np.ndarray], fraction: np.ndarray, shape: tuple[int, int], blur: float
) -> np.ndarray | None:
    """uint8 HxWx3 (``shape``) lens-blurred background from the working ``pyramid``
    (lens_blur.background_pyramid) and the depth map ``fraction``; None when the blur would be
    invisible (the photo is the background then)."""
    import cv2

    h, w = shape
    long_side = max(h, w)
    radius = blur_radius(blur, long_side)
    if radius < MIN_VISIBLE_RADIUS:
        return None
    scale = min(1.0, MAX_WORK_SIDE / long_side, WORK_RADIUS / radius)
    work = _resized_from_pyramid(pyramid, (max(1, round(h * scale)), max(1, round(w * scale))))
    work_radius = radius * max(work.shape[:2]) / long_side
    background = blur_work_image(
        work, fraction, lens_blur.mean_background(pyramid[-1]), work_radius
    )
    if background.shape[:2] != (h, w):
        background = cv2.resize(background, (w, h), interpolation=UPSAMPLING)
    return background.reshape(h, w, 3)


def blur_work_image(
    work: np.ndarray, fraction: np.ndarray, fill: np.ndarray, radius: float
) -> np.ndarray:
    """uint8 hxwx3: the premultiplied ``[rgb * w, w]`` stack ``work`` disk-blurred with
    ``radius`` (its pixels) scaled per depth level, ``fill`` (linear rgb) where no background
    reaches, highlights compressed, back to sRGB."""
    import cv2

    wh, ww = work.shape[:2]
    blurs = lens_blur.disk_blurs(work, [radius * level for level in depth.LEVELS])
    fraction = cv2.resize(fraction, (ww, wh), interpolation=cv2.INTER_LINEAR)
    weights = depth.level_weights(fraction.reshape(wh, ww))
    planes = lens_blur.blend_normalised(blurs, weights, fill)
    linear = cv2.merge(lens_blur.compress_highlights(planes)).reshape(wh, ww, 3)
    return lens_blur.linear_to_srgb_u8(linear)


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
    every pixel sees the very neighbourhood it sees in the whole box.
    """
    box_rows, cols = box
    long_side = max(alpha.shape)
    margin = sharpen.reach(long_side)
    top, bottom = max(box_rows.start, rows.start - margin), min(box_rows.stop, rows.stop + margin)
    context = np.ascontiguousarray(rgb[top:bottom, cols])
    base = sharpen.sharpen_base(context, long_side=long_side)
    subject = sharpen.sharpened(base, sharpen_amount)[rows.start - top : rows.stop - top]
    band_alpha = np.ascontiguousarray(alpha[rows, cols])
    _blend(out, (rows, cols), np.ascontiguousarray(subject), band_alpha, 1.0 - band_alpha)


def _blend(
    out: np.ndarray,
    region: tuple[slice, slice],
    subject: np.ndarray,
    alpha: np.ndarray,
    inverse: np.ndarray,
) -> None:
    import cv2

    behind = np.ascontiguousarray(out[region])
    # (alpha * s + (1 - alpha) * b) / (1 + 1e-5), rounded: exact where alpha is 0 or 1.
    out[region] = cv2.blendLinear(subject, behind, alpha, inverse).reshape(subject.shape)


def _work_side(shape: tuple[int, int]) -> int:
    """The working pyramid's largest side: at most MAX_WORK_SIDE, never larger than the output."""
    return min(MAX_WORK_SIDE, max(shape))


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
