"""Overlap-tile: run the model on overlapping squares of the photo (U-Net paper, Ronneberger
et al. 2015, Fig. 2 & 9).

The photo is scaled so its short side is ``scale`` x the model size S and cut into S x S tiles
that overlap by a quarter tile. At the default scale 1 a 4:3 photo is two tiles side by side:
undistorted, and 1.8x the model pixels of a letterbox (which spends a quarter of its square on
padding and shrinks the photo to fit the long side). Tile predictions are blended with weights
that fall towards each tile's border (where the model saw the least context), so no seam shows.
``mirror`` adds the paper's mirrored border of half an overlap around the photo; on the people
photos it cost IoU (docs/INFERENCE.md), so it is off by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from petseg_gui.inference.letterbox import working_float
from petseg_gui.inference.matting import resize_to

DEFAULT_SCALE = 1.0
DEFAULT_OVERLAP_FRACTION = 0.25


def tile_starts(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of ``size`` windows covering ``length`` (>= size) with at most ``stride``
    between starts; the last window ends exactly at ``length``."""
    last = length - size
    starts = list(range(0, last, stride)) + [last]
    return sorted(set(starts))


def _ramp(size: int, overlap: int) -> np.ndarray:
    i = np.arange(size, dtype=np.float32) + 0.5
    edge = np.minimum(i, size - i) / max(1, overlap)
    return np.clip(edge, 1e-3, 1.0).astype(np.float32)


@dataclass(frozen=True)
class TilePlan:
    size: int
    height: int  # working image
    width: int
    margin: int  # mirrored border around the working image
    padded: tuple[int, int]
    origins: tuple[tuple[int, int], ...]
    weight: np.ndarray = field(repr=False, compare=False)

    @classmethod
    def fit(
        cls,
        photo_height: int,
        photo_width: int,
        size: int,
        *,
        scale: float = DEFAULT_SCALE,
        overlap_fraction: float = DEFAULT_OVERLAP_FRACTION,
        mirror: bool = False,
    ) -> TilePlan:
        # Small photos are enlarged too: the model was trained on subjects filling S pixels.
        factor = scale * size / min(photo_height, photo_width)
        height = max(1, round(photo_height * factor))
        width = max(1, round(photo_width * factor))
        overlap = int(size * overlap_fraction)
        margin = overlap // 2 if mirror else 0
        padded = (max(size, height + 2 * margin), max(size, width + 2 * margin))
        stride = max(1, size - overlap)
        origins = tuple(
            (y, x)
            for y in tile_starts(padded[0], size, stride)
            for x in tile_starts(padded[1], size, stride)
        )
        ramp = _ramp(size, overlap)
        return cls(size, height, width, margin, padded, origins, np.outer(ramp, ramp))

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def working_image(self, rgb: np.ndarray) -> np.ndarray:
        return working_float(rgb, self.height, self.width)

    def batch(self, image: np.ndarray) -> np.ndarray:
        """float32 (n_tiles, S, S, 3) from the working image."""
        m = self.margin
        bottom = self.padded[0] - self.height - m
        right = self.padded[1] - self.width - m
        padded = cv2.copyMakeBorder(image, m, bottom, m, right, cv2.BORDER_REFLECT_101)
        s = self.size
        return np.stack([padded[y : y + s, x : x + s] for y, x in self.origins])

    def merge(self, probabilities: np.ndarray) -> np.ndarray:
        """Weighted blend of the tiles' (n, S, S, 3) probabilities -> (height, width, 3)."""
        s = self.size
        total = np.zeros((*self.padded, 3), np.float32)
        weight = np.zeros(self.padded, np.float32)
        for (y, x), tile in zip(self.origins, probabilities, strict=True):
            total[y : y + s, x : x + s] += tile * self.weight[..., None]
            weight[y : y + s, x : x + s] += self.weight
        m = self.margin
        total = total[m : m + self.height, m : m + self.width]
        return np.ascontiguousarray(total / weight[m : m + self.height, m : m + self.width, None])


class _OneInput:
    """What the one-pass plans share: the working image is the model's one input."""

    height: int
    width: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def batch(self, image: np.ndarray) -> np.ndarray:
        """float32 (1, h, w, 3): the working image (``working_image``) as a batch of one."""
        return image[np.newaxis]


@dataclass(frozen=True)
class SinglePassPlan(_OneInput):
    """A small photo in one forward pass: the whole photo resized to the model square.

    The photo is sampled at the tiles' scale along its short side and squeezed along the long
    one (a 4:3 photo by 0.75), instead of two overlapping tiles: half the forward cost. On the
    bundled model's 48 held-out people photos (all squeezed) foreground IoU was 0.928 against
    the tiles' 0.929 (mean per photo 0.901 vs 0.905); a letterbox (one pass, the long side
    fitted) lost 0.010. So only photos of at most ``Segmenter.single_pass_pixels`` take it.
    """

    size: int
    height: int  # working image: the tiles' working resolution, so refinement is unchanged
    width: int

    @classmethod
    def fit(cls, photo_height: int, photo_width: int, size: int) -> SinglePassPlan:
        tiles = TilePlan.fit(photo_height, photo_width, size)
        return cls(size, tiles.height, tiles.width)

    def working_image(self, rgb: np.ndarray) -> np.ndarray:
        """float32 (S, S, 3): the photo squeezed into the model square."""
        return working_float(rgb, self.size, self.size)

    def merge(self, probabilities: np.ndarray) -> np.ndarray:
        """The square's probabilities stretched back to the working shape (height, width, 3)."""
        return np.ascontiguousarray(resize_to(probabilities[0], self.height, self.width))


SIDE_MULTIPLE = 32  # five stride-2 stages in the U-Net: a free-size input must divide by this


@dataclass(frozen=True)
class WholePhotoPlan(_OneInput):
    """The whole photo in one forward pass at the tiles' scale, on a model that takes any sides
    that are multiples of 32 (a flexible ``model.tflite``, model_folder.LoadedModel.flexible).

    The short side is ``scale`` x the model size S, as for the tiles; each side is then rounded
    up to a multiple of 32 (a 4:3 photo at S = 288 is exactly 288 x 384; other ratios are
    stretched by less than 32 px, 8% of 384). Against two overlapping S x S tiles: at least the
    same model pixels per photo pixel, no seams to blend, the whole subject in view, and 0.7x
    the forward time (no overlap computed twice). docs/INFERENCE.md has the IoU of both.
    """

    size: int
    height: int  # the model input, which is also the working resolution
    width: int

    @classmethod
    def fit(
        cls, photo_height: int, photo_width: int, size: int, *, scale: float = DEFAULT_SCALE
    ) -> WholePhotoPlan:
        tiles = TilePlan.fit(photo_height, photo_width, size, scale=scale)

        def side(n: int) -> int:
            # Rounded up: never fewer model pixels than the tiles (rounding to the nearest
            # multiple lost known-edge accuracy at 224 px, where 4:3 is 299 -> 288).
            return -(-n // SIDE_MULTIPLE) * SIDE_MULTIPLE

        return cls(size, side(tiles.height), side(tiles.width))

    def working_image(self, rgb: np.ndarray) -> np.ndarray:
        return working_float(rgb, self.height, self.width)

    def merge(self, probabilities: np.ndarray) -> np.ndarray:
        """(height, width, 3): the one pass is already the working resolution."""
        return probabilities[0]
