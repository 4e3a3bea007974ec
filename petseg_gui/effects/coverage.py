"""The matte as the effect uses it: how much of each pixel the subject covers.

A segmentation model's matte is a probability (docs/INTERFACES.md section 5: p_subject + 0.5
p_boundary, through the guided filter), not a coverage: on real photos the bundled model's is
1e-4 to 0.09 far out in the background and 0.8 to 0.9996 inside the subject, exactly 0 or 1
nowhere. Blended as coverage, that shows a faint sharp ghost of the background in the blur
(strongest in a halo around the subject, where the model is least sure) and lets a little blur
through the subject; and it made every pixel "soft", so a 12 MP save sharpened and blended the
whole photo (docs/EFFECTS.md, issue 12).

So the matte's levels are stretched between the trimap pane's thresholds: at most LOW is
background, at least HIGH is subject, linear between (``(alpha - LOW) / (HIGH - LOW)``,
clipped). What the trimap pane calls background is then exactly background in the portrait,
what it calls subject exactly the sharpened subject, and only its boundary is blended. The
soft edge keeps its shape (0.5 stays 0.5, where the depth map and the IoU tables cut); a
hand-made matte of 0s and 1s is unchanged. On seven real photos (six people, a cat) at blur 50
the portrait changed by more than 8 codes on at most 1% of the pixels (the halo, and the
subject's inside where the model said 0.8-0.9); the faintest flyaway hairs (alpha under ~0.1)
go into the blur.
"""

from __future__ import annotations

import numpy as np

from petseg_gui import parallel

# The trimap's thresholds (inference.matting.RefineParams.trimap_low / trimap_high; a test holds
# them equal). Symmetric about 0.5, so the stretch keeps the matte's half-way line in place.
LOW = 0.1
HIGH = 0.9
# (alpha - LOW) / (HIGH - LOW) as alpha * GAIN - OFFSET: GAIN (1.25) and OFFSET (0.125) are
# exact in binary, so 0.5 maps to exactly 0.5, and 0 and 1 to values the clip makes 0 and 1.
GAIN = 1.0 / (HIGH - LOW)
OFFSET = LOW * GAIN  # (_fused.c has both numbers too: tests/test_effects_native.py compares)
# Rows stretched at a time inside a band: the three passes stay in cache (a 4000 px row of
# float32 is 16 KB).
CHUNK_ROWS = 32


def coverage(alpha: np.ndarray) -> np.ndarray:
    """A new float32 array: ``alpha`` (float32 HxW) stretched between LOW and HIGH, in [0, 1].
    NaN stays NaN, as with a plain clip. In row bands on both cores (parallel.py)."""
    out = np.empty(alpha.shape, np.float32)
    height, width = alpha.shape
    parallel.map_bands(
        lambda rows: stretch(alpha[rows], out[rows]), parallel.row_bands(height, height * width)
    )
    return out


def stretch(alpha: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """coverage() on this thread: ``alpha`` (float32 hxw) stretched into ``out`` (a new array
    when None), CHUNK_ROWS at a time. For a band that already runs on one of the cores."""
    if out is None:
        out = np.empty(alpha.shape, np.float32)
    for top in range(0, alpha.shape[0], CHUNK_ROWS):
        part = slice(top, top + CHUNK_ROWS)
        chunk = out[part]
        np.multiply(alpha[part], np.float32(GAIN), out=chunk)
        np.subtract(chunk, np.float32(OFFSET), out=chunk)
        np.clip(chunk, 0.0, 1.0, out=chunk)
    return out


class Stretched:
    """The stretched matte of ``given`` (float32 HxW), made a region at a time where it is read:
    ``matte[rows, cols]`` is ``stretch(given[rows, cols])``, a new array. The one-shot render
    reads a full-size matte this way instead of holding a stretched copy (48 MB at 12 MP, and a
    fresh array's page faults: ~5 ms of a ~48 ms save)."""

    def __init__(self, given: np.ndarray) -> None:
        self.given = given

    @property
    def shape(self) -> tuple[int, ...]:
        return self.given.shape

    def __getitem__(self, key: object) -> np.ndarray:
        return stretch(self.given[key])
