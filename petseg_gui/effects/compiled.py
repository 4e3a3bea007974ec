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


def status() -> str:
    """One line for ``petseg --version`` and the About box: which passes the effect runs."""
    if fused is not None:
        return "Effects: compiled passes (C)"
    return (
        "Effects: Python passes (installed without a C compiler: saving a large photo takes up "
        "to twice as long; install a compiler and reinstall petseg to build them)"
    )
