"""The bar under the panes: blur and sharpening sliders, and the press-and-hold compare button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from petseg_gui.ui.actions import Actions
from petseg_gui.ui.sliders import LabeledSlider


class ControlsBar(QWidget):
    compareHeld = Signal(bool)  # True while the compare button is held down

    def __init__(self, actions: Actions, *, blur: int, sharpen: int) -> None:
        super().__init__()
        self.blur = LabeledSlider(
            "&Blur", 50, tooltip="Background blur: how wide open the virtual lens is"
        )
        self.sharpen = LabeledSlider("S&harpen", 30, tooltip="Sharpening of the subject")
        self.blur.setValue(blur)
        self.sharpen.setValue(sharpen)
        self.compare_button = QToolButton()
        self.compare_button.setText("Compare")
        self.compare_button.setIcon(actions.compare.icon())
        self.compare_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.compare_button.setToolTip(actions.compare.toolTip())
        self.compare_button.pressed.connect(lambda: self.compareHeld.emit(True))
        self.compare_button.released.connect(lambda: self.compareHeld.emit(False))

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.blur, 1)
        layout.addSpacing(12)
        layout.addWidget(self.sharpen, 1)
        layout.addSpacing(12)
        layout.addWidget(self.compare_button)
