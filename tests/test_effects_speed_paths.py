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

from petseg_gui import parallel
from petseg_gui.effects import (
    PortraitParams,
    Prepared,
    blend,
    compiled,
    composite,
    coverage,
    lens_blur,
    render,
    render_prepared,
    sharpen,
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


BLEND_PATHS = ["dense", "by-index", "compiled"]


def use_blend_path(monkeypatch, path: str) -> None:
    """blend.py's three ways to blend a region: OpenCV on the whole region ("dense"), numpy on
    its soft pixels by index, or the compiled pass (_fused.c; skipped where it is not built)."""
    if path == "compiled":
        if compiled.fused is None:
            pytest.skip("petseg_gui.effects._fused is not built")
        return
    monkeypatch.setattr(compiled, "fused", None)
    monkeypatch.setattr(blend, "DENSE_SHARE", 0.0 if path == "dense" else 2.0)


def fixed_point_blend(behind: np.ndarray, front: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """uint8: blend.py's arithmetic in float64 (exact here): behind + rint(difference * a / 2**14),
    a = rint(alpha * 2**14), both rounded half to even."""
    one = 2.0**blend.ALPHA_BITS
    a = np.rint(alpha.astype(np.float64) * one)[..., None]
    behind = behind.astype(np.float64)
    return (behind + np.rint((front - behind) * a / one)).astype(np.uint8)


def test_fixed_alpha_rounds_half_to_even_for_any_count_of_pixels() -> None:
    # A region with 1 to 4 soft pixels, or of 1x1 pixel, gives OpenCV an array it could take for
    # a Scalar.
    rng = np.random.default_rng(6)
    one = np.float32(2**blend.ALPHA_BITS)
    for n in [*range(9), 1000]:
        for shape in ((n,), (n, 1), (1, n), (n, 3)):
            alpha = rng.random(shape).astype(np.float32)
            alpha.reshape(-1)[: n // 2] = (np.arange(n // 2) + 0.5) / one  # halves
            expected = np.rint(alpha * one).astype(np.int16)
            assert np.array_equal(blend.fixed_alpha(alpha), expected), (n, shape)


@pytest.mark.parametrize("path", BLEND_PATHS)
def test_blend_into_matches_the_dense_composite(monkeypatch, path) -> None:
    # Every path (a region blended whole, its soft pixels by index, the compiled pass) gives the
    # fixed-point formula on every pixel: also within INVISIBLE_ALPHA of 0 and 1, where they
    # skip the arithmetic, and at alpha 0.5 with odd differences (halves, rounded to even). And
    # that formula is the real-valued blend, rounded, within one code.
    use_blend_path(monkeypatch, path)
    rng = np.random.default_rng(0)
    invisible = np.float32(blend.INVISIBLE_ALPHA)
    for trial in range(20):
        out = rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)
        subject = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        alpha = rng.random((30, 40), dtype=np.float32)
        alpha[:6] = 1.0  # pure subject
        alpha[6:9] = 0.0  # pure background
        alpha[9:12] = 0.5
        alpha[12:15] = rng.random((3, 40), dtype=np.float32) * invisible
        alpha[15:18] = 1 - rng.random((3, 40), dtype=np.float32) * invisible
        alpha[18, :2] = invisible, np.nextafter(invisible, np.float32(0))
        region = (slice(12, 42), slice(7, 47))
        expected = out.copy()
        expected[region] = fixed_point_blend(out[region], subject, alpha)
        real = out[region] + alpha[..., None] * (subject - out[region].astype(np.float64))
        assert np.abs(np.rint(real) - expected[region]).max() <= 1
        masks = blend.blend_masks(alpha)
        assert (masks.dense is not None) == (path == "dense")
        assert (masks.matte is not None) == (path == "compiled")
        blend.blend_into(out, region, subject, masks)
        assert np.array_equal(out, expected), trial  # outside the region untouched


@pytest.mark.parametrize("path", BLEND_PATHS)
def test_blend_into_regions_of_a_few_pixels(monkeypatch, path) -> None:
    # 1x1 to 4x1 regions: arrays OpenCV's binding could take for Scalars.
    use_blend_path(monkeypatch, path)
    rng = np.random.default_rng(3)
    for h, w in [(1, 1), (1, 2), (2, 1), (2, 2), (1, 4), (4, 1), (1, 5)]:
        out = rng.integers(0, 256, (h + 2, w + 2, 3), dtype=np.uint8)
        subject = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        alpha = rng.uniform(0.01, 0.99, (h, w)).astype(np.float32)
        region = (slice(1, 1 + h), slice(1, 1 + w))
        expected = out.copy()
        expected[region] = fixed_point_blend(out[region], subject, alpha)
        blend.blend_into(out, region, subject, blend.blend_masks(alpha))
        assert np.array_equal(out, expected), (h, w)


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


def test_blend_masks_are_numpys_comparisons_in_row_major_order(monkeypatch) -> None:
    # OpenCV's inRange/findNonZero stand in for numpy's comparisons with the invisible margins
    # (alpha >= 1 - m is the subject as it is, m <= alpha < 1 - m is soft) and np.nonzero.
    monkeypatch.setattr(compiled, "fused", None)  # the masks of the Python paths
    rng = np.random.default_rng(5)
    alpha = rng.random((37, 53)).astype(np.float32)
    alpha[rng.random(alpha.shape) < 0.7] = 0.0
    alpha[rng.random(alpha.shape) < 0.7] = 1.0
    margin = np.float32(blend.INVISIBLE_ALPHA)
    alpha[0, :4] = margin, np.nextafter(margin, np.float32(0)), 1 - margin, 1e-30
    alpha[0, 4] = np.nextafter(np.float32(1) - margin, np.float32(0))
    masks = blend.blend_masks(alpha)
    assert masks.dense is None  # ~9% of the pixels soft, under DENSE_SHARE
    rows, cols = np.nonzero((alpha >= margin) & (alpha < 1 - margin))
    assert np.array_equal(masks.inner > 0, alpha >= 1 - margin)
    assert np.array_equal(masks.edge_rows, rows) and np.array_equal(masks.edge_cols, cols)
    one = np.float32(2**blend.ALPHA_BITS)
    assert np.array_equal(masks.edge_alpha[:, 0], np.rint(alpha[rows, cols] * one) / one)
    soft_in_row_0 = set(cols[rows == 0].tolist())
    assert {0, 4} <= soft_in_row_0 and not {1, 2, 3} & soft_in_row_0
    empty = blend.blend_masks(np.ones((4, 5), np.float32))
    assert empty.edge_rows.size == 0 and empty.edge_alpha.shape == (0, 1)
    assert masks.edge_alpha.dtype == np.float32
    # A model's matte, soft almost everywhere: the region is blended whole.
    soft = blend.blend_masks(np.full((4, 5), 0.3, np.float32))
    assert soft.dense is not None and soft.dense.shape == (4, 5, 3)
    assert (soft.dense == round(0.3 * 2**blend.ALPHA_BITS)).all()


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
    # A large matte's box is found on its 2x2 block averages, then refined at full resolution;
    # lone subject pixels on odd and even rows and columns must land exactly where they are,
    # and pixels below INVISIBLE_ALPHA (the output there is exactly the background) count for
    # nothing, even a whole 2x2 block of them just under it (its average passes the blocks'
    # quarter threshold).
    rng = np.random.default_rng(11)
    margin = np.float32(blend.INVISIBLE_ALPHA)
    below = np.nextafter(margin, np.float32(0))
    for trial in range(60):
        h, w = 2 * int(rng.integers(8, 40)), 2 * int(rng.integers(8, 40))
        alpha = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(1, 4))):
            alpha[rng.integers(0, h), rng.integers(0, w)] = rng.choice([1.0, 0.3, margin])
        for _ in range(int(rng.integers(0, 3))):
            y, x = 2 * int(rng.integers(0, h // 2)), 2 * int(rng.integers(0, w // 2))
            alpha[y : y + 2, x : x + 2] = np.maximum(alpha[y : y + 2, x : x + 2], below)
        rows, cols = np.nonzero(alpha >= margin)
        reach = sharpen.reach(max(h, w))
        expected = (
            slice(max(0, rows.min() - reach), min(h, rows.max() + 1 + reach)),
            slice(max(0, cols.min() - reach), min(w, cols.max() + 1 + reach)),
        )
        monkeypatch.setattr(composite, "HALVE_PIXELS", 0)  # halve even this small matte
        halved = composite.halved_alpha(alpha)
        assert halved is not None, trial
        assert composite.subject_box(alpha, halved) == expected, trial
        monkeypatch.setattr(composite, "HALVE_PIXELS", 10**12)  # the plain scan
        assert composite.halved_alpha(alpha) is None
        assert composite.subject_box(alpha) == expected, trial
    assert composite.subject_box(np.zeros((6, 8), np.float32)) is None
    monkeypatch.setattr(composite, "HALVE_PIXELS", 0)
    faint = np.full((6, 8), below, np.float32)
    assert composite.subject_box(faint, composite.halved_alpha(faint)) is None


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
    # (background_pyramid stretches the matte as given, coverage.py, band by band)
    stack = lens_blur.premultiplied_background(photo, coverage.coverage(alpha))
    whole = lens_blur.area_pyramid(stack, 64)
    banded = lens_blur.background_pyramid(photo, alpha, 64, band_rows=24)
    assert whole[0].shape == (64, 48, 4)
    for got, expected in zip(banded, whole, strict=True):
        assert np.array_equal(got, expected)
    # ... and close to the exact area average straight from full resolution: only weight at
    # the footprints' edges moves (by half a pixel), which shows next to a boosted light.
    exact = cv2.resize(stack, (48, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(whole[0] - exact).mean() < 0.03 * np.abs(exact).mean()  # 1.3% here
    assert not np.array_equal(whole[0], exact)  # the 2x2 step did run


@pytest.mark.parametrize("radius", [1.5, 4.8, 6.2])
def test_levels_blurred_only_in_their_regions_equal_the_whole_image_levels(radius) -> None:
    # Each depth level is blurred only in the rectangles that hold its non-zero weights, each
    # from itself plus the disk's reach; the mix must be the whole-image levels' mix.
    from petseg_gui.effects import background, depth

    photo, alpha = soft_scene(200, 300, seed=4)
    work = lens_blur.premultiplied_background(photo, alpha)
    fraction = depth.radius_fraction(alpha)
    inputs = background.level_inputs(work, fraction)
    radii = [radius * level for level in depth.LEVELS]
    expected = lens_blur.mixed(lens_blur.disk_blurs(work, radii), inputs.weights)
    got = np.zeros_like(expected)
    for r, weight, regions in zip(radii, inputs.weights, inputs.regions, strict=True):
        lens_blur.disk_blur_regions(work, r, weight, regions, got)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # Every non-zero weight lies in a region, and the regions leave some of each level out
    # (the near level far from the subject, the far level next to it).
    for weight, regions in zip(inputs.weights, inputs.regions, strict=True):
        covered = np.zeros(alpha.shape, bool)
        for rows, cols in regions:
            assert rows.start % background.region_rows(alpha.shape[0]) == 0
            covered[rows, cols] = True
        assert not (weight[..., 0] > 0)[~covered].any()
        assert covered.mean() < 0.9


def test_level_regions_are_column_runs_per_block_merged_across_small_gaps(monkeypatch) -> None:
    from petseg_gui.effects import background

    monkeypatch.setattr(background, "REGION_ROWS", 4)
    monkeypatch.setattr(background, "REGION_GAP", 3)
    weight = np.zeros((16, 30), np.float32)  # 4 blocks of 4 rows
    weight[1, 2:5] = 0.5  # block 0: two runs 3 apart (merged) ...
    weight[2, 8:10] = 0.1
    weight[3, 20] = 1.0  # ... and one 11 further on
    weight[9, 29] = 0.2  # block 2 (rows 8-11): the last column
    assert background.level_regions(weight) == [
        (slice(0, 4), slice(2, 10)),
        (slice(0, 4), slice(20, 21)),
        (slice(8, 12), slice(29, 30)),
    ]


def test_blur_drag_reuses_the_sharpened_subject_and_sharpen_drag_the_background(
    monkeypatch,
) -> None:
    from petseg_gui.effects import background, sharpen

    photo, alpha = soft_scene()
    prepared = Prepared(photo, alpha)
    calls = {"sharpened": 0, "background": 0}
    real_sharpened, real_background = sharpen.sharpened, background.work_background

    def count(name, real):
        def counted(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return counted

    moves = [(40, 30), (45, 30), (52, 30), (52, 60), (52, 0), (20, 0)]
    expected = [render(photo, alpha, PortraitParams(blur=b, sharpen=a)) for b, a in moves]
    monkeypatch.setattr(sharpen, "sharpened", count("sharpened", real_sharpened))
    monkeypatch.setattr(composite, "work_background", count("background", real_background))
    for (blur, amount), fresh in zip(moves, expected, strict=True):
        params = PortraitParams(blur=blur, sharpen=amount)
        assert np.array_equal(render_prepared(prepared, params), fresh)
    assert calls == {"sharpened": 3, "background": 4}  # per new amount, per new blur


def test_highlights_compressed_and_encoded_in_one_go_match_the_formula() -> None:
    # compressed_srgb_u8: each pixel scaled by gain^-1(m) / m (m: its brightest channel, above
    # the threshold), then sRGB-encoded; against float64 arithmetic.
    from petseg_gui.effects import light

    rng = np.random.default_rng(12)
    planes = [
        (rng.random((60, 70)) ** 2 * rng.choice([1.0, 8.0], (60, 70))).astype(np.float32)
        for _ in range(3)
    ]
    planes[0][0, :3] = [0.0, light.HIGHLIGHT_THRESHOLD, light.HIGHLIGHT_GAIN]
    m = np.max(np.stack(planes).astype(np.float64), axis=0)
    grid = np.linspace(light.HIGHLIGHT_THRESHOLD, 1.0, 100001)
    inverse = np.interp(m, grid * light._gain(grid), grid)
    factor = np.where(m > light.HIGHLIGHT_THRESHOLD, inverse / np.maximum(m, 1e-12), 1.0)
    encoded = np.moveaxis(light.compressed_srgb_u8(planes), 2, 0)
    for plane, got in zip(planes, encoded, strict=True):
        x = np.clip(plane * factor, 0.0, 1.0)
        exact = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055) * 255
        assert np.abs(got - exact).max() <= 1.0
    assert (m > 1.0).mean() > 0.2, "the planes must hold expanded highlights"
    # Below the threshold nothing is compressed: exactly the plain encoding, into ``out``.
    dim = [plane * np.float32(0.5 / max(1.0, float(m.max()))) for plane in planes]
    out = np.zeros((60, 70, 3), np.uint8)
    assert light.compressed_srgb_u8(dim, out=out) is out
    assert np.array_equal(out, np.dstack([light.linear_to_srgb_u8(p) for p in dim]))


def test_nearby_blur_values_share_a_working_size(monkeypatch) -> None:
    # Radius-set working sizes are rounded up to a ladder of sides: a slider drag reuses the
    # working inputs instead of building them for every frame.
    from petseg_gui.effects import background
    from petseg_gui.effects.params import blur_radius

    shape = (1200, 1600)
    sizes = {background.work_size(shape, blur_radius(b / 20, 1600)) for b in range(800, 811)}
    assert len(sizes) <= 2
    for blur in np.linspace(33, 100, 60):
        radius = blur_radius(blur, 1600)
        size = background.work_size(shape, radius)
        work_radius = radius * max(size) / 1600
        # (at least WORK_RADIUS but for the rounding of the size to whole pixels)
        assert background.WORK_RADIUS * (1 - 1 / max(size)) <= work_radius
        assert work_radius <= background.WORK_RADIUS * background.WORK_SIDE_RATIO
    photo, alpha = soft_scene(300, 400)
    prepared = Prepared(photo, alpha)
    built = []
    real = composite.work_inputs
    monkeypatch.setattr(composite, "work_inputs", lambda *a: built.append(a[2]) or real(*a))
    for blur in np.linspace(70, 71, 8):
        render_prepared(prepared, PortraitParams(blur=float(blur)))
    assert len(built) == 1


def test_a_models_matte_nowhere_0_or_1_renders_the_plain_composite() -> None:
    # A segmentation model's matte is a softmax: never exactly 0 or 1. A matte whose coverage
    # (coverage.py's stretch) is still nowhere 0 or 1 is soft everywhere (blended whole, not by
    # index), and pixels under INVISIBLE_ALPHA are skipped: every pixel must still be the plain
    # formula's (blend.py's fixed point, over the whole photo, with the stretched matte).
    photo, mask = soft_scene(seed=4)
    level = (0.003 + 0.994 * mask).astype(np.float32)
    level[:40, :60] = np.float32(blend.INVISIBLE_ALPHA) * 0.9  # a corner the subject never shows in
    alpha = (coverage.LOW + (coverage.HIGH - coverage.LOW) * level).astype(np.float32)
    params = PortraitParams(blur=40, sharpen=60)
    prepared = Prepared(photo, alpha)
    background = prepared.background(params.blur)
    sharpened = sharpen.sharpened(sharpen.sharpen_base(photo), params.sharpen)
    stretched = coverage.coverage(alpha)
    assert 0 < stretched.min() < blend.INVISIBLE_ALPHA and stretched.max() < 1
    assert np.mean(stretched > blend.INVISIBLE_ALPHA) > 0.9  # the whole photo is soft
    expected = fixed_point_blend(background, sharpened, stretched)
    got = render(photo, alpha, params)
    assert np.array_equal(got, expected)
    assert np.array_equal(render_prepared(prepared, params), expected)
    assert np.array_equal(got[:40, :60], background[:40, :60])


@pytest.mark.parametrize("count", [1, 3])
def test_coverage_in_bands_and_chunks_is_the_whole_array_formula(threads, count) -> None:
    threads(count)
    alpha = np.random.default_rng(5).uniform(-0.1, 1.1, (301, 403)).astype(np.float32)
    expected = np.clip(alpha * np.float32(1.25) - np.float32(0.125), 0, 1)
    np.testing.assert_array_equal(coverage.coverage(alpha), expected)


@pytest.mark.parametrize("passes", ["compiled", "python"])
def test_full_size_render_reads_the_stretched_matte_a_region_at_a_time(monkeypatch, passes):
    # A large photo's one-shot render never stretches the whole matte (coverage.Stretched): the
    # pyramid's pass gives the 2x2 means, the box and the bands stretch what they read. Scaled
    # down here (a 150 px working image, a 128 px depth map) so a 480x640 photo takes that path.
    from petseg_gui.effects import background

    if passes == "python":
        monkeypatch.setattr(compiled, "fused", None)
    elif compiled.fused is None:
        pytest.skip("petseg_gui.effects._fused is not built")
    monkeypatch.setattr(background, "MAX_WORK_SIDE", 150)
    monkeypatch.setattr(composite, "DEPTH_MAP_SIDE", 128)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_PIXELS", 0)
    photo, alpha = soft_scene(480, 640, seed=12)
    alpha = (alpha * 1.1 - 0.05).astype(np.float32)  # beyond 0 and 1: stretched and clipped
    params = PortraitParams(blur=55, sharpen=45)
    expected = render_prepared(Prepared(photo, alpha).warm_up(), params)

    def whole_matte(_):
        raise AssertionError("the whole matte was stretched")

    monkeypatch.setattr(composite, "coverage", whole_matte)
    assert np.array_equal(render(photo, alpha, params), expected)
