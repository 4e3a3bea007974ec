"""The three panes side by side (Original, Trimap, Portrait effect), each under a header.

All headers have the same height so the three views are the same size and a shared zoom and
centre show the same part of the photo in each. The trimap header carries the legend and the
overlay opacity control.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from petseg_gui.overlay import TRIMAP_COLOURS, TRIMAP_NAMES
from petseg_gui.ui.image_view import ImagePane, ViewSync

HEADER_HEIGHT = 30


def _swatch(rgb: tuple[int, int, int]) -> QLabel:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(*rgb))
    painter = QPainter(pixmap)  # an outline, so the near-white boundary swatch stays visible
    painter.setPen(QColor(90, 90, 90))
    painter.drawRect(0, 0, 11, 11)
    painter.end()
    label = QLabel()
    label.setPixmap(pixmap)
    return label


class _Header(QWidget):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.setFixedHeight(HEADER_HEIGHT)
        # The header must not dictate the pane's width (the trimap legend is wide): the three
        # panes stay equal, so one zoom shows the same region in each.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(8, 2, 8, 2)
        self.layout_.setSpacing(4)
        self.title = QLabel(f"<b>{title}</b>")
        self.layout_.addWidget(self.title)
        self.layout_.addStretch(1)


class PaneFrame(QWidget):
    def __init__(self, title: str) -> None:
        super().__init__()
        self.header = _Header(title)
        self.view = ImagePane()
        self.view.setAccessibleName(title)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)


class PanesWidget(QWidget):
    """Original | Trimap | Portrait effect, zoom and pan kept in step."""

    opacityChanged = Signal(int)  # 0-100

    def __init__(self, opacity: int) -> None:
        super().__init__()
        self.original = PaneFrame("Original")
        self.trimap = PaneFrame("Trimap")
        self.result = PaneFrame("Portrait effect")

        legend = self.trimap.header.layout_
        for index in (0, 2, 1):  # subject, boundary, background: inside to outside
            legend.addWidget(_swatch(TRIMAP_COLOURS[index]))
            legend.addWidget(QLabel(TRIMAP_NAMES[index]))
            legend.addSpacing(2)
        legend.addSpacing(6)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(opacity)
        self.opacity.setFixedWidth(64)
        self.opacity.setToolTip("Overlay opacity")
        self.opacity.setAccessibleName("Overlay opacity")
        self.opacity.valueChanged.connect(self.opacityChanged)
        legend.addWidget(self.opacity)

        self.result_note = QLabel("")
        self.result.header.layout_.addWidget(self.result_note)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        for frame in (self.original, self.trimap, self.result):
            splitter.addWidget(frame)
        splitter.setChildrenCollapsible(False)
        for index in range(3):
            splitter.setStretchFactor(index, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.sync = ViewSync([self.original.view, self.trimap.view, self.result.view])

    @property
    def views(self) -> list[ImagePane]:
        return self.sync.panes
