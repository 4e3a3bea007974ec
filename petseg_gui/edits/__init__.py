"""Hand corrections of the alpha matte (issue 10), Qt-free: brush strokes, choosing the subject
by clicking, the sidecar beside the photo, and adding a corrected pair to the training set.

Every change is a :class:`MattePatch` (the rectangle it changed, before and after), so the UI's
undo/redo is the same for a stroke and a click. See docs/EDITS.md.
"""

from __future__ import annotations

from petseg_gui.edits.brush import BrushParams, Stroke, preview_patch, stroke_patch
from petseg_gui.edits.patch import MattePatch
from petseg_gui.edits.sidecar import (
    Sidecar,
    SidecarError,
    corrected_matte,
    delete_sidecar,
    load_matte_file,
    read_sidecar,
    sidecar_paths,
    write_sidecar,
)
from petseg_gui.edits.subject_pick import (
    Objects,
    click_subject,
    grow_object,
    keep_object,
    objects,
)
from petseg_gui.edits.teach import (
    add_to_training_set,
    count_training_pairs,
    default_training_folder,
)

__all__ = [
    "BrushParams",
    "MattePatch",
    "Objects",
    "Sidecar",
    "SidecarError",
    "Stroke",
    "add_to_training_set",
    "click_subject",
    "corrected_matte",
    "count_training_pairs",
    "default_training_folder",
    "delete_sidecar",
    "grow_object",
    "keep_object",
    "load_matte_file",
    "objects",
    "preview_patch",
    "read_sidecar",
    "sidecar_paths",
    "stroke_patch",
    "write_sidecar",
]
