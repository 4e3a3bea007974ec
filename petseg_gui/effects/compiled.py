"""The effect's compiled passes (``_fused.c``, ``_disk.c``), or None where setup.py could not
build them.

One switch for every caller (lens_blur.py, blend.py), read at call time: with None each takes its
numpy and OpenCV path, which gives the same numbers, the disk blur's within float32 rounding
(tests/test_effects_native.py sets it to None to compare the two).
"""

from __future__ import annotations

from types import ModuleType

from petseg_gui import native

# The arguments and meaning of _fused.c's functions this version calls them with (its
# INTERFACE): a module built from another version of _fused.c is not used.
INTERFACE = 4


def usable(module: object) -> bool:
    """True when ``module`` is a build of the _fused.c this version of petseg was written for."""
    return native.usable(module, INTERFACE)


fused: ModuleType | None
stale: bool  # a build of another _fused.c is there, and is not used
fused, stale = native.load("petseg_gui.effects._fused", INTERFACE)


def status() -> str:
    """One line for ``petseg --version`` and the About box: which passes the effect runs."""
    if fused is not None:
        return "Effects: compiled passes (C)"
    if stale:
        return (
            "Effects: Python passes (the compiled ones were built for another version of "
            "petseg: reinstall petseg to rebuild them; saving a large photo takes up to twice "
            "as long and the blur slider up to 1.5x until then)"
        )
    return (
        "Effects: Python passes (installed without a C compiler: saving a large photo takes up "
        "to twice as long and the blur slider up to 1.5x; install a compiler and reinstall "
        "petseg to build them)"
    )
