"""petseg's compiled modules (setup.py builds them where a C compiler is at hand): each is used
only when it is a build of the C source this version was written for, and each has a Python
path that gives the same numbers.

``load`` is how effects/compiled.py and inference/full_resolution.py find theirs; ``status`` is
the line ``petseg --version`` and the About box show.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def usable(module: object, interface: int) -> bool:
    """True when ``module`` says it was built from the C source of this ``interface`` (an
    editable install updated by git without reinstalling keeps an older build, whose functions
    take other arguments)."""
    return getattr(module, "INTERFACE", None) == interface


def load(name: str, interface: int) -> tuple[ModuleType | None, bool]:
    """(the compiled module ``name``, or None, and whether a stale build was left aside)."""
    try:
        module = importlib.import_module(name)
    except ImportError:  # no C compiler at install: the Python path runs
        return None, False
    if not usable(module, interface):
        return None, True
    return module, False


def status() -> str:
    """Which passes run compiled, one line each (the effect's, the matte's)."""
    from petseg_gui.effects import compiled
    from petseg_gui.inference import full_resolution

    return f"{compiled.status()}\n{full_resolution.status()}"
