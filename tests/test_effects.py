"""The portrait effect engine (petseg_gui.effects): each test would fail if the effect broke.

All images are generated here and kept small; no model is needed.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from effects_reference import render_exact
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.effects import PortraitParams, Prepared, prepare, render, render_prepared
from petseg_gui.effects.params import MAX_BLUR_FRACTION


def detail(image: np.ndarray, where: np.ndarray) -> float:
    """Mean absolute Laplacian (fine detail) of ``image`` over the pixels in ``where``."""
    lap = cv2.Laplacian(image.astype(np.float32), cv2.CV_32F, ksize=3)
    return float(np.abs(lap)[where].mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def erode(mask: np.ndarray, pixels: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def textured_subject_photo(height: int = 240, width: int = 320, seed: int = 1):
    """Synthetic photo whose subject has smooth, photo-like texture (blurred noise) to sharpen."""
    rng = np.random.default_rng(seed)
    photo = synthetic_photo(height, width, seed=seed)
    mask = synthetic_subject_mask(height, width)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (height, width, 3)).astype(np.float32), (0, 0), 1.5)
    subject = np.clip(np.float32([170, 130, 100]) + noise, 0, 255).astype(np.uint8)
    photo[mask] = subject[mask]
    return photo, mask


@pytest.fixture
def scene():
    photo = synthetic_photo()
    mask = synthetic_subject_mask()
    return photo, mask, mask.astype(np.float32)


# --- parameters and identity ------------------------------------------------------------


@pytest.mark.parametrize("field", ["blur", "sharpen"])
@pytest.mark.parametrize("value", [-1.0, 100.5, float("nan"), float("inf")])
def test_out_of_range_parameters_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        PortraitParams(**{field: value})


def test_disabled_and_zero_settings_return_the_photo_bit_for_bit(scene) -> None:
    photo, _, alpha = scene
    for params in (
        PortraitParams(enabled=False, blur=80, sharpen=80),
        PortraitParams(blur=0, sharpen=0),
    ):
        out = render(photo, alpha, params)
        assert out.dtype == np.uint8 and out.shape == photo.shape
        assert np.array_equal(out, photo)
        assert not np.shares_memory(out, photo)  # a new array: editing it cannot damage the photo


def test_disabled_preview_is_the_resized_photo(scene) -> None:
    photo, _, alpha = scene
    out = render(photo, alpha, PortraitParams(enabled=False), max_size=100)
    assert out.shape == (75, 100, 3)
    expected = cv2.resize(photo, (100, 75), interpolation=cv2.INTER_AREA)
    assert np.array_equal(out, expected)
    assert np.array_equal(out, prepare(photo, alpha, max_size=100).rgb)


def test_inputs_are_not_modified(scene) -> None:
    photo, _, alpha = scene
    photo_before, alpha_before = photo.copy(), alpha.copy()
    render(photo, alpha, PortraitParams(blur=100, sharpen=100))
    render(photo, alpha, PortraitParams(blur=60, sharpen=40), max_size=120)
    assert np.array_equal(photo, photo_before) and np.array_equal(alpha, alpha_before)
    # render() borrows the inputs through read-only views; the caller's arrays stay writable.
    assert photo.flags.writeable and alpha.flags.writeable


@pytest.mark.parametrize(
    ("shape", "max_size", "expected"),
    [
        ((240, 320), None, (240, 320)),
        ((240, 320), 160, (120, 160)),
        ((240, 320), 4000, (240, 320)),  # never enlarged
        ((1, 1), None, (1, 1)),
        ((8, 8), None, (8, 8)),
        ((10, 2000), None, (10, 2000)),
        ((2000, 10), 500, (500, 2)),
        ((3, 700), 64, (1, 64)),
    ],
)
@pytest.mark.parametrize("params", [PortraitParams(), PortraitParams(blur=100, sharpen=100)])
def test_shapes_dtypes_and_extreme_sizes(shape, max_size, expected, params) -> None:
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    alpha = rng.random(shape, dtype=np.float32)
    out = render(photo, alpha, params, max_size=max_size)
    assert out.dtype == np.uint8
    assert out.shape == (*expected, 3)


def test_views_and_other_float_types_are_accepted(scene) -> None:
    photo, mask, alpha = scene
    bgr = np.ascontiguousarray(photo[..., ::-1])
    params = PortraitParams(blur=70, sharpen=50)
    expected = render(photo, alpha, params)
    assert np.array_equal(render(bgr[..., ::-1], alpha, params), expected)  # a strided view
    assert np.array_equal(render(photo, alpha.astype(np.float64), params), expected)
    assert np.array_equal(render(photo, mask, params), expected)  # a boolean matte
    assert np.array_equal(render(photo, alpha[..., None], params), expected)  # HxWx1


def test_bad_inputs_raise_value_error(scene) -> None:
    photo, _, alpha = scene
    with pytest.raises(ValueError, match="alpha shape"):
        render(photo, alpha[:-1], PortraitParams())
    with pytest.raises(ValueError, match="uint8"):
        render(photo.astype(np.float32), alpha, PortraitParams())
    with pytest.raises(ValueError, match="alpha must be float"):
        render(photo, (alpha * 255).astype(np.uint8), PortraitParams())
    with pytest.raises(ValueError, match="max_size"):
        render(photo, alpha, PortraitParams(), max_size=0)


# --- the lens blur ----------------------------------------------------------------------


def test_linear_light_round_trip_is_exact_for_every_code() -> None:
    # The blur works in linear light; converting there and back must not shift any value,
    # or flat areas would change brightness with the effect on.
    from petseg_gui.effects import lens_blur

    codes = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    linear = cv2.LUT(codes, lens_blur._srgb_to_linear_table())
    assert np.array_equal(lens_blur.linear_to_srgb_u8(linear), codes)


def test_background_detail_falls_monotonically_as_blur_rises(scene) -> None:
    photo, mask, alpha = scene
    background = erode(~mask, 2)
    levels = [
        detail(render(photo, alpha, PortraitParams(blur=b, sharpen=0)), background)
        for b in (0, 25, 50, 75, 100)
    ]
    assert all(a > b for a, b in zip(levels, levels[1:], strict=False)), levels
    assert levels[-1] < 0.2 * levels[0], levels


def test_subject_is_untouched_at_sharpen_zero(scene) -> None:
    photo, mask, alpha = scene
    out = render(photo, alpha, PortraitParams(blur=100, sharpen=0))
    # alpha is exactly 1 on the subject: the composite must give back the photo's pixels.
    assert np.array_equal(out[mask], photo[mask])


def test_subject_detail_rises_with_sharpen() -> None:
    photo, mask = textured_subject_photo()
    alpha = mask.astype(np.float32)
    inner = erode(mask, 3)
    levels = [
        detail(render(photo, alpha, PortraitParams(blur=50, sharpen=s)), inner)
        for s in (0, 30, 60, 100)
    ]
    assert abs(levels[0] - detail(photo, inner)) < 1e-6
    assert all(a < b for a, b in zip(levels, levels[1:], strict=False)), levels
    assert levels[-1] > 1.3 * levels[0], levels


def test_sharpening_stays_on_the_subject() -> None:
    photo, mask = textured_subject_photo()
    out = render(photo, mask.astype(np.float32), PortraitParams(blur=0, sharpen=100))
    assert np.array_equal(out[~mask], photo[~mask])
    assert not np.array_equal(out[mask], photo[mask])


def test_sharpening_a_small_subject_matches_sharpening_the_whole_photo() -> None:
    # The engine sharpens only a box around the subject; the box must reach far enough that
    # the subject comes out exactly as if the whole photo had been sharpened.
    from petseg_gui.effects import sharpen

    photo, _ = textured_subject_photo(200, 300, seed=7)
    alpha = np.zeros((200, 300), np.float32)
    alpha[50:90, 120:170] = 1.0
    out = render(photo, alpha, PortraitParams(blur=40, sharpen=80))
    whole = sharpen.sharpened(sharpen.sharpen_base(photo), 80)
    assert np.array_equal(out[50:90, 120:170], whole[50:90, 120:170])


def test_strong_sharpening_does_not_ring() -> None:
    # A soft step and a thin line inside the subject: unclamped unsharp masking at this amount
    # would overshoot by tens of levels on both sides of each edge.
    photo = np.full((64, 96, 3), 60, np.uint8)
    photo[:, 48:] = 190
    photo[:, 20] = 120
    photo = cv2.GaussianBlur(photo, (0, 0), 1.5)
    alpha = np.ones((64, 96), np.float32)
    out = render(photo, alpha, PortraitParams(blur=0, sharpen=100)).astype(int)
    window = np.ones((3, 3), np.uint8)
    low = cv2.erode(photo, window, borderType=cv2.BORDER_REPLICATE).astype(int)
    high = cv2.dilate(photo, window, borderType=cv2.BORDER_REPLICATE).astype(int)
    assert (out >= low).all() and (out <= high).all()
    assert out.min() >= 60 and out.max() <= 190
    # ...and it still sharpens: the edge gets steeper.
    steepest = np.abs(np.diff(out[32, 40:56, 0])).max()
    assert steepest > 1.3 * np.abs(np.diff(photo[32, 40:56, 0].astype(int))).max()


@pytest.mark.parametrize("soft_edge", [0.0, 2.0])
def test_no_subject_colour_halo_in_the_blurred_background(soft_edge: float) -> None:
    height, width = 200, 260
    background_colour = np.array([20, 25, 60])
    photo = np.empty((height, width, 3), np.uint8)
    photo[:] = background_colour
    mask = synthetic_subject_mask(height, width)
    photo[mask] = (250, 220, 40)  # a bright yellow subject
    alpha = mask.astype(np.float32)
    if soft_edge:
        alpha = cv2.GaussianBlur(alpha, (0, 0), soft_edge)
        # Edge pixels of a real photo are mixtures of subject and background, like the matte.
        photo = (alpha[..., None] * photo + (1 - alpha[..., None]) * background_colour).astype(
            np.uint8
        )
    out = render(photo, alpha, PortraitParams(blur=100, sharpen=0)).astype(int)
    gap = 3 + int(np.ceil(2 * soft_edge))
    outside = erode(~mask, gap)
    deviation = np.abs(out[outside] - background_colour).max()
    assert deviation <= 3, f"subject colour leaked {deviation} levels into the background"


# --- the matte as coverage (coverage.py) --------------------------------------------------


def test_matte_levels_are_stretched_between_the_trimap_thresholds() -> None:
    from petseg_gui.effects import coverage
    from petseg_gui.inference.matting import RefineParams

    # One rule for the trimap pane and the portrait: the same thresholds.
    assert (coverage.LOW, coverage.HIGH) == (RefineParams.trimap_low, RefineParams.trimap_high)
    alpha = np.float32([[0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97, 1.0, -0.2, 1.3, np.nan]])
    kept = alpha.copy()
    got = coverage.coverage(alpha)
    assert got.dtype == np.float32 and got.shape == alpha.shape
    np.testing.assert_allclose(got[0, :11], [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 0, 1], atol=1e-6)
    assert got[0, 4] == np.float32(0.5)  # the half-way line stays exactly where it was
    assert np.isnan(got[0, 11])
    np.testing.assert_array_equal(alpha, kept)  # the caller's matte is not written


def test_a_models_faint_background_and_unsure_subject_render_like_a_clean_matte(scene) -> None:
    # A model's matte is a probability: a few percent far out in the background (the faint
    # sharp ghost it left in the blur) and 0.9-1 inside the subject. What the trimap calls
    # background (<= 0.1) and subject (>= 0.9) renders as a clean 0 / 1 matte does.
    photo, mask, clean = scene
    rng = np.random.default_rng(3)
    faint = np.where(mask, rng.uniform(0.901, 1.0, mask.shape), rng.uniform(0, 0.099, mask.shape))
    faint = faint.astype(np.float32)
    params = PortraitParams(blur=60, sharpen=40)
    expected = render(photo, clean, params)
    assert np.array_equal(render(photo, faint, params), expected)
    assert np.array_equal(render_prepared(prepare(photo, faint), params), expected)
    # A Prepared still hands out the matte as given (the editor's live preview copy of the
    # matte is taken from it), beside the stretched one it blends with.
    prepared = Prepared(photo, faint)
    np.testing.assert_array_equal(prepared.alpha, faint)
    np.testing.assert_array_equal(prepared.coverage, clean)


def test_what_the_trimap_calls_background_or_subject_is_exactly_that_in_the_portrait() -> None:
    from petseg_gui.effects import sharpen
    from petseg_gui.inference.matting import BACKGROUND, SUBJECT, RefineParams, trimap_from_alpha

    height, width = 120, 256
    photo = synthetic_photo(height, width, seed=5)
    alpha = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))  # a slow ramp
    defaults = RefineParams()
    trimap = trimap_from_alpha(alpha, None, defaults.trimap_low, defaults.trimap_high)
    params = PortraitParams(blur=50, sharpen=70)
    out = render(photo, alpha, params)
    background = Prepared(photo, alpha).background(params.blur)
    subject = sharpen.sharpened(sharpen.sharpen_base(photo), params.sharpen)
    behind, front = trimap == BACKGROUND, trimap == SUBJECT
    assert behind.mean() > 0.05 and front.mean() > 0.05
    assert np.array_equal(out[behind], background[behind])
    assert np.array_equal(out[front], subject[front])


def test_unknown_background_falls_back_to_the_mean_background_colour() -> None:
    # Deep inside a large subject no background is within the blur's reach. That area is hidden
    # by alpha = 1, but upsampling mixes it into its neighbours, so it must hold a plausible
    # colour (the mean background), not black.
    from petseg_gui.effects import lens_blur

    stack = np.zeros((40, 60, 4), np.float32)
    stack[:, :20, :3] = (0.1, 0.2, 0.4)  # background (premultiplied by weight 1)
    stack[:, :20, 3] = 1.0  # the right two thirds: subject only, weight 0
    fill = lens_blur.mean_background(stack)
    np.testing.assert_allclose(fill, (0.1, 0.2, 0.4), rtol=1e-5)
    blurred = lens_blur.disk_blurs(stack, [3.0])
    planes = lens_blur.normalised(blurred[0], fill)  # one level, weight 1 everywhere
    colour = np.dstack(planes)
    np.testing.assert_allclose(colour[:, 50], np.tile(fill, (40, 1)), rtol=1e-3)
    np.testing.assert_allclose(colour[:, 5], np.tile(fill, (40, 1)), rtol=1e-3)
    assert np.isfinite(colour).all()


def test_bright_dot_becomes_a_flat_topped_disc() -> None:
    size = 400
    photo = np.full((size, size, 3), 12, np.uint8)
    cy, cx = 200, 200
    photo[cy - 2 : cy + 2, cx - 2 : cx + 2] = 255
    alpha = np.zeros((size, size), np.float32)
    alpha[:, :40] = 1.0  # a subject far away from the light
    out = render(photo, alpha, PortraitParams(blur=100, sharpen=0)).astype(float)
    radius = MAX_BLUR_FRACTION * size  # the far-background radius
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(yy - cy + 0.5, xx - cx + 0.5)
    lum = out.mean(axis=2)
    centre = lum[r < 0.2 * radius].mean()
    assert centre > 60, "the highlight should bloom into a bright disc, not fade away"
    top = lum[r < 0.6 * radius]
    assert top.min() > 0.85 * centre, "disc top should be flat (a Gaussian would fall off)"
    ring = lum[(r > 0.6 * radius) & (r < 0.75 * radius)]
    assert ring.mean() > 0.8 * centre
    outside = lum[(r > 1.3 * radius) & (r < 2.0 * radius)]
    assert outside.max() < 12 + 4, "the disc should have a sharp rim, not a long tail"


@pytest.mark.parametrize("level", [150, 215, 235, 250, 255])
def test_evenly_bright_background_keeps_its_brightness(level: int) -> None:
    # Highlights are expanded before the blur so small lights bloom; a large bright area (sky,
    # water) must still come back at its own brightness, not blown out to white.
    rng = np.random.default_rng(level)
    photo = np.clip(level + rng.integers(-2, 3, (200, 300, 3)), 0, 255).astype(np.uint8)
    mask = synthetic_subject_mask(200, 300)
    photo[mask] = (40, 60, 80)
    out = render(photo, mask.astype(np.float32), PortraitParams(blur=100, sharpen=0))
    far = erode(~mask, 12)
    assert abs(out[far].astype(float).mean() - photo[far].astype(float).mean()) < 1.5


def test_background_near_the_subject_is_blurred_less_than_far_away() -> None:
    rng = np.random.default_rng(3)
    height, width = 200, 400
    photo = rng.integers(0, 200, (height, width, 3), dtype=np.uint8)  # detail, no highlights
    alpha = np.zeros((height, width), np.float32)
    alpha[:, :60] = 1.0
    out = render(photo, alpha, PortraitParams(blur=100, sharpen=0))
    columns = np.zeros((height, width), bool)
    near, far = columns.copy(), columns.copy()
    near[20:-20, 62:70] = True  # 2-10 px from the subject's edge
    far[20:-20, 300:380] = True
    assert detail(out, near) > 1.4 * detail(out, far)


def test_alpha_all_zero_blurs_the_whole_photo_evenly() -> None:
    photo = synthetic_photo()
    alpha = np.zeros(photo.shape[:2], np.float32)
    out = render(photo, alpha, PortraitParams(blur=60, sharpen=100))
    everywhere = np.ones(photo.shape[:2], bool)
    assert detail(out, everywhere) < 0.25 * detail(photo, everywhere)
    left, right = everywhere.copy(), everywhere.copy()
    left[:, 160:] = False
    right[:, :160] = False
    assert detail(out, left) == pytest.approx(detail(out, right), rel=0.3)
    # No subject: sharpening alone changes nothing.
    assert np.array_equal(render(photo, alpha, PortraitParams(blur=0, sharpen=100)), photo)


def test_alpha_all_one_keeps_the_photo_and_only_sharpens() -> None:
    photo, _ = textured_subject_photo()
    alpha = np.ones(photo.shape[:2], np.float32)
    assert np.array_equal(render(photo, alpha, PortraitParams(blur=100, sharpen=0)), photo)
    out = render(photo, alpha, PortraitParams(blur=100, sharpen=50))
    assert np.array_equal(out, render(photo, alpha, PortraitParams(blur=0, sharpen=50)))
    assert not np.array_equal(out, photo)


# --- preview, preparation, and the reduced-resolution shortcut ---------------------------


@pytest.mark.parametrize(
    "params", [PortraitParams(), PortraitParams(blur=100, sharpen=0), PortraitParams(blur=20)]
)
def test_preview_matches_the_downscaled_full_render(params: PortraitParams) -> None:
    photo, mask = textured_subject_photo(480, 640, seed=4)
    # Background structure at several scales (and a few lights), so a preview blurred by the
    # wrong radius would differ visibly from the full render.
    rng = np.random.default_rng(4)
    blobs = cv2.GaussianBlur(rng.normal(0, 60, (480, 640, 3)).astype(np.float32), (0, 0), 4)
    background = np.clip(100 + blobs, 0, 255).astype(np.uint8)
    for y, x in rng.integers(10, 470, (15, 2)):
        background[y : y + 4, x : x + 4] = 255
    photo[~mask] = background[~mask]
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0)
    full = render(photo, alpha, params)
    preview = render(photo, alpha, params, max_size=320)
    assert preview.shape == (240, 320, 3)
    downscaled = cv2.resize(full, (320, 240), interpolation=cv2.INTER_AREA)
    assert psnr(preview, downscaled) > 35.0


def test_render_prepared_matches_render_across_slider_moves(scene) -> None:
    photo, _, alpha = scene
    prepared = prepare(photo, alpha, max_size=200)
    # Includes sharpen-only moves, which reuse the cached background.
    for params in (
        PortraitParams(blur=30, sharpen=0),
        PortraitParams(blur=30, sharpen=70),
        PortraitParams(blur=90, sharpen=70),
        PortraitParams(enabled=False),
        PortraitParams(blur=90, sharpen=10),
    ):
        expected = render(photo, alpha, params, max_size=200)
        assert np.array_equal(render_prepared(prepared, params), expected)


def test_fast_background_is_close_to_the_exact_full_resolution_blur() -> None:
    photo, mask = textured_subject_photo(300, 400, seed=5)
    rng = np.random.default_rng(5)
    for y, x in rng.integers(10, 290, (12, 2)):
        photo[y : y + 3, x : x + 3] = 255  # highlights, so bokeh is part of the comparison
    prepared = Prepared(photo, cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.0))
    for blur in (20, 60, 100):
        params = PortraitParams(blur=blur, sharpen=0)
        fast = render_prepared(prepared, params)
        exact = render_exact(prepared, params)
        assert psnr(fast, exact) > 35.0, blur


# --- memory: band-wise building gives the whole-image result -------------------------------


@pytest.mark.parametrize(
    ("shape", "top_side"),
    [
        ((301, 403), 64),  # fractional factors: separable horizontal-then-vertical passes
        ((320, 480), 120),  # whole factors (4 x 4): OpenCV's block path, bands of whole blocks
        ((400, 37), 64),  # narrower than tall
    ],
)
def test_band_wise_background_pyramid_equals_the_whole_image_build(shape, top_side) -> None:
    from petseg_gui.effects import coverage, lens_blur

    h, w = shape
    photo, mask = textured_subject_photo(h, w, seed=7)
    photo[::23, ::17] = 255  # highlights: the boost is computed per band too
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 2.0)
    # (background_pyramid stretches the matte as given, coverage.py, band by band)
    stack = lens_blur.premultiplied_background(photo, coverage.coverage(alpha))
    whole = lens_blur.area_pyramid(stack, top_side)
    banded = lens_blur.background_pyramid(photo, alpha, top_side, band_rows=24)
    assert [level.shape for level in banded] == [level.shape for level in whole]
    for got, expected in zip(banded, whole, strict=True):
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("params", [PortraitParams(blur=70, sharpen=60), PortraitParams(blur=0)])
def test_one_shot_render_in_bands_equals_the_prepared_render(monkeypatch, params) -> None:
    # render() sharpens and blends the subject band by band into the background; the GUI's
    # path does it for the whole subject box from a cached base. Same pixels, bit for bit,
    # with bands much shorter than the subject (sharpening reaches across band edges).
    from petseg_gui.effects import composite

    photo, mask = textured_subject_photo(240, 320, seed=8)
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5)
    expected = render_prepared(Prepared(photo, alpha), params)
    monkeypatch.setattr(composite, "COMPOSITE_BAND_ROWS", 7)
    assert np.array_equal(render(photo, alpha, params), expected)
