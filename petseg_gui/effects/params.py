"""The portrait effect's user-facing settings and the constants that tie them to the image."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Background blur radius at blur=100, as a fraction of the image's longer side. Relative to the
# image (not pixels), so a 1600 px preview and the 4000 px saved photo show the same look.
MAX_BLUR_FRACTION = 0.03


@dataclass(frozen=True)
class PortraitParams:
    """Settings of the depth effect. ``blur`` and ``sharpen`` run from 0 to 100.

    Values outside 0..100 (or NaN) raise ``ValueError``: the sliders cannot produce them, so one
    is a programming error; the CLI checks user-typed values itself and reports a PetsegError.
    """

    enabled: bool = True
    blur: float = 50.0
    sharpen: float = 30.0

    def __post_init__(self) -> None:
        for name in ("blur", "sharpen"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"PortraitParams.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and 0.0 <= value <= 100.0):
                raise ValueError(f"PortraitParams.{name} must be in 0..100, got {value!r}")

    @property
    def is_identity(self) -> bool:
        """True when rendering returns the photo unchanged."""
        return not self.enabled or (self.blur == 0 and self.sharpen == 0)


def blur_radius(blur: float, long_side: int) -> float:
    """Largest (far background) lens-blur radius in pixels for an image with this longer side."""
    return MAX_BLUR_FRACTION * long_side * blur / 100.0
