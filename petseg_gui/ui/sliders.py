"""A labelled 0-100 slider with an editable value box: keyboard accessible, double-click resets."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget


class _ResettableSlider(QSlider):
    doubleClicked = Signal()

    def mouseDoubleClickEvent(self, event) -> None:
        self.doubleClicked.emit()
        event.accept()


class LabeledSlider(QWidget):
    """Name, slider and spin box kept in step. ``valueChanged`` fires once per new value.

    ``editFinished`` marks the end of one user gesture (slider released, spin box edited, reset),
    which the undo stack uses to merge a drag into one step.
    """

    valueChanged = Signal(int)
    editFinished = Signal()

    def __init__(
        self, text: str, default: int, *, tooltip: str = "", minimum: int = 0, maximum: int = 100
    ) -> None:
        super().__init__()
        self.default = default
        self._label = QLabel(text)
        self.slider = _ResettableSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        for widget in (self.slider, self.spin):
            widget.setRange(minimum, maximum)
            widget.setValue(default)
        self.slider.setPageStep(10)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setMinimumWidth(140)
        self.spin.setKeyboardTracking(False)  # typing "75" must not render 7 first
        self.spin.setAccessibleName(text)
        self.slider.setAccessibleName(text)
        self._label.setBuddy(self.slider)  # Alt+<mnemonic> focuses the slider
        hint = f"{tooltip}\nDouble-click the slider to reset to {default}.".strip()
        self.setToolTip(hint)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)

        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)
        self.slider.sliderReleased.connect(self.editFinished)
        self.spin.editingFinished.connect(self.editFinished)
        self.slider.doubleClicked.connect(self.reset)

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, value: int) -> None:
        """Set without marking a user gesture (used by undo/redo and settings)."""
        self.slider.setValue(value)

    def reset(self) -> None:
        self.slider.setValue(self.default)
        self.editFinished.emit()

    def _from_slider(self, value: int) -> None:
        if self.spin.value() != value:
            self.spin.blockSignals(True)
            self.spin.setValue(value)
            self.spin.blockSignals(False)
        self.valueChanged.emit(value)

    def _from_spin(self, value: int) -> None:
        if self.slider.value() != value:
            self.slider.setValue(value)  # re-enters _from_slider, which emits once
