"""The Retrain form's training sources: a small table, one row per ``--data`` option.

Columns: the source (a folder, or the Oxford-IIIT Pet set), its weight (how often its photos are
drawn relative to a weight-1 source) and "class 3 = unknown" (pseudo-labels: pixels the
labelling models disagreed on are left out of the loss and the metrics).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from petseg_gui.contract.data_sources import CLASS3_BOUNDARY, CLASS3_UNKNOWN, SourceSpec
from petseg_gui.training_request import OXFORD_PETS

SOURCE, WEIGHT, UNKNOWN = 0, 1, 2
OXFORD_LABEL = "Oxford-IIIT Pet (tensorflow-datasets; ~800 MB download on first use)"


class SourcesTable(QWidget):
    """Edits a list of ``SourceSpec``; ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._specs: list[str] = []  # the location of each row
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Source", "Weight", "Class 3 = unknown"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(SOURCE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(WEIGHT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(UNKNOWN, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(90)
        self.add_folder_button = QPushButton("Add folder...")
        self.add_oxford_button = QPushButton("Add Oxford-IIIT Pet")
        self.remove_button = QPushButton("Remove")
        self.add_folder_button.clicked.connect(self._browse)
        self.add_oxford_button.clicked.connect(lambda: self.add(SourceSpec(OXFORD_PETS)))
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        for button in (self.add_folder_button, self.add_oxford_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._update_buttons()

    def sources(self) -> list[SourceSpec]:
        specs = []
        for row, location in enumerate(self._specs):
            weight = self.table.cellWidget(row, WEIGHT)
            unknown = self.table.cellWidget(row, UNKNOWN)
            assert isinstance(weight, QDoubleSpinBox) and isinstance(unknown, QCheckBox)
            class3 = CLASS3_UNKNOWN if unknown.isChecked() else CLASS3_BOUNDARY
            specs.append(SourceSpec(location, weight.value(), class3))
        return specs

    def set_sources(self, specs: list[SourceSpec]) -> None:
        self.table.setRowCount(0)
        self._specs.clear()
        for spec in specs:
            self._append(spec)
        self._update_buttons()
        self.changed.emit()

    def add(self, spec: SourceSpec) -> None:
        """Add a source; one already listed is not added twice."""
        if spec.location in self._specs:
            return
        self._append(spec)
        self._update_buttons()
        self.changed.emit()

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
            del self._specs[row]
        if rows:
            self._update_buttons()
            self.changed.emit()

    def _append(self, spec: SourceSpec) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._specs.append(spec.location)
        text = OXFORD_LABEL if spec.location == OXFORD_PETS else spec.location
        item = QTableWidgetItem(text)
        item.setToolTip(spec.location)
        self.table.setItem(row, SOURCE, item)
        weight = QDoubleSpinBox(minimum=0.05, maximum=20.0, value=spec.weight, singleStep=0.25)
        weight.setDecimals(2)
        weight.setToolTip("How often this source's photos are drawn, relative to weight 1")
        weight.valueChanged.connect(self.changed)
        unknown = QCheckBox()
        unknown.setChecked(spec.class3 == CLASS3_UNKNOWN)
        unknown.setToolTip(
            "Pseudo-labels: mask value 3 marks pixels nobody knows; leave them out of the "
            "loss and the metrics"
        )
        unknown.toggled.connect(self.changed)
        self.table.setCellWidget(row, WEIGHT, weight)
        self.table.setCellWidget(row, UNKNOWN, unknown)

    def _browse(self) -> None:
        start = next((s for s in reversed(self._specs) if s != OXFORD_PETS), "")
        folder = QFileDialog.getExistingDirectory(
            self, "Training data: a folder with images/ + masks/", str(Path(start).parent)
        )
        if folder:
            self.add(SourceSpec(folder))

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.table.selectedIndexes()))
        self.add_oxford_button.setEnabled(OXFORD_PETS not in self._specs)
