"""The effect's compiled passes (``_fused.c``), or None where setup.py could not build them.

One switch for every caller (lens_blur.py, blend.py), read at call time: with None each takes its
numpy and OpenCV path, which gives the same numbers (tests/test_effects_native.py sets it to None
to compare the two).
"""

from __future__ import annotations

from types import ModuleType

fused: ModuleType | None
try:
    from petseg_gui.effects import _fused as fused
except ImportError:  # no C compiler at install: the Python paths run
    fused = None
