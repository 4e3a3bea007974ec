"""The contract the app and the trainer share (petseg_gui/contract): both sides use one rule."""

from __future__ import annotations

import numpy as np
import pytest

from model_training.data.letterbox import letterbox as trainer_letterbox
from petseg_gui.contract import geometry
from petseg_gui.inference.letterbox import LetterboxPlan


def _photo(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(height * 1000 + width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


# (1, 300) and (300, 1): a side that keeps its length while the other shrinks. The app used to
# resample those bilinearly and the trainer by area averaging; the rest are ordinary photos.
@pytest.mark.parametrize(
    "shape", [(1, 300), (300, 1), (48, 64), (300, 200), (97, 131), (30, 40), (64, 64), (60, 2)]
)
def test_app_and_trainer_letterbox_a_photo_alike(shape: tuple[int, int]) -> None:
    rgb, size = _photo(*shape), 64
    plan = LetterboxPlan.fit(*shape, size)
    app = plan.batch(plan.working_image(rgb))[0]
    trainer = trainer_letterbox(rgb, size, nearest=False)
    assert trainer.shape == (size, size, 3)
    np.testing.assert_array_equal(np.rint(app * 255).astype(np.uint8), trainer)
    # The app crops its prediction from the rectangle the trainer filled with the photo.
    top, left = plan.top, plan.left
    box = trainer[top : top + plan.height, left : left + plan.width]
    np.testing.assert_array_equal(box, geometry.resize(rgb, plan.height, plan.width))


def test_fit_shape_keeps_the_longer_side_and_a_pixel_at_least() -> None:
    assert geometry.fit_shape(300, 400, 64) == (48, 64)
    assert geometry.fit_shape(1, 1000, 64) == (1, 64)
    assert geometry.centre_offsets(48, 64, 64) == (8, 0)
    assert geometry.centre_offsets(47, 64, 64) == (8, 0)  # the odd pixel goes to the bottom


def test_mask_lands_on_the_photos_rectangle_whatever_its_scale() -> None:
    mask = np.zeros((150, 200), np.uint8)
    mask[:, 100:] = 1
    square = geometry.letterbox(mask, 64, nearest=True, photo_shape=(300, 400))
    assert square.shape == (64, 64)
    assert set(np.unique(square)) <= {0, 1}


def test_letterbox_keeps_a_single_channel_axis() -> None:
    trimap = np.ones((30, 40, 1), np.uint8)
    assert geometry.letterbox(trimap, 24, nearest=True).shape == (24, 24, 1)
    assert geometry.letterbox(trimap[..., 0], 24, nearest=True).shape == (24, 24)
