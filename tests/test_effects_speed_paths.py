"""The portrait effect's speed paths (issue 12) give the very pixels of the plain computation.

Row bands on several threads, the sparse soft-edge composite, the cached working inputs and the
stage timer each replace a simpler computation; every test here compares against that simpler
computation (or the whole-image build), so a band seam, a wrong index or a stale cache fails.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.effects import (
    PortraitParams,
    Prepared,
    blend,
    composite,
    lens_blur,
    parallel,
    render,
    render_prepared,
    stages,
)


def soft_scene(height: int = 240, width: int = 320, seed: int = 2):
    rng = np.random.default_rng(seed)
    photo = synthetic_photo(height, width, seed=seed)
    photo[::19, ::23] = 255  # highlights: expanded before, compressed after the blur
    mask = synthetic_subject_mask(height, width).astype(np.float32)
    alpha = np.clip(cv2.GaussianBlur(mask, (0, 0), 2.5) + rng.normal(0, 0.01, mask.shape), 0, 1)
    return photo, alpha.astype(np.float32)


@pytest.fixture
def threads(monkeypatch):
    """Make every job split into bands: ``threads(n)`` sets the band count."""

    def use(count: int) -> None:
        monkeypatch.setattr(parallel, "MIN_PARALLEL_PIXELS", 0)
        monkeypatch.setattr(parallel, "workers", lambda: count)

    return use


def test_blend_into_matches_the_dense_composite() -> None:
    rng = np.random.default_rng(0)
    out = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
    subject = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    alpha = rng.random((30, 40), dtype=np.float32)
    alpha[:10] = 1.0  # pure subject
    alpha[10:15] = 0.0  # pure background
    region = (slice(12, 42), slice(7, 47))
    behind = out[region].astype(np.float32)
    a = alpha[..., None]
    expected = out.copy()
    expected[region] = np.rint(behind + a * (subject.astype(np.float32) - behind))
    blend.blend_into(out, region, subject, blend.blend_masks(alpha))
    assert np.array_equal(out, expected)  # outside the region untouched, inside blended


@pytest.mark.parametrize("count", [2, 3])
def test_background_pyramid_in_parallel_bands_equals_one_thread(threads, count) -> None:
    photo, alpha = soft_scene(301, 403)
    single = lens_blur.background_pyramid(photo, alpha, 64, band_rows=24)
    threads(count)
    banded = lens_blur.background_pyramid(photo, alpha, 64, band_rows=24)
    for got, expected in zip(banded, single, strict=True):
        assert np.array_equal(got, expected)


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("blur", [15, 60, 100])
def test_working_image_in_row_bands_equals_the_whole_image(threads, count, blur) -> None:
    # Each band is blurred from its rows plus the disk's reach: no seam, bit for bit.
    photo, alpha = soft_scene()
    params = PortraitParams(blur=blur, sharpen=40)
    single = render(photo, alpha, params)
    threads(count)
    assert np.array_equal(render(photo, alpha, params), single)
    assert np.array_equal(render_prepared(Prepared(photo, alpha), params), single)


def test_cached_working_inputs_do_not_leak_between_blur_values(monkeypatch) -> None:
    # A drag back and forth over blur values (and working sizes) gives what a fresh render
    # gives, with the cache holding fewer sizes than the drag visits.
    monkeypatch.setattr(composite, "WORK_CACHE_SIZE", 1)
    photo, alpha = soft_scene()
    prepared = Prepared(photo, alpha)
    for blur in (80, 40, 80, 100, 40, 5):
        params = PortraitParams(blur=blur, sharpen=20)
        assert np.array_equal(render_prepared(prepared, params), render(photo, alpha, params))


def test_stage_times_are_recorded_only_when_asked() -> None:
    photo, alpha = soft_scene()
    params = PortraitParams(blur=50)
    with stages.recording() as times:
        render(photo, alpha, params)
    assert {"pyramid (full-res light)", "depth map", "work inputs"} <= set(times)
    assert all(seconds >= 0 for seconds in times.values())
    render(photo, alpha, params)  # outside the block: nothing is recorded anywhere
    assert stages._times is None


def test_blend_masks_are_numpys_comparisons_in_row_major_order() -> None:
    # OpenCV's inRange/findNonZero stand in for alpha >= 1 and np.nonzero(0 < alpha < 1).
    rng = np.random.default_rng(5)
    alpha = rng.random((37, 53)).astype(np.float32)
    alpha[rng.random(alpha.shape) < 0.3] = 0.0
    alpha[rng.random(alpha.shape) < 0.3] = 1.0
    alpha[0, 0], alpha[0, 1] = np.nextafter(np.float32(1), np.float32(0)), 1e-30
    masks = blend.blend_masks(alpha)
    rows, cols = np.nonzero((alpha > 0) & (alpha < 1))
    assert np.array_equal(masks.inner > 0, alpha >= 1)
    assert np.array_equal(masks.edge_rows, rows) and np.array_equal(masks.edge_cols, cols)
    assert np.array_equal(masks.edge_alpha[:, 0], alpha[rows, cols])
    empty = blend.blend_masks(np.ones((4, 5), np.float32))
    assert empty.edge_rows.size == 0 and empty.edge_alpha.shape == (0, 1)


def test_premultiplied_stack_is_light_times_weight_with_background_highlights_boosted() -> None:
    # The 4-channel stack (a fourth channel of 255 turned into light 1.0, a dense boost) against
    # the formula: [lin(rgb) * w * (1 + boost(max code) * clip(1 - 2 alpha, 0, 1)), w].
    from petseg_gui.effects import light

    photo, alpha = soft_scene(seed=8)
    stack = lens_blur.premultiplied_background(photo, alpha)
    lin = light._srgb_to_linear_table()[photo].astype(np.float64)
    w = (1.0 - alpha.astype(np.float64)) ** 2
    boost = light._highlight_boost_table()[photo.max(axis=2)].astype(np.float64)
    scale = w * (1.0 + boost * np.clip(1.0 - 2.0 * alpha, 0.0, 1.0))
    assert stack.shape == (*alpha.shape, 4) and stack.dtype == np.float32
    assert np.allclose(stack[..., 3], w, rtol=1e-6, atol=1e-7)
    assert np.allclose(stack[..., :3], lin * scale[..., None], rtol=1e-5, atol=1e-7)
    assert (boost > 0).any() and (scale > w + 0.1).any(), "the scene must hold boosted lights"
    # A photo without highlights takes the short way (no boost at all): the same formula.
    dim = (photo // 2).astype(np.uint8)
    dim_stack = lens_blur.premultiplied_background(dim, alpha)
    dim_lin = light._srgb_to_linear_table()[dim].astype(np.float64)
    assert np.allclose(dim_stack[..., :3], dim_lin * w[..., None], rtol=1e-5, atol=1e-7)


def test_srgb_encoding_is_within_one_code_and_clips() -> None:
    from petseg_gui.effects import light

    rng = np.random.default_rng(3)
    linear = np.concatenate(
        [rng.random(20000) ** 3, np.linspace(0, 0.01, 4995), [-0.5, -1e-9, 1.0, 1.5, 3e4]]
    ).astype(np.float32)
    x = np.clip(linear.astype(np.float64), 0, 1)
    exact = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055) * 255
    got = light.linear_to_srgb_u8(linear.reshape(50, -1)).reshape(-1)
    assert got.dtype == np.uint8
    assert np.abs(got.astype(np.float64) - exact).max() <= 1.0
    assert list(got[-5:]) == [0, 0, 255, 255, 255]
    planes = light.linear_to_srgb_u8(np.full((3, 4, 3), 0.5, np.float32))
    assert planes.shape == (3, 4, 3) and (planes == 188).all()  # every channel, not only the first


def test_subject_box_from_2x2_blocks_is_the_exact_extent(monkeypatch) -> None:
    # A large matte's box is found on its 2x2 block averages, then refined at the edge blocks;
    # lone subject pixels on odd and even rows and columns must land exactly where they are.
    rng = np.random.default_rng(11)
    for trial in range(40):
        h, w = 2 * int(rng.integers(8, 40)), 2 * int(rng.integers(8, 40))
        alpha = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(1, 4))):
            alpha[rng.integers(0, h), rng.integers(0, w)] = rng.choice([1.0, 0.3, 1e-6])
        monkeypatch.setattr(composite, "HALVE_PIXELS", 0)  # halve even this small matte
        halved = composite.halved_alpha(alpha)
        assert halved is not None, trial
        fast = composite.subject_box(alpha, halved)
        monkeypatch.setattr(composite, "HALVE_PIXELS", 10**12)  # the plain scan
        assert composite.halved_alpha(alpha) is None
        assert fast == composite.subject_box(alpha), trial
    assert composite.subject_box(np.zeros((6, 8), np.float32)) is None


def test_one_shot_render_of_a_narrow_band_subject_equals_the_prepared_render(monkeypatch) -> None:
    # A head above shoulders: bands sharpen only their own subject columns (plus the reach),
    # narrower than the subject box; the pixels must be those of the whole-box preview path.
    monkeypatch.setattr(composite, "COMPOSITE_BAND_ROWS", 24)
    photo = np.random.default_rng(9).integers(0, 256, (160, 200, 3), dtype=np.uint8)  # texture
    alpha = np.zeros((160, 200), np.float32)  # hard edges: sharpened pixels right at them count
    alpha[20:60, 90:110] = 1.0  # the head: narrow
    alpha[60:150, 30:170] = 1.0  # the shoulders: wide
    params = PortraitParams(blur=60, sharpen=80)
    assert np.array_equal(
        render(photo, alpha, params), render_prepared(Prepared(photo, alpha), params)
    )


@pytest.mark.parametrize("radius", [6.0, 7.5, 12.0])
@pytest.mark.parametrize("height", [5, 13, 60])
def test_disk_in_row_strips_is_the_zero_padded_convolution(radius, height) -> None:
    # Kernels of 130+ taps go through row strips anchored off-centre and shifted into place
    # (no padded copy); images shorter than the shift included.
    rng = np.random.default_rng(int(radius * 10) + height)
    image = rng.random((height, 29, 4)).astype(np.float32)
    kernel = lens_blur.disk_kernel(radius)
    n = kernel.shape[0]
    half = n // 2
    padded = np.zeros((height + 2 * half, 29 + 2 * half, 4))
    padded[half : half + height, half : half + 29] = image
    expected = sum(
        kernel[i, j] * padded[i : i + height, j : j + 29] for i in range(n) for j in range(n)
    )
    assert n * n >= lens_blur._CV_DFT_TAPS  # the strip path
    np.testing.assert_allclose(lens_blur._direct_convolution(image, kernel), expected, atol=2e-6)


@pytest.mark.parametrize("count", [1, 2])
def test_pyramid_averaged_in_2x2_blocks_first_is_the_same_band_wise(threads, count) -> None:
    # Even sides and a shrink of 4x or more: 2x2 block averages first (lens_blur.
    # HALVE_FIRST_FACTOR), in bands and on the whole image alike.
    threads(count)
    photo, alpha = soft_scene(402, 300, seed=6)
    assert lens_blur._halved_first(402, 300, 64, 48)
    whole = lens_blur.area_pyramid(lens_blur.premultiplied_background(photo, alpha), 64)
    banded = lens_blur.background_pyramid(photo, alpha, 64, band_rows=24)
    assert whole[0].shape == (64, 48, 4)
    for got, expected in zip(banded, whole, strict=True):
        assert np.array_equal(got, expected)
    # ... and close to the exact area average straight from full resolution: only weight at
    # the footprints' edges moves (by half a pixel), which shows next to a boosted light.
    stack = lens_blur.premultiplied_background(photo, alpha)
    exact = cv2.resize(stack, (48, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(whole[0] - exact).mean() < 0.03 * np.abs(exact).mean()  # 1.3% here
    assert not np.array_equal(whole[0], exact)  # the 2x2 step did run
