"""Subject sharpening: an unsharp mask whose result is clamped to the local min/max.

Plain unsharp masking overshoots at edges (a dark rim beside a bright edge, "ringing") and the
overshoot grows with the amount. Clamping each pixel to the range of its neighbourhood keeps
the steeper edges and stronger texture but can never draw a value the neighbourhood did not
have, so even sharpen=100 shows no halos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Amount (detail multiplier) at sharpen=100.
MAX_AMOUNT = 2.0
# Unsharp radius relative to the longer side, with a 1 px floor: about 1 px on a 1600 px preview
# and 2.4 px at 4000 px, so a preview and the saved photo are sharpened alike.
SIGMA_FRACTION = 0.0006
MIN_SIGMA = 1.0


@dataclass(frozen=True)
class SharpenBase:
    """What sharpening needs from one photo, independent of the amount."""

    rgb: np.ndarray  # uint8 HxWx3
    smooth: np.ndarray  # uint8 HxWx3, Gaussian-blurred
    local_min: np.ndarray  # uint8 HxWx3
    local_max: np.ndarray  # uint8 HxWx3


def sigma_for(long_side: int) -> float:
    return max(MIN_SIGMA, SIGMA_FRACTION * long_side)


def _window_side(sigma: float) -> int:
    return 2 * int(np.ceil(sigma)) + 1


def reach(long_side: int) -> int:
    """How far (pixels) sharpening looks around a pixel: a crop with this margin around the
    subject gives the same sharpened subject as the whole photo."""
    sigma = sigma_for(long_side)
    return int(np.ceil(4 * sigma)) + _window_side(sigma)


def sharpen_base(rgb: np.ndarray, *, long_side: int | None = None) -> SharpenBase:
    """``long_side``: of the whole photo when ``rgb`` is a crop of it (sets the radius)."""
    import cv2

    sigma = sigma_for(long_side or max(rgb.shape[:2]))
    side = _window_side(sigma)
    window = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    return SharpenBase(
        rgb=rgb,
        smooth=cv2.GaussianBlur(rgb, (0, 0), sigma, borderType=cv2.BORDER_REFLECT),
        local_min=cv2.erode(rgb, window, borderType=cv2.BORDER_REPLICATE),
        local_max=cv2.dilate(rgb, window, borderType=cv2.BORDER_REPLICATE),
    )


def sharpened(base: SharpenBase, sharpen: float) -> np.ndarray:
    """uint8 HxWx3: ``rgb + amount * (rgb - smooth)``, clamped to the local min/max."""
    import cv2

    if sharpen <= 0:
        return base.rgb
    amount = MAX_AMOUNT * sharpen / 100.0
    out = cv2.addWeighted(base.rgb, 1.0 + amount, base.smooth, -amount, 0.0)
    cv2.max(out, base.local_min, dst=out)
    cv2.min(out, base.local_max, dst=out)
    return out
