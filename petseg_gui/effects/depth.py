"""Depth falloff: the blur radius grows with distance from the subject.

A single photo has no depth, but "further from the subject in the picture" is a good stand-in
for "further behind it": the ground at the subject's feet, the wall just behind a shoulder. So
the background right at the subject's edge gets a fraction of the full blur and the far
background all of it; the transition is what keeps the subject from looking cut out.

The radius fraction is then rendered by blending a few disk blurs of fixed radii (``LEVELS``):
each pixel mixes the two levels around its fraction (hat-function weights).
"""

from __future__ import annotations

import numpy as np

# Radius fraction at the subject's edge, and the distance (fraction of the longer side) at
# which the full radius is reached.
NEAR_FRACTION = 0.35
FAR_DISTANCE = 0.2
# Radius fractions of the precomputed blur levels, evenly spaced from NEAR_FRACTION to 1.
LEVELS: tuple[float, ...] = (NEAR_FRACTION, (NEAR_FRACTION + 1.0) / 2, 1.0)


def radius_fraction(alpha: np.ndarray) -> np.ndarray:
    """float32 HxW in [NEAR_FRACTION, 1]: the share of the full blur radius at each pixel.

    ``alpha`` may be a small copy of the matte: distances are measured relative to its longer
    side, so the map can be resized to any resolution. No subject at all -> full blur everywhere.
    """
    import cv2

    background = (alpha < 0.5).astype(np.uint8)
    if background.all():
        return np.ones(alpha.shape, np.float32)
    # Distance from each background pixel to the nearest subject pixel (0 on the subject).
    distance = cv2.distanceTransform(background, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    t = np.minimum(distance / (FAR_DISTANCE * max(alpha.shape)), 1.0)
    # Ease-out: the blur starts growing right at the edge and levels off far away.
    ease = 1.0 - (1.0 - t) ** 2
    return (NEAR_FRACTION + (1.0 - NEAR_FRACTION) * ease).astype(np.float32)


def level_weights(fraction: np.ndarray, levels: tuple[float, ...] = LEVELS) -> list[np.ndarray]:
    """Per-level blend weights (float32 HxW each, summing to 1) for a radius-fraction map."""
    step = levels[1] - levels[0]
    f = np.clip(fraction, levels[0], levels[-1])
    return [np.maximum(1.0 - np.abs(f - level) / step, 0.0) for level in levels]
