"""Which matte ``petseg portrait`` uses: ``--matte FILE``, else the app's corrections (the
sidecar beside the photo, unless ``--ignore-edits``), else the model's. Qt-free; the rules of
the files themselves are in edits/sidecar.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def needs_model(plan: Any, jobs: list[Any]) -> bool:
    """True when some photo of the run will be segmented (then the model is opened up front,
    so a model that cannot be loaded stops the run at once). ``plan``: cli.CliRun."""
    if plan.command == "segment" or (plan.matte is None and plan.ignore_edits):
        return True
    if plan.matte is not None:
        return False
    from petseg_gui.edits import sidecar_paths

    return any(not job.problem and not sidecar_paths(job.source)[1].is_file() for job in jobs)


def portrait_matte(
    plan: Any, source: Path, pixels: np.ndarray, model: Any, note: Callable[[str], None]
) -> np.ndarray:
    """The alpha matte for ``source`` (photo ``pixels``); ``model.get()`` is the Segmenter,
    opened only if needed; ``note`` prints a one-line note. PetsegError for a bad --matte."""
    from petseg_gui.edits import corrected_matte

    alpha, text = corrected_matte(
        source, pixels.shape[:2], matte_file=plan.matte, use_sidecar=not plan.ignore_edits
    )
    if text:
        note(f"note: {' '.join(text.split())}")
    return alpha if alpha is not None else model.get().predict(pixels).alpha
