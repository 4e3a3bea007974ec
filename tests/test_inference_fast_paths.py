"""The cheaper segmentation paths give the alpha of the full ones: the full-resolution pass that
skips settled blocks, and the single forward pass for small photos."""

from __future__ import annotations

import numpy as np
import pytest

from petseg_gui.inference.matting import (
    BACKGROUND,
    BOUNDARY,
    SUBJECT,
    RefineParams,
    apply_at_full_resolution,
    downscale,
    guided_coefficients,
)


def _scene(k: int = 4):
    """A photo with a soft disc (subject) and texture, its guide and the filter's coefficients."""
    import cv2

    rng = np.random.default_rng(5)
    gh, gw = 60, 80
    yy, xx = np.mgrid[0:gh, 0:gw]
    target = np.clip(1.5 - np.hypot(yy - 30, xx - 40) / 12, 0, 1).astype(np.float32)
    extra_rows, extra_cols = min(3, k - 1), min(2, k - 1)  # leftovers below a guide pixel
    height, width = gh * k + extra_rows, gw * k + extra_cols
    texture = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    disc = cv2.resize(target, (width, height), interpolation=cv2.INTER_LINEAR)
    rgb = (texture + (disc[..., None] * np.array([180, 120, 20])).astype(np.uint8)).astype(np.uint8)
    guide = downscale(rgb, k).astype(np.float32) / 255.0
    a, b = guided_coefficients(guide, target, 2, 3e-4)
    guide_alpha = np.clip(np.einsum("hwc,hwc->hw", a, guide) + b, 0, 1).astype(np.float32)
    boundary = np.zeros((gh, gw), np.uint8)
    boundary[30, 25] = BOUNDARY  # a model boundary inside a settled area
    return rgb, a, b, boundary, guide_alpha, k


def test_skipping_settled_blocks_keeps_the_alpha() -> None:
    rgb, a, b, boundary, guide_alpha, k = _scene()
    params = RefineParams(strip_rows=32)
    full, full_trimap = apply_at_full_resolution(rgb, a, b, boundary, k, params)
    fast, fast_trimap = apply_at_full_resolution(
        rgb, a, b, boundary, k, params, guide_alpha=guide_alpha
    )
    assert np.abs(fast - full).max() < 0.01
    assert np.mean(fast_trimap == full_trimap) > 0.999
    assert ((fast > 0.5) == (full > 0.5)).all()
    # The model's boundary is kept even where the alpha is settled.
    assert fast_trimap[30 * k + 1, 25 * k + 1] == BOUNDARY
    # Settled corners: exact classes.
    assert fast_trimap[0, 0] == BACKGROUND
    assert fast_trimap[30 * k, 40 * k] == SUBJECT


@pytest.mark.parametrize("k", [1, 3])
def test_skipping_handles_leftover_rows_and_columns(k: int) -> None:
    rgb, a, b, boundary, guide_alpha, _ = _scene(k)
    params = RefineParams(strip_rows=16)
    fast, trimap = apply_at_full_resolution(rgb, a, b, boundary, k, params, guide_alpha=guide_alpha)
    full, _ = apply_at_full_resolution(rgb, a, b, boundary, k, params)
    assert fast.shape == trimap.shape == rgb.shape[:2]
    # Settled means within CONFIDENT (0.05) of 0 or 1: this scene's strong texture moves the
    # skipped colour term by up to 0.033 there (a real 12 MP photo: 0.0032).
    assert np.abs(fast - full).max() < 0.04
    assert ((fast > 0.5) == (full > 0.5)).all()


def test_small_photo_takes_one_forward_pass_with_the_tiles_alpha(tiny_model_dir) -> None:
    from tiny_model import synthetic_photo

    from petseg_gui.inference import Segmenter
    from petseg_gui.inference.tiling import SinglePassPlan, TilePlan

    photo = synthetic_photo(240, 320)  # 77k pixels: two tiles of the 64 px model
    tiles = Segmenter(tiny_model_dir, single_pass_pixels=0)
    single = Segmenter(tiny_model_dir)
    assert isinstance(tiles._plan(240, 320, 64), TilePlan)  # noqa: SLF001
    assert isinstance(single._plan(240, 320, 64), SinglePassPlan)  # noqa: SLF001
    assert isinstance(single._plan(2400, 3200, 64), TilePlan)  # noqa: SLF001 (not small)
    single.load()
    calls = []
    forward = single._model.forward  # noqa: SLF001

    def counted(batch):
        calls.append(len(batch))
        return forward(batch)

    import dataclasses

    single._model = dataclasses.replace(single._model, forward=counted)  # noqa: SLF001
    fast = single.predict(photo)
    assert calls == [1]  # one forward pass of one square
    reference = tiles.predict(photo)
    assert fast.alpha.shape == reference.alpha.shape == photo.shape[:2]
    assert np.abs(fast.alpha - reference.alpha).mean() < 0.02
    assert np.mean((fast.alpha > 0.5) == (reference.alpha > 0.5)) > 0.99
