"""Portrait rendering (Qt-free): lens blur, depth falloff, subject sharpening, compositing.

Simple use, one photo once (e.g. saving at full resolution)::

    from petseg_gui.effects import PortraitParams, render
    out = render(rgb, alpha, PortraitParams(blur=60, sharpen=30))          # full size
    preview = render(rgb, alpha, PortraitParams(), max_size=1600)           # longest side 1600

Interactive use (the GUI re-renders on every slider move): prepare once per photo + matte, in a
worker, then render per slider change; only the slider-dependent work runs again, and moving
only the sharpen slider reuses the last blurred background::

    prepared = prepare(rgb, alpha, max_size=1600)   # the full-size photo and matte
    out = render_prepared(prepared, PortraitParams(blur=40, sharpen=20))
    prepared.rgb                                     # the photo at the preview size

Give ``prepare`` the full-size photo rather than a shrunk copy: highlights become light before
shrinking, so the preview's bokeh matches the saved photo's.

Inputs: ``rgb`` uint8 HxWx3, ``alpha`` float32 HxW in [0, 1] (1 = subject; stretched so that at
most 0.1 is background and at least 0.9 subject, as in the trimap: coverage.py); neither is
modified.
Output: a new uint8 array at the prepared size. ``enabled=False``, or blur 0 and sharpen 0,
returns the (possibly downscaled) photo unchanged, bit for bit. Parameters outside 0..100 raise
``ValueError``. The method and its measurements are described in docs/EFFECTS.md.
"""

from __future__ import annotations

from petseg_gui.effects.composite import Prepared, prepare, render, render_prepared
from petseg_gui.effects.params import PortraitParams

__all__ = ["PortraitParams", "Prepared", "prepare", "render", "render_prepared"]
