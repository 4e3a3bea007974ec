"""Brush strokes (petseg_gui.edits.brush): local, exact undo, edge-aware, add and remove."""

from __future__ import annotations

import numpy as np
import pytest

from petseg_gui.edits import BrushParams, MattePatch, Stroke, preview_patch, stroke_patch
from petseg_gui.inference.matting import guided_coefficients

EDGE_X = 80  # red subject left of it, blue background right of it


def two_colour_photo(height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    """uint8 H x W x 3: red left of EDGE_X, blue from it, with a little sensor noise."""
    rng = np.random.default_rng(seed)
    rgb = np.zeros((height, width, 3), np.int32)
    rgb[:, :EDGE_X] = (200, 60, 40)
    rgb[:, EDGE_X:] = (40, 70, 200)
    return np.clip(rgb + rng.integers(-6, 7, rgb.shape), 0, 255).astype(np.uint8)


def distance_to_segment(shape, p0, p1) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
    return np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))


def painted(matte: np.ndarray, patch: MattePatch | None) -> np.ndarray:
    out = matte.copy()
    assert patch is not None
    patch.apply(out)
    return out


@pytest.mark.parametrize("edge_aware", [True, False])
def test_stroke_changes_matte_only_near_the_stroke(edge_aware: bool) -> None:
    rgb = two_colour_photo()
    rng = np.random.default_rng(1)
    matte = rng.random((120, 160)).astype(np.float32) * 0.3
    stroke = Stroke("add", 10, ((30.0, 30.0), (50.0, 90.0)))
    params = BrushParams(edge_aware=edge_aware)
    after = painted(matte, stroke_patch(matte, rgb, stroke, params))

    dist = distance_to_segment(matte.shape, (30, 30), (50, 90))
    far = dist > 10 * (1 + params.feather) + 2  # footprint + a small margin
    assert np.array_equal(after[far], matte[far])  # exactly, not approximately
    assert np.all(after[dist <= 5] == 1.0)  # the core is painted
    assert np.all(after >= matte)  # an add stroke never lowers alpha


def test_undo_restores_exactly_and_redo_repeats() -> None:
    rgb = two_colour_photo()
    matte = np.random.default_rng(2).random((120, 160)).astype(np.float32)
    original = matte.copy()
    patches = [
        stroke_patch(matte, rgb, Stroke("add", 8, ((20.0, 20.0), (100.0, 60.0)))),
    ]
    patches[0].apply(matte)
    patches.append(stroke_patch(matte, rgb, Stroke("remove", 12, ((60.0, 10.0), (60.0, 110.0)))))
    patches[1].apply(matte)
    done = matte.copy()
    for patch in reversed(patches):
        patch.revert(matte)
    assert np.array_equal(matte, original)
    for patch in patches:
        patch.apply(matte)
    assert np.array_equal(matte, done)


def test_add_stroke_along_a_colour_edge_snaps_to_the_edge() -> None:
    """A rough stroke whose centre half is on the subject and whose circle overlaps the
    background by 4 px: the new edge is at the colour edge (x = 80), sharp, not at the brush's
    circle (x = 84) nor at the end of its feather (x = 87)."""
    rgb = two_colour_photo()
    matte = np.zeros((120, 160), np.float32)
    stroke = Stroke("add", 12, ((72.0, 20.0), (72.0, 100.0)))
    row = painted(matte, stroke_patch(matte, rgb, stroke))[60]
    assert np.all(row[66 : EDGE_X - 1] > 0.9)  # the subject side of the brush: added
    assert row[EDGE_X - 1] > 0.8
    assert np.all(row[EDGE_X + 1 : 90] < 0.1)  # the background inside the brush: not added
    # A plain soft brush would have painted the background up to its circle.
    plain = painted(matte, stroke_patch(matte, rgb, stroke, BrushParams(edge_aware=False)))[60]
    assert np.all(plain[EDGE_X:84] == 1.0)


def test_remove_stroke_takes_out_background_and_keeps_subject() -> None:
    rgb = two_colour_photo()
    matte = np.ones((120, 160), np.float32)  # the model took the background too
    stroke = Stroke("remove", 12, ((86.0, 20.0), (86.0, 100.0)))
    after = painted(matte, stroke_patch(matte, rgb, stroke))
    row = after[60]
    assert np.all(row[EDGE_X + 1 : 92] < 0.1)
    assert np.all(row[70 : EDGE_X - 1] > 0.9)  # the red subject in the brush stays
    assert np.all(after <= matte)


def test_stroke_off_the_photo_and_preview_scale() -> None:
    rgb = two_colour_photo()
    matte = np.zeros((120, 160), np.float32)
    assert stroke_patch(matte, rgb, Stroke("add", 5, ((-50.0, -50.0),))) is None
    # Partly off the photo: the part on it is painted.
    patch = stroke_patch(matte, rgb, Stroke("add", 10, ((-4.0, 60.0), (20.0, 60.0))))
    assert patch is not None and patch.x0 == 0
    # Preview: the same stroke on a half-size matte lands at half the coordinates.
    small = np.zeros((60, 80), np.float32)
    prev = preview_patch(small, rgb[::2, ::2], Stroke("add", 8, ((40.0, 60.0),)), 0.5)
    after = painted(small, prev)
    assert after[30, 20] == 1.0 and after[30, 40] == 0.0


def test_stroke_validation_and_tail() -> None:
    with pytest.raises(ValueError):
        Stroke("paint", 5, ((0.0, 0.0),))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Stroke("add", 0, ((0.0, 0.0),))
    stroke = Stroke("add", 5, ((0.0, 0.0),)).with_point(3, 4).with_point(5, 6)
    assert stroke.tail().points == ((3.0, 4.0), (5.0, 6.0))


def test_weighted_guided_filter_with_uniform_weights_is_the_plain_one() -> None:
    rng = np.random.default_rng(3)
    guide = rng.random((40, 50, 3)).astype(np.float32)
    target = rng.random((40, 50)).astype(np.float32)
    a0, b0 = guided_coefficients(guide, target, 3, 1e-3)
    a1, b1 = guided_coefficients(guide, target, 3, 1e-3, np.ones((40, 50), np.float32))
    np.testing.assert_allclose(a1, a0, atol=2e-3)
    np.testing.assert_allclose(b1, b0, atol=2e-3)
