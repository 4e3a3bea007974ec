"""Letterbox: fit the whole photo into the model's square without distorting it.

The paper squashed every photo to 224 x 224, which stretches a portrait's subject by the
photo's aspect ratio. Here the photo is scaled to fit, centred, and the rest of the square is
filled by mirroring the photo (reflect padding: no artificial edge for the model to segment);
the prediction is cropped back to the photo's rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petseg_gui.contract.geometry import centre_offsets, fit_shape, pad_square, resize


@dataclass(frozen=True)
class LetterboxPlan:
    """Where a photo of ``height`` x ``width`` (the working image) sits in the model square."""

    size: int  # the model's input side S
    height: int
    width: int
    top: int
    left: int

    @classmethod
    def fit(cls, photo_height: int, photo_width: int, size: int) -> LetterboxPlan:
        # The contract's geometry: the trainer letterboxes its photos with the same code.
        height, width = fit_shape(photo_height, photo_width, size)
        return cls(size, height, width, *centre_offsets(height, width, size))

    @property
    def shape(self) -> tuple[int, int]:
        """The working resolution: the photo's rectangle inside the square."""
        return self.height, self.width

    def batch(self, image: np.ndarray) -> np.ndarray:
        """float32 (1, S, S, 3) from the working image (``shape``, float32 in [0, 1])."""
        return pad_square(image, self.size)[np.newaxis]

    def merge(self, probabilities: np.ndarray) -> np.ndarray:
        """(height, width, 3) probabilities of the photo from the model's (1, S, S, 3)."""
        box = probabilities[
            0, self.top : self.top + self.height, self.left : self.left + self.width
        ]
        return np.ascontiguousarray(box)

    def working_image(self, rgb: np.ndarray) -> np.ndarray:
        """float32 working image in [0, 1] from a (downscaled) uint8 photo."""
        return working_float(rgb, self.height, self.width)


def working_float(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """A plan's model input: uint8 ``rgb`` resized to ``height`` x ``width`` (the contract's rule:
    area-averaged when shrinking), float32 in [0, 1]."""
    small = resize(rgb, height, width)
    return small.astype(np.float32) * np.float32(1.0 / 255.0)
