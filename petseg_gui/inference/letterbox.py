"""Letterbox: fit the whole photo into the model's square without distorting it.

The paper squashed every photo to 224 x 224, which stretches a portrait's subject by the
photo's aspect ratio. Here the photo is scaled to fit, centred, and the rest of the square is
filled by mirroring the photo (reflect padding: no artificial edge for the model to segment);
the prediction is cropped back to the photo's rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from petseg_gui.inference.matting import resize_to


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
        scale = size / max(photo_height, photo_width)
        height = min(size, max(1, round(photo_height * scale)))
        width = min(size, max(1, round(photo_width * scale)))
        return cls(size, height, width, (size - height) // 2, (size - width) // 2)

    @property
    def shape(self) -> tuple[int, int]:
        """The working resolution: the photo's rectangle inside the square."""
        return self.height, self.width

    def batch(self, image: np.ndarray) -> np.ndarray:
        """float32 (1, S, S, 3) from the working image (``shape``, float32 in [0, 1])."""
        s = self.size
        bottom, right = s - self.height - self.top, s - self.width - self.left
        # BORDER_REFLECT_101 mirrors without repeating the edge pixel and, unlike numpy's
        # reflect, keeps mirroring when the pad is wider than the image (a 1-pixel strip).
        square = cv2.copyMakeBorder(
            image, self.top, bottom, self.left, right, cv2.BORDER_REFLECT_101
        )
        return square.reshape(1, s, s, 3)

    def merge(self, probabilities: np.ndarray) -> np.ndarray:
        """(height, width, 3) probabilities of the photo from the model's (1, S, S, 3)."""
        box = probabilities[
            0, self.top : self.top + self.height, self.left : self.left + self.width
        ]
        return np.ascontiguousarray(box)

    def working_image(self, rgb: np.ndarray) -> np.ndarray:
        """float32 working image in [0, 1] from a (downscaled) uint8 photo."""
        small = resize_to(rgb, self.height, self.width)
        return small.astype(np.float32) * np.float32(1.0 / 255.0)
