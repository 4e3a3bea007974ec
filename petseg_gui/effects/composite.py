"""Putting the effect together: per-photo preparation, the background at the right scale, and
the final composite ``out = alpha * sharpened_subject + (1 - alpha) * blurred_background``.

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
    """One photo + matte, with everything the sliders do not change computed at most once.

    Build it with :func:`prepare` (computes eagerly; meant for the GUI's worker) and render it
    with :func:`render_prepared` as often as the sliders move. Attributes are read-only arrays:
    ``rgb`` (uint8 HxWx3, the photo at output size) and ``alpha`` (float32 HxW).
    """

    def __init__(
        self,
        rgb: np.ndarray,
        alpha: np.ndarray,
        max_size: int | None = None,
        *,
        with_background: bool = True,
        borrow: bool = False,
    ) -> None:
        """Copy (and with ``max_size`` shrink) the photo and matte.

        ``with_background`` builds the blur's working images now, from the full-size input:
        highlights and the matte are turned into light and weights before shrinking, so a
        preview's bokeh is as bright as the saved photo's. Without it they are built from the
        shrunk copy on first use (what a render without blur never needs).
        ``borrow`` keeps read-only views of the inputs instead of copies when no shrinking or
        conversion needs new arrays (a 24 MP photo + matte are 170 MB): only for a caller that
        does not change them while this object lives, as the one-shot :func:`render`.
        """
        from petseg_gui.preview import downscale

        rgb, alpha = _checked(rgb, alpha, max_size)
        if not (borrow and _within_unit_range(alpha)):
            alpha = np.clip(alpha, 0.0, 1.0)
        small = downscale(rgb, max_size)
        # Private copies: the caller's arrays are never written and cannot change under us.
        if not borrow and np.may_share_memory(small, rgb):
            small = small.copy()
        self.rgb = np.ascontiguousarray(small).view()  # a view: read-only flag stays ours
        self.alpha = downscale(alpha, max_size).view()
        for array in (self.rgb, self.alpha):
            array.setflags(write=False)
        self._background_cache: tuple[float, np.ndarray] | None = None
        self._pyramid = self._build_pyramid(rgb, alpha) if with_background else None

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape  # type: ignore[return-value]

    @cached_property
    def subject_box(self) -> tuple[slice, slice] | None:
        """Rows and columns that hold every pixel with alpha > 0, plus the sharpening filter's
        reach; None without a subject. Sharpening and blending run only inside it: outside,
        the result is the background as is (a portrait's subject is often under half the frame).
        """
        rows = np.flatnonzero(self.alpha.max(axis=1) > 0)
        if rows.size == 0:
            return None
        cols = np.flatnonzero(self.alpha[rows[0] : rows[-1] + 1].max(axis=0) > 0)
        margin = sharpen.reach(max(self.shape))
        h, w = self.shape
        return (
            slice(max(0, rows[0] - margin), min(h, rows[-1] + 1 + margin)),
            slice(max(0, cols[0] - margin), min(w, cols[-1] + 1 + margin)),
        )

    @cached_property
    def _box_alpha(self) -> tuple[np.ndarray, np.ndarray]:
        """(alpha, 1 - alpha) inside subject_box, contiguous, as cv2.blendLinear wants them."""
        assert self.subject_box is not None
        alpha = np.ascontiguousarray(self.alpha[self.subject_box])
        return alpha, 1.0 - alpha

    @property
    def pyramid(self) -> list[np.ndarray]:
        """Area-averaged working copies of the premultiplied boosted-linear background
        (4 channels), the largest at most MAX_WORK_SIDE and never larger than the output."""
        if self._pyramid is None:
            self._pyramid = self._build_pyramid(self.rgb, self.alpha)
        return self._pyramid

    def _build_pyramid(self, rgb: np.ndarray, alpha: np.ndarray) -> list[np.ndarray]:
        return lens_blur.background_pyramid(rgb, alpha, min(MAX_WORK_SIDE, max(self.shape)))

    @cached_property
    def full_resolution_stack(self) -> np.ndarray:
        """The premultiplied background at output size: only the exact reference blur uses it."""
        premult, weight = lens_blur.premultiplied_background(self.rgb, self.alpha)
        return np.dstack([premult, weight])

    @cached_property
    def radius_fraction(self) -> np.ndarray:
        """Depth falloff map (see depth.py) on a copy of the matte at most DEPTH_MAP_SIDE."""
        from petseg_gui.preview import downscale

        return depth.radius_fraction(downscale(self.alpha, DEPTH_MAP_SIDE))

    @cached_property
    def sharpen_base(self) -> sharpen.SharpenBase | None:
        """Sharpening's precomputed parts for the subject box (None without a subject)."""
        if self.subject_box is None:
            return None
        box = np.ascontiguousarray(self.rgb[self.subject_box])
        return sharpen.sharpen_base(box, long_side=max(self.shape))

    def warm_up(self) -> Prepared:
        """Compute every slider-independent part now (e.g. in a worker thread)."""
        for name in ("subject_box", "_box_alpha", "pyramid", "radius_fraction", "sharpen_base"):
            getattr(self, name)
        return self

    def background(self, blur: float, *, exact: bool = False, keep: bool = True) -> np.ndarray:
        """uint8 HxWx3 lens-blurred background (subject refilled) at output size.

        The latest result is kept, so moving only the sharpen slider does not blur again.
        ``exact=True`` blurs at full output resolution: slow, the reference for the fast path.
        ``keep=False`` neither reads nor fills the cache: the result is the caller's to write
        into, unless it is :attr:`rgb` itself (no visible blur).
        """
        cached = self._background_cache
        if keep and not exact and cached is not None and cached[0] == blur:
            return cached[1]
        result = self._compute_background(blur, exact)
        if keep and not exact:
            self._background_cache = (blur, result)
        return result

    def _compute_background(self, blur: float, exact: bool) -> np.ndarray:
        import cv2

        h, w = self.shape
        long_side = max(h, w)
        radius = blur_radius(blur, long_side)
        if radius < MIN_VISIBLE_RADIUS:
            return self.rgb
        if exact:
            work = self.full_resolution_stack
        else:
            scale = min(1.0, MAX_WORK_SIDE / long_side, WORK_RADIUS / radius)
            work = _resized_from_pyramid(
                self.pyramid, (max(1, round(h * scale)), max(1, round(w * scale)))
            )
        wh, ww = work.shape[:2]
        work_radius = radius * max(wh, ww) / long_side
        blurs = lens_blur.disk_blurs(work, [work_radius * level for level in depth.LEVELS])
        fraction = cv2.resize(self.radius_fraction, (ww, wh), interpolation=cv2.INTER_LINEAR)
        weights = depth.level_weights(fraction.reshape(wh, ww))
        fill = lens_blur.mean_background(self.pyramid[-1])
        planes = lens_blur.blend_normalised(blurs, weights, fill)
        linear = cv2.merge(lens_blur.compress_highlights(planes)).reshape(wh, ww, 3)
        background = lens_blur.linear_to_srgb_u8(linear)
        if (wh, ww) != (h, w):
            background = cv2.resize(background, (w, h), interpolation=UPSAMPLING)
        return background.reshape(h, w, 3)


def prepare(rgb: np.ndarray, alpha: np.ndarray, max_size: int | None = None) -> Prepared:
    """Everything about one photo + matte that the sliders do not change, computed now."""
    return Prepared(rgb, alpha, max_size).warm_up()


def render_prepared(
    prepared: Prepared, params: PortraitParams, *, exact: bool = False
) -> np.ndarray:
    """The portrait effect on a prepared photo: uint8 HxWx3 at the prepared size (a new array).

    ``exact=True`` blurs at full resolution instead of the reduced working size: slow, it is
    the reference the fast path is measured against (tests, benchmarks/effects_speed.py).
    """
    return _render(prepared, params, exact=exact, one_shot=False)


def render(
    rgb: np.ndarray,
    alpha: np.ndarray,
    params: PortraitParams,
    *,
    max_size: int | None = None,
) -> np.ndarray:
    """One-shot portrait effect: uint8 hxwx3, longest side ``max_size`` (None = full size)."""
    needs_blur = params.enabled and params.blur > 0
    # The Prepared never escapes, so it may borrow the inputs and skip every cache: at 24 MP
    # that keeps ~600 MB of copies and whole-subject temporaries from existing at once.
    prepared = Prepared(rgb, alpha, max_size, with_background=needs_blur, borrow=True)
    return _render(prepared, params, exact=False, one_shot=True)


def _render(
    prepared: Prepared, params: PortraitParams, *, exact: bool, one_shot: bool
) -> np.ndarray:
    """render_prepared's work. ``one_shot``: the background is written into instead of copied
    and cached, and the subject is sharpened and blended in bands of rows instead of from the
    cached whole-subject SharpenBase (same pixels; see _composite_subject)."""
    if params.is_identity:
        return prepared.rgb.copy()
    background = prepared.background(params.blur, exact=exact, keep=not one_shot)
    unchanged = background is prepared.rgb
    # A cached background (or the photo) stays untouched; a one-shot one becomes the output.
    out = background.copy() if unchanged or not one_shot else background
    box = prepared.subject_box
    if box is None or (unchanged and params.sharpen == 0):
        return out  # no subject to composite, or nothing changed (blur invisibly small)
    if one_shot:
        rows, cols = box
        for start in range(rows.start, rows.stop, COMPOSITE_BAND_ROWS):
            band = slice(start, min(rows.stop, start + COMPOSITE_BAND_ROWS))
            _composite_subject(prepared, out, (band, cols), params.sharpen)
    else:
        _composite_subject(prepared, out, box, params.sharpen, cached_base=True)
    return out


def _composite_subject(
    prepared: Prepared,
    out: np.ndarray,
    region: tuple[slice, slice],
    sharpen_amount: float,
    *,
    cached_base: bool = False,
) -> None:
    """``out[region] = alpha * sharpened_photo + (1 - alpha) * out[region]``, rounded.

    ``region`` lies inside the subject box; without ``cached_base`` it is a band of its rows,
    sharpened from the box's rows around it (sharpen.reach of them, cut at the box like the
    cached whole-box base), so every pixel sees the very neighbourhood it sees in the whole box.
    """
    import cv2

    rows, cols = region
    if cached_base:
        assert region == prepared.subject_box and prepared.sharpen_base is not None
        alpha, inverse = prepared._box_alpha
        subject = sharpen.sharpened(prepared.sharpen_base, sharpen_amount)
    else:
        box_rows = prepared.subject_box[0]  # type: ignore[index]
        margin = sharpen.reach(max(prepared.shape))
        top, bottom = (
            max(box_rows.start, rows.start - margin),
            min(box_rows.stop, rows.stop + margin),
        )
        context = np.ascontiguousarray(prepared.rgb[top:bottom, cols])
        base = sharpen.sharpen_base(context, long_side=max(prepared.shape))
        subject = sharpen.sharpened(base, sharpen_amount)[rows.start - top : rows.stop - top]
        subject = np.ascontiguousarray(subject)
        alpha = np.ascontiguousarray(prepared.alpha[region])
        inverse = 1.0 - alpha
    behind = np.ascontiguousarray(out[region])
    # (alpha * s + (1 - alpha) * b) / (1 + 1e-5), rounded: exact where alpha is 0 or 1.
    out[region] = cv2.blendLinear(subject, behind, alpha, inverse).reshape(subject.shape)


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
