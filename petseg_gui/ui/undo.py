"""Undo/redo for the effect settings. A slider drag is one step, not one per pixel moved."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from petseg_gui.ui.session_state import Params

_MERGE_ID = 4711  # any constant: QUndoStack only merges commands that report the same id


class ParamsCommand(QUndoCommand):
    """Change the params from ``old`` to ``new``; ``gesture`` numbers one user gesture, and
    commands of the same gesture on the same control merge into one undo step."""

    def __init__(
        self,
        apply: Callable[[Params], None],
        old: Params,
        new: Params,
        text: str,
        gesture: tuple[str, int],
    ) -> None:
        super().__init__(text)
        self._apply = apply
        self.old = old
        self.new = new
        self.gesture = gesture

    def id(self) -> int:
        return _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, ParamsCommand) or other.gesture != self.gesture:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)
