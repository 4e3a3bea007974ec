"""The Retrain dialog's right side: status, progress bars, live chart, result table and log.

It only paints what it is given (a ``TrainingProgress``, rows from ``training_comparison``);
deciding what to show is the dialog's job.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from petseg_gui.training_comparison import METRIC_ROWS
from petseg_gui.training_progress import TrainingProgress, format_duration
from petseg_gui.ui.retrain_chart import TrainingChart
from petseg_gui.ui.retrain_form import ERROR_STYLE, OK_STYLE


class ProgressPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 0, 0, 0)
        self.status_label = QLabel("Choose the data and press Start.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_bar = QProgressBar(minimum=0, maximum=1000, value=0)
        self.run_bar.setFormat("Overall: %p%")
        self.epoch_bar = QProgressBar(minimum=0, maximum=1, value=0)
        self.epoch_bar.setFormat("Epoch")
        self.time_label = QLabel(" ")
        self.chart = TrainingChart()
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setPlaceholderText("The trainer's messages appear here.")
        self.log_view.setMinimumHeight(60)
        column.addWidget(self.status_label)
        column.addWidget(self.run_bar)
        column.addWidget(self.epoch_bar)
        column.addWidget(self.time_label)
        column.addWidget(self.chart, 3)
        column.addWidget(self._build_results())
        column.addWidget(self.log_view, 1)

    def _build_results(self) -> QWidget:
        self.results_box = QGroupBox("Result")
        results = QVBoxLayout(self.results_box)
        self.metrics_table = QTableWidget(len(METRIC_ROWS), 2)
        self.metrics_table.setVerticalHeaderLabels([label for label, _ in METRIC_ROWS])
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.metrics_table.setSizeAdjustPolicy(
            QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents
        )
        self.metrics_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.metrics_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sources_note = QLabel()
        self.sources_note.setWordWrap(True)
        self.metrics_note = QLabel()
        self.metrics_note.setWordWrap(True)
        self.metrics_note.setEnabled(False)
        self.use_button = QPushButton("Use this model")
        use_row = QHBoxLayout()
        use_row.addWidget(self.metrics_note, 1)
        use_row.addWidget(self.use_button)
        results.addWidget(self.metrics_table)
        results.addWidget(self.sources_note)
        results.addLayout(use_row)
        self.results_box.hide()
        return self.results_box

    def set_status(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")

    def reset(self, progress: TrainingProgress, total_epochs: int) -> None:
        """Before a run starts: no result, empty bars, the chart of what is already known."""
        self.results_box.hide()
        self.run_bar.setValue(0)
        self.epoch_bar.setValue(0)
        self.chart.set_history(progress.history, total_epochs)
        self.time_label.setText(" ")

    def show_progress(self, p: TrainingProgress) -> None:
        self.run_bar.setValue(round(p.fraction * 1000))
        if p.steps:
            self.epoch_bar.setMaximum(p.steps)
            self.epoch_bar.setValue(min(p.step, p.steps))
            phase = " (fine-tuning the encoder)" if p.phase == "fine-tune" else ""
            shown = max(1, p.epoch)
            self.epoch_bar.setFormat(
                f"Epoch {shown} of {p.epochs}{phase}: step {p.step} of {p.steps}"
            )
        left = format_duration(p.eta_seconds())
        self.time_label.setText(f"About {left} left" if left and not p.done else " ")

    def show_results(
        self,
        headers: tuple[str, str],
        rows: list[tuple[str, str, str]],
        source_rows: list[tuple[str, str]],
    ) -> None:
        self.metrics_table.setHorizontalHeaderLabels(list(headers))
        for row, (_label, new, current) in enumerate(rows):
            for col, text in enumerate((new, current)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.metrics_table.setItem(row, col, item)
        per_source = ", ".join(f"{name} {value}" for name, value in source_rows)
        self.sources_note.setText(f"Pixel accuracy per source: {per_source}" if per_source else "")
        self.sources_note.setVisible(bool(per_source))
        self.metrics_note.setText(
            "Each model measured on its own held-out photos; compare on your photos too."
        )
        self.results_box.show()

    def append_log(self, line: str) -> None:
        self.log_view.appendPlainText(line)
