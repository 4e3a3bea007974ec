"""The Qt-free display helpers: trimap overlay, export greys, preview downscaling."""

from __future__ import annotations

import numpy as np
import pytest

from petseg_gui.overlay import TRIMAP_COLOURS, matte_to_grey, trimap_overlay, trimap_to_grey
from petseg_gui.preview import downscale, downscale_labels, preview_shape


def _scene():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    trimap = np.zeros((6, 8), np.uint8)
    trimap[:, 3:5] = 2
    trimap[:, 5:] = 1
    return rgb, trimap


def test_full_opacity_shows_the_class_colours() -> None:
    rgb, trimap = _scene()
    out = trimap_overlay(rgb, trimap, 1.0)
    for index, colour in TRIMAP_COLOURS.items():
        assert (out[trimap == index] == colour).all()


def test_zero_opacity_shows_the_dimmed_photo() -> None:
    rgb, trimap = _scene()
    out = trimap_overlay(rgb, trimap, 0.0)
    expected = np.round(rgb.astype(np.float64) * 0.6)
    assert np.abs(out.astype(np.float64) - expected).max() <= 1
    assert out.dtype == np.uint8 and out.shape == rgb.shape


def test_overlay_refuses_mismatched_sizes() -> None:
    rgb, trimap = _scene()
    with pytest.raises(ValueError, match="differ in size"):
        trimap_overlay(rgb, trimap[:-1], 0.5)


def test_export_greys() -> None:
    _, trimap = _scene()
    grey = trimap_to_grey(trimap)
    assert grey[0, 0] == 255 and grey[0, 3] == 128 and grey[0, 7] == 0
    alpha = np.array([[0.0, 0.5, 1.0]], np.float32)
    assert matte_to_grey(alpha).tolist() == [[0, 128, 255]]


def test_preview_shape_caps_the_long_side_and_never_enlarges() -> None:
    assert preview_shape(3000, 4000, 1600) == (1200, 1600)
    assert preview_shape(4000, 3000, 1600) == (1600, 1200)
    assert preview_shape(300, 400, 1600) == (300, 400)
    assert preview_shape(3000, 4000, None) == (3000, 4000)


def test_downscale_labels_invents_no_class() -> None:
    # Subject (0) next to boundary (2): averaging would produce background (1).
    labels = np.zeros((40, 40), np.uint8)
    labels[:, 1::2] = 2
    small = downscale_labels(labels, 10)
    assert small.shape == (10, 10)
    assert set(np.unique(small)) <= {0, 2}
    image = np.full((40, 40, 3), 7, np.uint8)
    assert downscale(image, 10).shape == (10, 10, 3)
    assert downscale(image, 100) is image
