"""The exact (slow) portrait effect: the disk blur at full output resolution, the reference the
fast reduced-resolution path is measured against (tests/test_effects.py and
benchmarks/effects_speed.py). Not part of the app."""

from __future__ import annotations

import numpy as np

from petseg_gui.effects import PortraitParams, Prepared, composite, lens_blur
from petseg_gui.effects.params import blur_radius


def exact_background(prepared: Prepared, blur: float) -> np.ndarray:
    """uint8 HxWx3: the background blurred at the prepared size itself (no working image)."""
    radius = blur_radius(blur, max(prepared.shape))
    if radius < composite.MIN_VISIBLE_RADIUS:
        return prepared.rgb
    work = lens_blur.premultiplied_background(prepared.rgb, prepared.coverage)
    fill = lens_blur.mean_background(prepared.pyramid[-1])
    return composite.blur_work_image(work, prepared.radius_fraction, fill, radius)


def render_exact(prepared: Prepared, params: PortraitParams) -> np.ndarray:
    """render_prepared with the exact background."""
    if params.is_identity:
        return prepared.rgb.copy()
    return prepared.composite(exact_background(prepared, params.blur), params.sharpen)
