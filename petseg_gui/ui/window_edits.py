"""The main window's editing commands: sliders and the toggle as undoable steps, and compare.

A mixin of ``MainWindow`` (it uses the window's ``params``, ``controls``, ``actions``,
``undo_stack``, ``session`` and ``pane_control``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from petseg_gui.ui.session_state import Params
from petseg_gui.ui.undo import ParamsCommand


class EditCommands:
    """Slider and toggle changes become undo commands; the undo stack applies them."""

    _gesture = 0  # a slider drag is one undo step: its moves share a gesture number
    _applying = False  # True while apply_params moves the controls (not a user edit)

    def _slider_moved(self, name: str, value: int) -> None:
        if self._applying:
            return
        new = Params(
            enabled=self.params.enabled,
            blur=value if name == "blur" else self.params.blur,
            sharpen=value if name == "sharpen" else self.params.sharpen,
        )
        label = "Blur" if name == "blur" else "Sharpen"
        self._push(new, f"{label} {value}", (name, self._gesture))

    def _end_gesture(self) -> None:
        self._gesture += 1

    def _depth_toggled(self, on: bool) -> None:
        if self._applying:
            return
        new = Params(enabled=on, blur=self.params.blur, sharpen=self.params.sharpen)
        self._gesture += 1
        self._push(new, "Depth effect " + ("on" if on else "off"), ("depth", self._gesture))

    def reset_sliders(self) -> None:
        new = Params(self.params.enabled, self.controls.blur.default, self.controls.sharpen.default)
        self._gesture += 1
        self._push(new, "Reset sliders", ("reset", self._gesture))

    def _push(self, new: Params, text: str, gesture: tuple[str, int]) -> None:
        if new != self.params:
            self.undo_stack.push(ParamsCommand(self.apply_params, self.params, new, text, gesture))

    def apply_params(self, params: Params) -> None:
        """Show ``params`` in the controls and render them (the undo stack's way in)."""
        self.params = params
        self._applying = True
        try:
            self.controls.blur.setValue(params.blur)
            self.controls.sharpen.setValue(params.sharpen)
            self.actions.depth.setChecked(params.enabled)
        finally:
            self._applying = False
        self.controls.blur.setEnabled(params.enabled)
        self.controls.sharpen.setEnabled(params.enabled)
        self.session.set_params(params)
        self.pane_control.params_changed()

    def set_comparing(self, on: bool) -> None:
        """While on, the result pane shows the original photo (press-and-hold compare)."""
        self.pane_control.set_comparing(on)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.set_comparing(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Backslash and not event.isAutoRepeat():
            self.set_comparing(False)
            return
        super().keyReleaseEvent(event)
