"""The matte's compiled passes (petseg_gui/inference/_matte.c, issue 12) against the numpy and
OpenCV steps they replace: the full-resolution pass gives the same alpha within float32 rounding
and the same trimap but where that rounding moves an alpha across the trimap's rounding of a
level; the guided filter's colour algebra gives the same coefficients bit for bit.

setup.py builds it only where a C compiler is at hand; without it the comparisons are skipped
and the OpenCV path runs. CI sets PETSEG_REQUIRE_FUSED, which requires this module as it does
the effect's (test_effects_native.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from compiled_modules import needs, require_built

from petseg_gui import native as native_modules
from petseg_gui.inference import full_resolution
from petseg_gui.inference.matting import (
    BACKGROUND,
    BOUNDARY,
    SUBJECT,
    RefineParams,
    apply_at_full_resolution,
    downscale,
    guided_coefficients,
)

compiled = full_resolution.native
needs_compiled = needs(compiled, "petseg_gui.inference._matte")


def test_the_matte_pass_is_built() -> None:
    require_built(compiled, "petseg_gui.inference._matte", "the OpenCV path")
    assert compiled.INTERFACE == full_resolution.INTERFACE
    assert callable(compiled.matte_rows) and callable(compiled.colour_fit)
    assert "compiled" in full_resolution.status()


def test_a_stale_build_is_left_aside_and_said(monkeypatch) -> None:
    import types

    assert not native_modules.usable(types.SimpleNamespace(INTERFACE=0), 1)
    assert not native_modules.usable(types.SimpleNamespace(), 1)  # built before INTERFACE
    module, stale = native_modules.load("petseg_gui.no_such_compiled_module", 1)
    assert module is None and not stale  # not built: no complaint of staleness
    monkeypatch.setattr(full_resolution, "native", None)
    monkeypatch.setattr(full_resolution, "stale", True)
    assert "reinstall" in full_resolution.status() and "another version" in full_resolution.status()
    assert "Matte:" in native_modules.status() and "Effects:" in native_modules.status()


def scene(k: int, gh: int = 45, gw: int = 70, seed: int = 3):
    """A textured photo with a soft disc, leftover rows and columns below a guide pixel, the
    guided filter's coefficients, its settled alpha and a model boundary on the disc's edge."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:gh, 0:gw]
    target = np.clip(1.5 - np.hypot(yy - gh / 2, xx - gw / 3) / 9, 0, 1).astype(np.float32)
    height, width = gh * k + min(3, k - 1), gw * k + min(2, k - 1)
    texture = rng.integers(0, 70, (height, width, 3), dtype=np.uint8)
    disc = cv2.resize(target, (width, height), interpolation=cv2.INTER_LINEAR)
    rgb = (texture + (disc[..., None] * np.array([170, 110, 40])).astype(np.uint8)).astype(np.uint8)
    guide = downscale(rgb, k).astype(np.float32) / 255.0
    a, b = guided_coefficients(guide, target, 2, 3e-4)
    settled = np.clip(np.einsum("hwc,hwc->hw", a, guide) + b, 0, 1).astype(np.float32)
    boundary = np.zeros((gh, gw), np.uint8)
    boundary[gh // 2 - 6 : gh // 2 + 6 : 4, gw // 3 + 8] = BOUNDARY  # on the disc's edge
    return rgb, a, b, boundary, settled


def both_paths(monkeypatch, *args, **kwargs):
    """(the compiled pass's alpha and trimap, the OpenCV path's)"""
    made = apply_at_full_resolution(*args, **kwargs)
    monkeypatch.setattr(full_resolution, "native", None)
    expected = apply_at_full_resolution(*args, **kwargs)
    monkeypatch.setattr(full_resolution, "native", compiled)
    return made, expected


def assert_same_matte(made, expected) -> None:
    (alpha, trimap), (alpha_cv, trimap_cv) = made, expected
    assert alpha.dtype == np.float32 and trimap.dtype == np.uint8
    assert alpha.shape == trimap.shape == alpha_cv.shape
    np.testing.assert_allclose(alpha, alpha_cv, rtol=0, atol=1e-5)
    # The trimap rounds alpha to 0..255 levels: float rounding may move an alpha sitting on a
    # half level to the other side, nowhere else may the classes differ.
    level = alpha_cv.astype(np.float64) * 255.0
    on_a_half_level = np.abs(level - np.floor(level) - 0.5) < 1e-3
    differ = trimap != trimap_cv
    assert not (differ & ~on_a_half_level).any()
    assert differ.mean() < 1e-3


@needs_compiled
@pytest.mark.parametrize("k", [1, 3, 4, 10])
@pytest.mark.parametrize("path", ["settled blocks", "colour everywhere", "plain bilinear"])
def test_the_compiled_pass_gives_the_opencv_paths_matte(monkeypatch, k: int, path: str) -> None:
    rgb, a, b, boundary, settled = scene(k)
    params = RefineParams(strip_rows=8 * k)  # several strips: bands and strips join
    if path == "settled blocks":
        made, expected = both_paths(
            monkeypatch, rgb, a, b, boundary, k, params, guide_alpha=settled
        )
        modes = full_resolution._block_modes(  # noqa: SLF001
            full_resolution._pad_edges(settled),  # noqa: SLF001
            full_resolution._pad_edges(boundary),  # noqa: SLF001
            8,
            max(1, full_resolution.BLOCK_COLUMNS // k),
        )
        assert 0 < modes.mean() < 1  # both kinds of block are there
    elif path == "colour everywhere":
        made, expected = both_paths(monkeypatch, rgb, a, b, boundary, k, params)
    else:
        # (refine's unrefined baseline: an alpha at the guide's resolution, upsampled)
        made, expected = both_paths(monkeypatch, rgb, None, settled, boundary, k, params)
    assert_same_matte(made, expected)
    alpha, trimap = made
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    assert {BACKGROUND, SUBJECT, BOUNDARY} <= set(np.unique(trimap).tolist())


@needs_compiled
def test_the_compiled_pass_keeps_the_models_boundary_in_settled_areas(monkeypatch) -> None:
    rgb, a, b, _, settled = scene(4)
    boundary = np.zeros_like(settled, np.uint8)
    boundary[2, 60] = BOUNDARY  # far from the disc: settled background around it
    made, expected = both_paths(
        monkeypatch, rgb, a, b, boundary, 4, RefineParams(), guide_alpha=settled
    )
    assert_same_matte(made, expected)
    trimap = made[1]
    assert (trimap[8:12, 240:244] == BOUNDARY).all()  # guide pixel (2, 60), nearest
    assert trimap[0, 0] == BACKGROUND


@needs_compiled
def test_the_compiled_pass_follows_the_trimap_thresholds(monkeypatch) -> None:
    rgb, a, b, boundary, settled = scene(3)
    params = RefineParams(trimap_low=0.3, trimap_high=0.6)
    made, expected = both_paths(monkeypatch, rgb, a, b, boundary, 3, params, guide_alpha=settled)
    assert_same_matte(made, expected)


@needs_compiled
def test_the_compiled_pass_reads_a_photo_view(monkeypatch) -> None:
    # A region of a larger photo (the brush's): not contiguous.
    rgb, a, b, boundary, settled = scene(4)
    wider = np.zeros((rgb.shape[0], rgb.shape[1] + 7, 3), np.uint8)
    wider[:, 7:] = rgb
    made = apply_at_full_resolution(wider[:, 7:], a, b, boundary, 4, RefineParams())
    expected = apply_at_full_resolution(rgb, a, b, boundary, 4, RefineParams())
    np.testing.assert_array_equal(made[0], expected[0])


@needs_compiled
def test_the_compiled_pass_takes_float64_coefficients() -> None:
    # A caller's float64 coefficients: converted for the C, not refused.
    rgb, a, b, boundary, settled = scene(4)
    made = apply_at_full_resolution(
        rgb, a.astype(np.float64), b.astype(np.float64), boundary, 4, RefineParams()
    )
    expected = apply_at_full_resolution(rgb, a, b, boundary, 4, RefineParams())
    np.testing.assert_allclose(made[0], expected[0], rtol=0, atol=1e-6)


@needs_compiled
def test_cancelling_stops_the_compiled_pass_between_strips() -> None:
    rgb, a, b, boundary, settled = scene(4)
    calls = []

    class Stop(Exception):
        pass

    def check() -> None:
        calls.append(1)
        if len(calls) > 2:
            raise Stop  # as a cancelled segmentation's check raises Cancelled

    with pytest.raises(Stop):
        apply_at_full_resolution(rgb, a, b, boundary, 4, RefineParams(strip_rows=8), check)
    assert len(calls) < 6  # of six strips: it stopped


@needs_compiled
def test_the_compiled_pass_refuses_arrays_that_do_not_fit() -> None:
    rgb, a, b, boundary, settled = scene(4)
    pad = full_resolution._pad_edges  # noqa: SLF001
    coeffs = pad(a / 255.0).astype(np.float32)
    offsets, labels, guide = pad(b), pad(boundary), pad(settled)
    height, width = rgb.shape[:2]
    alpha = np.empty((height, width), np.float32)
    trimap = np.empty((height, width), np.uint8)
    modes = np.ones((6, 3), np.uint8)  # 45 guide rows in strips of 8, 70 columns in 25s
    geometry = (4, 8, 25, 25, 230, 0, height)
    compiled.matte_rows(rgb, coeffs, offsets, labels, guide, modes, geometry, alpha, trimap)
    bad = [
        (np.ascontiguousarray(rgb[:, :-4]), "guide"),  # a photo a guide pixel narrower
        (np.ones((5, 3), np.uint8), "modes"),
        (np.empty((height, width - 1), np.float32), "alpha"),
        ((4, 8, 25, 25, 230, 0, height + 1), "rows"),
    ]
    for replaced, words in bad:
        args = [rgb, coeffs, offsets, labels, guide, modes, geometry, alpha, trimap]
        index = {"guide": 0, "modes": 5, "alpha": 7, "rows": 6}[words]
        args[index] = replaced
        with pytest.raises(ValueError, match=words):
            compiled.matte_rows(*args)
    # Settled blocks need the settled alpha.
    zeros = modes * 0
    empty = np.empty(0, np.float32)
    with pytest.raises(ValueError, match="settled"):
        compiled.matte_rows(rgb, coeffs, offsets, labels, empty, zeros, geometry, alpha, trimap)


@needs_compiled
@pytest.mark.parametrize("weighted", [False, True])
def test_the_compiled_colour_fit_gives_numpys_coefficients_bit_for_bit(
    monkeypatch, weighted: bool
) -> None:
    rgb, _, _, _, settled = scene(3, gh=40, gw=52)
    guide = rgb[: 40 * 3 : 3, : 52 * 3 : 3].astype(np.float32) / 255.0  # any colours will do
    rng = np.random.default_rng(8)
    weights = rng.random(settled.shape, dtype=np.float32) if weighted else None
    made = guided_coefficients(guide, settled, 2, 3e-4, weights)
    monkeypatch.setattr(full_resolution, "native", None)
    expected = guided_coefficients(guide, settled, 2, 3e-4, weights)
    for got, want in zip(made, expected, strict=True):
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert np.abs(made[0]).max() > 0.05  # the colour term is there to compare


@needs_compiled
def test_the_compiled_colour_fit_refuses_arrays_that_do_not_fit() -> None:
    n = np.zeros((4, 5), np.float32)
    three, six = np.zeros((4, 5, 3), np.float32), np.zeros((4, 5, 6), np.float32)
    compiled.colour_products(three, six)
    compiled.colour_fit(six, three, n, three, 1e-3, three.copy(), n.copy())
    with pytest.raises(ValueError, match="out"):
        compiled.colour_products(three, np.empty((4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="mean_ip"):
        compiled.colour_fit(six, three, n, three.astype(np.float64), 1e-3, three, n)
    with pytest.raises(ValueError, match="sums"):
        compiled.colour_fit(three, three, n, three, 1e-3, three, n)
