"""Menus whose contents change: recent files, and the list of models."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from petseg_gui.ui import settings


class RecentMenu(QMenu):
    """File > Open Recent, read from the settings each time it is about to show."""

    fileChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        recent = [p for p in settings.get("files/recent") if Path(p).is_file()]
        for index, path in enumerate(recent, start=1):
            # A number mnemonic per entry, like every editor's recent list.
            action = self.addAction(f"&{index % 10} {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.fileChosen.emit(p))
        if not recent:
            self.addAction("(none)").setEnabled(False)
        self.addSeparator()
        self.addAction("Clear list", self._clear).setEnabled(bool(recent))

    def _clear(self) -> None:
        settings.set("files/recent", [])
        self.refresh()


class ModelMenu(QMenu):
    """Model info, load a folder, bundled model, the registry's models (current one checked),
    and Retrain. The list is rebuilt whenever the menu opens, so newly trained models appear."""

    infoRequested = Signal()
    loadFolderRequested = Signal()
    modelChosen = Signal(object)  # a folder path (str), or None for the bundled model
    retrainRequested = Signal()
    teachRequested = Signal()  # Add this photo to my training set

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("&Model", parent)
        self.current: Path | None = None  # None = bundled
        # The fixed actions belong to this holder, not the menu: QMenu.clear() deletes the
        # actions the menu owns, and the list part is rebuilt on every refresh.
        self._owner = QObject(self)
        self.info_action = QAction("Model &info...", self._owner)
        self.info_action.triggered.connect(self.infoRequested)
        self.load_action = QAction("&Load model folder...", self._owner)
        self.load_action.triggered.connect(self.loadFolderRequested)
        self.bundled_action = QAction("Use &bundled model", self._owner)
        self.bundled_action.triggered.connect(lambda: self.modelChosen.emit(None))
        self.retrain_action = QAction("&Retrain...", self._owner)
        self.retrain_action.triggered.connect(self.retrainRequested)
        self.teach_action = QAction("Add this photo to my &training set", self._owner)
        self.teach_action.setStatusTip(
            "Copy the photo and its corrected mask into your own training folder for Retrain"
        )
        self.teach_action.triggered.connect(lambda: self.teachRequested.emit())
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def set_current(self, path: Path | None) -> None:
        self.current = Path(path).resolve() if path is not None else None
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        for action in self._group.actions():
            self._group.removeAction(action)
        self.addAction(self.info_action)
        self.addAction(self.load_action)
        self.addAction(self.bundled_action)
        self.addSection("Models")
        entries = _list_models()
        for entry in entries:
            action = QAction(entry.name, self)
            action.setCheckable(True)
            is_current = (entry.bundled and self.current is None) or (
                self.current is not None and Path(entry.path).resolve() == self.current
            )
            action.setChecked(is_current)
            action.setToolTip(str(entry.path))
            chosen = None if entry.bundled else str(entry.path)
            action.triggered.connect(lambda _=False, p=chosen: self.modelChosen.emit(p))
            self._group.addAction(action)
            self.addAction(action)
        listed = {Path(e.path).resolve() for e in entries}
        if self.current is not None and self.current not in listed:
            # A folder loaded from elsewhere: still show that it is the one in use.
            action = QAction(f"{self.current.name} (loaded folder)", self)
            action.setCheckable(True)
            action.setChecked(True)
            action.setToolTip(str(self.current))
            self._group.addAction(action)
            self.addAction(action)
        elif not entries:
            self.addAction("(no models found)").setEnabled(False)
        self.addSeparator()
        self.teach_action.setText(f"Add this photo to my &training set ({_count_pairs()} so far)")
        self.addAction(self.teach_action)
        self.addAction(self.retrain_action)


def _list_models() -> list:
    from petseg_gui.model_registry import list_models

    try:
        return list_models()
    except Exception:  # noqa: BLE001 - a broken registry must not take the menu down
        return []


def _count_pairs() -> int:
    from petseg_gui.edits import count_training_pairs

    try:
        return count_training_pairs()
    except Exception:  # noqa: BLE001 - an unreadable folder must not take the menu down
        return 0
