"""A small live chart of a training run: loss and accuracy per epoch, training and validation.

Painted with QPainter (no charting dependency): two panels side by side sharing the epoch axis,
which spans the whole planned run from the start so points fill in left to right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from petseg_gui.training_progress import EpochPoint

TRAIN_COLOR = QColor(31, 119, 180)  # blue
VAL_COLOR = QColor(230, 120, 20)  # orange
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 42, 10, 22, 30


class TrainingChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[EpochPoint] = []
        self._epochs = 0
        self._fine_tune_from = 0  # first fine-tune epoch, marked with a line; 0 = none
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(150)
        self.setAccessibleName("Training chart: loss and accuracy per epoch")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(520, 190)

    def set_history(self, points: Sequence[EpochPoint], total_epochs: int) -> None:
        self._points = sorted(points, key=lambda p: p.epoch)
        self._epochs = max(total_epochs, self._points[-1].epoch if self._points else 0)
        tuned = [p.epoch for p in self._points if p.phase == "fine-tune"]
        self._fine_tune_from = min(tuned) if tuned else 0
        self.update()

    def point_count(self) -> int:
        """Plotted values (up to four per epoch), for tests and accessibility."""
        values = 0
        for p in self._points:
            values += 2 + (p.val_loss is not None) + (p.val_accuracy is not None)
        return values

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        half = self.width() / 2
        loss_values = [p.loss for p in self._points] + [
            p.val_loss for p in self._points if p.val_loss is not None
        ]
        top = max(loss_values) * 1.1 if loss_values else 1.0
        self._panel(
            painter, QRectF(0, 0, half, self.height()), "Loss", (0.0, top or 1.0), "loss", "{:.2f}"
        )
        self._panel(
            painter,
            QRectF(half, 0, half, self.height()),
            "Accuracy",
            _accuracy_range(self._points),
            "accuracy",
            "{:.0%}",
        )
        painter.end()

    def _panel(
        self,
        painter: QPainter,
        area: QRectF,
        title: str,
        value_range: tuple[float, float],
        field: str,
        label_format: str,
    ) -> None:
        text = self.palette().color(QPalette.ColorRole.Text)
        grid = QColor(text)
        grid.setAlpha(40)
        plot = area.adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        painter.setFont(font)

        painter.setPen(text)
        painter.drawText(
            QRectF(plot.left(), area.top() + 2, plot.width(), MARGIN_TOP - 4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )
        self._legend(painter, QRectF(plot.left(), area.top() + 2, plot.width(), MARGIN_TOP - 4))

        low, high = value_range
        for i in range(5):  # horizontal grid with value labels
            value = low + (high - low) * i / 4
            y = plot.bottom() - plot.height() * i / 4
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            painter.drawText(
                QRectF(area.left(), y - 8, MARGIN_LEFT - 4, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label_format.format(value),
            )
        epochs = max(1, self._epochs)
        for epoch in _epoch_ticks(epochs):  # epoch axis
            x = _x(plot, epoch, epochs)
            painter.drawText(
                QRectF(x - 20, plot.bottom() + 2, 40, 14), Qt.AlignmentFlag.AlignHCenter, str(epoch)
            )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 14, plot.width(), 14),
            Qt.AlignmentFlag.AlignHCenter,
            "epoch",
        )
        painter.setPen(QPen(text, 1))
        painter.drawRect(plot)
        if self._fine_tune_from:  # where the encoder was unfrozen
            x = _x(plot, self._fine_tune_from - 0.5, epochs)
            painter.setPen(QPen(grid, 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))

        for color, attr, style in (
            (TRAIN_COLOR, field, Qt.PenStyle.SolidLine),
            (VAL_COLOR, f"val_{field}", Qt.PenStyle.DashLine),
        ):
            points = [
                QPointF(_x(plot, p.epoch, epochs), _y(plot, getattr(p, attr), low, high))
                for p in self._points
                if getattr(p, attr) is not None
            ]
            self._series(painter, points, color, style)

    @staticmethod
    def _series(painter: QPainter, points: list[QPointF], color: QColor, style) -> None:
        if not points:
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.setPen(QPen(color, 2, style))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setPen(QPen(color, 1))
        painter.setBrush(color)
        for point in points:
            painter.drawEllipse(point, 3, 3)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _legend(self, painter: QPainter, line: QRectF) -> None:
        metrics = painter.fontMetrics()
        x = line.right()
        for label, color, style in (
            ("validation", VAL_COLOR, Qt.PenStyle.DashLine),
            ("training", TRAIN_COLOR, Qt.PenStyle.SolidLine),
        ):
            width = metrics.horizontalAdvance(label)
            x -= width
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(QRectF(x, line.top(), width, line.height()), label)
            x -= 22
            y = line.center().y()
            painter.setPen(QPen(color, 2, style))
            painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
            x -= 10


def _accuracy_range(points: Sequence[EpochPoint]) -> tuple[float, float]:
    """Zoom to the interesting band (accuracies sit near the top). The span is a multiple of
    20% so the four grid steps land on whole percentages (5% steps or coarser)."""
    values = [p.accuracy for p in points] + [
        p.val_accuracy for p in points if p.val_accuracy is not None
    ]
    if not values:
        return 0.0, 1.0
    span = 0.2 * max(1, math.ceil((1.0 - min(values)) / 0.2 - 1e-9))
    return max(0.0, 1.0 - span), 1.0


def _epoch_ticks(epochs: int) -> list[int]:
    step = max(1, math.ceil(epochs / 8))
    ticks = list(range(1, epochs + 1, step))
    if ticks[-1] != epochs:
        if len(ticks) > 1 and epochs - ticks[-1] <= step / 2:
            ticks.pop()  # it would crowd the last epoch's label
        ticks.append(epochs)
    return ticks


def _x(plot: QRectF, epoch: float, epochs: int) -> float:
    if epochs <= 1:
        return plot.center().x()
    return plot.left() + plot.width() * (epoch - 1) / (epochs - 1)


def _y(plot: QRectF, value: float, low: float, high: float) -> float:
    span = (high - low) or 1.0
    clamped = min(max(value, low), high)
    return plot.bottom() - plot.height() * (clamped - low) / span
