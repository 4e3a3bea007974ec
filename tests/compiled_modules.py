"""What the tests of petseg's compiled modules (test_effects_native.py, test_matte_native.py)
share: skip where a module was not built, except in CI, which sets PETSEG_REQUIRE_FUSED so that a
build that silently failed fails there instead of only making the app slower."""

from __future__ import annotations

import os
from types import ModuleType

import pytest


def needs(module: ModuleType | None, name: str) -> pytest.MarkDecorator:
    """Skip marker for tests of the compiled module ``name`` (None: not built)."""
    return pytest.mark.skipif(
        module is None, reason=f"{name} is not built (no C compiler at install)"
    )


def require_built(module: ModuleType | None, name: str, fallback: str) -> ModuleType:
    """``module``, or a failure (PETSEG_REQUIRE_FUSED set) or a skip saying ``fallback`` runs."""
    if module is None and os.environ.get("PETSEG_REQUIRE_FUSED"):
        pytest.fail(f"PETSEG_REQUIRE_FUSED is set but {name} did not build")
    if module is None:
        pytest.skip(f"{name} is not built: {fallback} is in use")
    return module
