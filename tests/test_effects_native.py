"""The effect's compiled passes (petseg_gui/effects/_fused.c, _disk.c, issue 12) against the
numpy and OpenCV steps they replace: the same numbers, bit for bit for the full-resolution passes,
within float32 rounding for the disk blur (another order of additions).

setup.py builds it only where a C compiler is at hand; without it these comparisons are skipped
and the effect takes the Python path. CI sets PETSEG_REQUIRE_FUSED, so a build that silently
failed there fails test_the_fused_pass_is_built instead of only making the app slower.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from compiled_modules import needs, require_built
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui import parallel
from petseg_gui.effects import compiled, lens_blur, render
from petseg_gui.effects.coverage import coverage
from petseg_gui.effects.light import _highlight_boost_table, _srgb_to_linear_table
from petseg_gui.effects.params import PortraitParams

fused = compiled.fused
needs_fused = needs(fused, "petseg_gui.effects._fused")


def test_the_fused_pass_is_built() -> None:
    require_built(fused, "petseg_gui.effects._fused", "the Python path")
    assert callable(fused.premultiplied_halves) and callable(fused.blend)
    assert callable(fused.disk_accumulate) and callable(fused.encode_planes)


def test_a_build_of_another_fused_c_is_not_used(monkeypatch) -> None:
    # An editable install updated without reinstalling keeps the old build, whose functions take
    # other arguments: compiled.py leaves it aside and says so.
    import types

    assert not compiled.usable(types.SimpleNamespace(INTERFACE=compiled.INTERFACE - 1))
    assert not compiled.usable(types.SimpleNamespace())  # built before INTERFACE existed
    if fused is not None:
        assert compiled.usable(fused)  # this checkout's own build
    monkeypatch.setattr(compiled, "fused", None)
    monkeypatch.setattr(compiled, "stale", True)
    assert "reinstall" in compiled.status() and "another version" in compiled.status()


def scene(height: int, width: int, seed: int):
    """A photo with lights (boosted), a matte with every kind of value: exactly 0 and 1, soft
    edges on both sides of 0.5, and noise."""
    rng = np.random.default_rng(seed)
    photo = synthetic_photo(height, width, seed=seed)
    photo[::13, ::7] = 255
    photo[5::17, 3::11] = (250, 120, 30)  # one bright channel: boosted by its brightest
    mask = synthetic_subject_mask(height, width).astype(np.float32)
    alpha = cv2.GaussianBlur(mask, (0, 0), 3.0) + rng.normal(0, 0.02, mask.shape)
    return photo, np.clip(alpha, 0, 1).astype(np.float32)


def python_halves(photo: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The steps the pass replaces: the matte stretched, the premultiplied light, both averaged
    in 2x2 blocks by OpenCV."""
    h, w = alpha.shape
    matte = coverage(alpha)
    stack = lens_blur.premultiplied_background(photo, matte)
    return (
        cv2.resize(stack, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
        cv2.resize(matte, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
    )


@needs_fused
@pytest.mark.parametrize("dim", [False, True])
def test_fused_halves_are_the_python_steps_bit_for_bit(dim) -> None:
    # ``dim``: no pixel bright enough to boost, where the Python path skips the boost entirely.
    # The matte as a model gives it: below 0.1 and above 0.9 too, which the pass stretches.
    photo, alpha = scene(96, 130, seed=3)
    if dim:
        photo = (photo // 3).astype(np.uint8)
        assert photo.max() < lens_blur._first_boosted_code()
    alpha[:, :9] = 0.05
    alpha[:7] = 0.95
    alpha[20:24, 40:44] = [[0.1, 0.9, 0.5, np.nextafter(np.float32(0.1), np.float32(1))]] * 4
    expected, expected_coverage = python_halves(photo, alpha)
    got = np.full((48, 65, 4), np.nan, np.float32)
    got_coverage = np.full((48, 65), np.nan, np.float32)
    tables = (_srgb_to_linear_table(), _highlight_boost_table())
    fused.premultiplied_halves(photo, alpha, *tables, got, got_coverage)
    assert np.array_equal(got, expected)
    assert np.array_equal(got_coverage, expected_coverage)
    assert got[4:, :4, 3].min() == 1.0 and got[:3, :, 3].max() == 0.0  # stretched to 0 and 1
    assert got_coverage[4:, :4].max() == 0.0 and got_coverage[:3].min() == 1.0


@needs_fused
def test_halved_premultiplied_without_the_compiled_pass_gives_the_same(monkeypatch) -> None:
    photo, alpha = scene(64, 90, seed=5)
    with_fused = lens_blur.halved_premultiplied(photo, alpha)
    monkeypatch.setattr(compiled, "fused", None)
    for got, expected in zip(lens_blur.halved_premultiplied(photo, alpha), with_fused, strict=True):
        assert np.array_equal(got, expected)


@needs_fused
@pytest.mark.parametrize("count", [1, 2])
def test_background_pyramid_is_the_same_with_and_without_the_compiled_pass(
    monkeypatch, count
) -> None:
    # 402x300 to a 64 px top: even sides shrunk by more than 4, so the bands are halved first,
    # in bands of 24 rows on ``count`` threads.
    monkeypatch.setattr(parallel, "MIN_PARALLEL_PIXELS", 0)
    monkeypatch.setattr(parallel, "workers", lambda: count)
    photo, alpha = scene(402, 300, seed=8)
    assert lens_blur._halved_first(402, 300, 64, 48)
    with_pass, halved = lens_blur.pyramid_and_halved_coverage(photo, alpha, 64, band_rows=24)
    monkeypatch.setattr(compiled, "fused", None)
    python, python_halved = lens_blur.pyramid_and_halved_coverage(photo, alpha, 64, band_rows=24)
    assert [level.shape for level in with_pass] == [level.shape for level in python]
    for got, expected in zip(with_pass, python, strict=True):
        assert np.array_equal(got, expected)
    # ... and the matte's 2x2 means are what composite.halved_alpha makes of the stretched one
    assert np.array_equal(halved, python_halved)
    assert np.array_equal(
        halved, cv2.resize(coverage(alpha), (150, 201), interpolation=cv2.INTER_AREA)
    )


@needs_fused
def test_the_bit_exact_passes_give_the_python_render_bit_for_bit(monkeypatch) -> None:
    from petseg_gui.effects import background

    # A 640 px photo blurred on a 150 px working image: halved first, as a 12 MP one is.
    monkeypatch.setattr(background, "MAX_WORK_SIDE", 150)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_PIXELS", 0)
    photo, alpha = scene(480, 640, seed=9)
    params = PortraitParams(blur=60, sharpen=40)
    calls = []

    class Spy:
        def premultiplied_halves(self, *args):
            calls.append("premultiplied_halves")
            return fused.premultiplied_halves(*args)

        def blend(self, *args):
            calls.append("blend")
            return fused.blend(*args)

        def encode_planes(self, *args):
            calls.append("encode_planes")
            return fused.encode_planes(*args)

        def disk_accumulate(self, *args):  # the working image's pass: OpenCV's, as below
            calls.append("disk_accumulate")
            return lens_blur._disk_accumulate(*args)

    monkeypatch.setattr(compiled, "fused", Spy())
    with_passes = render(photo, alpha, params)
    assert {"premultiplied_halves", "blend", "encode_planes", "disk_accumulate"} <= set(calls)
    monkeypatch.setattr(compiled, "fused", None)
    assert np.array_equal(render(photo, alpha, params), with_passes)


@needs_fused
@pytest.mark.parametrize("blur", [25, 60, 100])
def test_the_render_with_the_compiled_disk_blur_is_within_a_code_of_the_python_one(
    monkeypatch, blur
) -> None:
    from petseg_gui.effects import background

    monkeypatch.setattr(background, "MAX_WORK_SIDE", 200)
    photo, alpha = scene(300, 400, seed=10)
    params = PortraitParams(blur=blur, sharpen=20)
    with_passes = render(photo, alpha, params).astype(int)
    monkeypatch.setattr(compiled, "fused", None)
    python = render(photo, alpha, params).astype(int)
    difference = np.abs(with_passes - python)
    assert difference.max() <= 1
    assert (difference > 0).mean() < 0.002  # rounding at a few pixels, not another blur


def random_stack(height: int, width: int, seed: int) -> np.ndarray:
    """A [rgb * w, w] stack's range: mostly dim, a few boosted highlights, zeros (subject)."""
    rng = np.random.default_rng(seed)
    stack = (rng.random((height, width, 4), dtype=np.float32) ** 3).astype(np.float32)
    stack[rng.random((height, width)) < 0.01] *= 20.0
    stack[height // 3 : height // 2, width // 4 : width // 2] = 0.0
    return stack


@needs_fused
@pytest.mark.parametrize("radius", [0.5, 1.5, 2.15, 4.15, 6.14, 9.3, lens_blur.DIRECT_MAX_RADIUS])
def test_compiled_disk_blur_is_the_opencv_convolution_within_float_rounding(radius) -> None:
    # Regions inside, at every border, wider than the kernel and a single pixel; ``total`` holds
    # the rows from ``top`` on and keeps what it had.
    image = random_stack(70, 90, seed=11)
    weight = np.random.default_rng(12).random((70, 90, 4), dtype=np.float32)
    kernel = lens_blur.disk_kernel(radius)
    regions = [(0, 70, 0, 90), (10, 30, 20, 50), (0, 7, 60, 90), (63, 70, 0, 5), (40, 41, 44, 45)]
    for y0, y1, x0, x1 in regions:
        top = max(0, y0 - 3)
        start = np.full((y1 - top, 90, 4), 0.25, np.float32)
        got, expected = start.copy(), start.copy()
        fused.disk_accumulate(image, kernel, weight, got, top, y0, y1, x0, x1)
        lens_blur._disk_accumulate(image, kernel, weight, expected, top, y0, y1, x0, x1)
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=0)
        outside = np.ones(got.shape[:2], bool)
        outside[y0 - top : y1 - top, x0:x1] = False
        assert np.array_equal(got[outside], start[outside])  # nothing written outside
        assert (got[y0 - top : y1 - top, x0:x1] != 0.25).any()


@needs_fused
@pytest.mark.parametrize(
    ("image", "kernel", "weight", "total", "region", "message"),
    [
        ((6, 8, 3), (3, 3), (6, 8, 3), (6, 8, 3), (0, 0, 6, 0, 8), "image must be"),
        ((6, 8, 4), (3, 5), (6, 8, 4), (6, 8, 4), (0, 0, 6, 0, 8), "kernel must be"),
        ((6, 8, 4), (3, 3), (6, 7, 4), (6, 8, 4), (0, 0, 6, 0, 8), "weight must be"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (6, 9, 4), (0, 0, 6, 0, 8), "total must be"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (6, 8, 4), (0, 0, 7, 0, 8), "inside the image"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (6, 8, 4), (0, 0, 6, 2, 1), "inside the image"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (6, 8, 4), (0, -1, 6, 0, 8), "inside the image"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (4, 8, 4), (1, 1, 6, 0, 8), "from row top on"),
        ((6, 8, 4), (3, 3), (6, 8, 4), (6, 8, 4), (2, 1, 6, 0, 8), "from row top on"),
        ((6, 8, 4), (4, 4), (6, 8, 4), (6, 8, 4), (0, 0, 6, 0, 8), "odd side"),
    ],
)
def test_compiled_disk_blur_rejects_regions_and_arrays_it_would_overrun(
    image, kernel, weight, total, region, message
) -> None:
    with pytest.raises(ValueError, match=message):
        fused.disk_accumulate(
            np.zeros(image, np.float32),
            np.ones(kernel, np.float32),
            np.zeros(weight, np.float32),
            np.zeros(total, np.float32),
            *region,
        )


@needs_fused
def test_compiled_disk_blur_rejects_lopsided_kernels_and_read_only_totals() -> None:
    image, weight = np.ones((6, 8, 4), np.float32), np.ones((6, 8, 4), np.float32)
    total = np.zeros((6, 8, 4), np.float32)
    lopsided = np.zeros((3, 3), np.float32)
    lopsided[0, 1] = 1.0  # the pixel above only: a shift, not a disk
    with pytest.raises(ValueError, match="symmetric"):
        fused.disk_accumulate(image, lopsided, weight, total, 0, 0, 6, 0, 8)
    assert not total.any()
    with pytest.raises(ValueError, match="float32"):
        fused.disk_accumulate(
            image.astype(np.float64), np.ones((3, 3), np.float32), weight, total, 0, 0, 6, 0, 8
        )
    total.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        fused.disk_accumulate(image, np.ones((3, 3), np.float32), weight, total, 0, 0, 6, 0, 8)


@needs_fused
@pytest.mark.parametrize(
    ("photo", "alpha", "out", "halves", "message"),
    [
        ((5, 4, 3), (5, 4), (2, 2, 4), (2, 2), "even"),
        ((4, 4, 3), (4, 6), (2, 2, 4), (2, 2), "height and width"),
        ((4, 4, 4), (4, 4), (2, 2, 4), (2, 2), "uint8 HxWx3"),
        ((4, 4, 3), (4, 4), (2, 3, 4), (2, 2), "out must be"),
        ((4, 4, 3), (4, 4), (2, 2, 3), (2, 2), "out must be"),
        ((4, 4, 3), (4, 4), (2, 2, 4), (2, 3), "coverage_out must be"),
        ((4, 4, 3), (4, 4), (2, 2, 4), (2, 2, 1), "coverage_out must be"),
    ],
)
def test_fused_pass_rejects_arrays_it_would_read_or_write_out_of_bounds(
    photo, alpha, out, halves, message
) -> None:
    args = (
        np.zeros(photo, np.uint8),
        np.zeros(alpha, np.float32),
        _srgb_to_linear_table(),
        _highlight_boost_table(),
        np.zeros(out, np.float32),
        np.zeros(halves, np.float32),
    )
    with pytest.raises(ValueError, match=message):
        fused.premultiplied_halves(*args)


@needs_fused
def test_fused_pass_rejects_wrong_types_strides_and_read_only_output() -> None:
    photo, alpha = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32)
    tables = (_srgb_to_linear_table(), _highlight_boost_table())
    out, halves = np.zeros((2, 2, 4), np.float32), np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="float32 HxW"):
        fused.premultiplied_halves(photo, alpha.astype(np.float64), *tables, out, halves)
    with pytest.raises(ValueError, match="256 values"):
        fused.premultiplied_halves(photo, alpha, tables[0][:255], tables[1], out, halves)
    with pytest.raises((ValueError, BufferError)):
        fused.premultiplied_halves(photo[:, ::-1], alpha, *tables, out, halves)  # strided
    halves.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        fused.premultiplied_halves(photo, alpha, *tables, out, halves)
    out.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        fused.premultiplied_halves(photo, alpha, *tables, out, halves.copy())


@needs_fused
def test_compiled_blend_treats_odd_alpha_as_the_python_paths_do(monkeypatch) -> None:
    # NaN and alpha below 0 leave the background, above 1 gives the subject: as blend_masks'
    # comparisons sort them (the matte is clipped before it gets here; this pins the edges).
    from petseg_gui.effects import blend

    rng = np.random.default_rng(4)
    out = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    subject = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    alpha = rng.random((20, 30), dtype=np.float32)
    alpha[0, :5] = np.nan, -0.5, 1.5, 1e30, -1e30
    region = (slice(10, 30), slice(5, 35))
    results = []
    for path in ("compiled", "by-index", "dense"):
        if path != "compiled":
            monkeypatch.setattr(compiled, "fused", None)
            monkeypatch.setattr(blend, "DENSE_SHARE", 0.0 if path == "dense" else 2.0)
        mine = out.copy()
        blend.blend_into(mine, region, subject, blend.blend_masks(alpha))
        results.append(mine)
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(
        results[0][10, 5:10], [out[10, 5], out[10, 6], *subject[0, 2:4], out[10, 9]]
    )
    # (the dense path's 16-bit conversion of NaN and huge values is OpenCV's own; off row 0
    # it agrees)
    assert np.array_equal(results[0][11:], results[2][11:])


@needs_fused
@pytest.mark.parametrize(
    ("out", "subject", "alpha", "message"),
    [
        ((4, 5, 3), (4, 6, 3), (4, 5), "subject must be"),
        ((4, 5, 3), (4, 5, 3), (4, 6), "alpha must be"),
        ((4, 5, 4), (4, 5, 4), (4, 5), "out must be"),
    ],
)
def test_compiled_blend_rejects_arrays_of_other_shapes(out, subject, alpha, message) -> None:
    with pytest.raises(ValueError, match=message):
        fused.blend(
            np.zeros(out, np.uint8), np.zeros(subject, np.uint8), np.zeros(alpha, np.float32)
        )


@needs_fused
def test_compiled_blend_rejects_wrong_types_strides_and_read_only_output() -> None:
    out, subject = np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6, 3), np.uint8)
    alpha = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="alpha must be"):
        fused.blend(out, subject, alpha.astype(np.float64))
    with pytest.raises(ValueError, match="alpha must be"):
        fused.blend(out[:, :3], subject[:, :3], np.zeros((4, 12), np.float32)[:, ::4])
    with pytest.raises(ValueError, match="out must be"):
        fused.blend(out[:, ::2], subject[:, :3], alpha[:, :3])  # pixels not packed in a row
    with pytest.raises(ValueError, match="forwards"):
        fused.blend(out[::-1], subject, alpha)
    out.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        fused.blend(out, subject, alpha)


@needs_fused
def test_compiled_encode_is_numpys_take_of_the_merged_planes() -> None:
    from petseg_gui.effects.light import _srgb_encode_table

    rng = np.random.default_rng(13)
    planes = [rng.integers(0, 65536, (31, 45), dtype=np.uint16) for _ in range(3)]
    planes[1][0, :3] = 0, 65535, 40000
    for table in (_srgb_encode_table(), np.arange(200, dtype=np.uint8)):  # short: clipped
        out = np.zeros((31, 45, 3), np.uint8)
        fused.encode_planes(table, *planes, out)
        assert np.array_equal(out, np.take(table, np.dstack(planes), mode="clip"))
    assert out[0, 1, 1] == 199 and out[0, 0, 1] == 0


@needs_fused
def test_the_encoding_is_the_same_with_and_without_the_compiled_pass(monkeypatch) -> None:
    from petseg_gui.effects.light import compressed_srgb_u8

    rng = np.random.default_rng(14)
    planes = [(rng.random((40, 60), dtype=np.float32) * 1.5).astype(np.float32) for _ in range(3)]
    planes[0][:4] = 7.5  # lit: the highlight compression's table too
    compiled_out = compressed_srgb_u8(planes)
    monkeypatch.setattr(compiled, "fused", None)
    assert np.array_equal(compiled_out, compressed_srgb_u8(planes))


@needs_fused
@pytest.mark.parametrize(
    ("table", "plane_shapes", "out", "message"),
    [
        ((0,), [(4, 5)] * 3, (4, 5, 3), "table must be"),
        ((256,), [(4, 5), (4, 5), (4, 6)], (4, 5, 3), "planes must be"),
        ((256,), [(4, 5)] * 3, (4, 5, 4), "out must be"),
        ((256,), [(4, 5)] * 3, (5, 5, 3), "out must be"),
    ],
)
def test_compiled_encode_rejects_arrays_of_other_shapes(table, plane_shapes, out, message) -> None:
    planes = [np.zeros(shape, np.uint16) for shape in plane_shapes]
    with pytest.raises(ValueError, match=message):
        fused.encode_planes(np.zeros(table, np.uint8), *planes, np.zeros(out, np.uint8))
    with pytest.raises(ValueError, match="planes must be"):
        fused.encode_planes(
            np.zeros(256, np.uint8), *[p.astype(np.int32) for p in planes], np.zeros(out, np.uint8)
        )


@needs_fused
def test_compiled_passes_reject_a_wrong_number_of_arguments() -> None:
    with pytest.raises(TypeError, match="takes 3 arguments"):
        fused.blend(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="takes 6 arguments"):
        fused.premultiplied_halves(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError):
        fused.disk_accumulate(np.zeros((2, 2, 4), np.float32))
    with pytest.raises(TypeError, match="takes 5 arguments"):
        fused.encode_planes(np.zeros(4, np.uint8))
