"""The main window: wires the editing session, the panes, the controls, menus and settings.

It holds no image maths and no slow work: ``EditorSession`` does the work on worker threads,
the views only show QImages it hands over.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from petseg_gui.responsive import freeze_start_up_objects, keep_gui_responsive
from petseg_gui.ui import dialogs, settings
from petseg_gui.ui.actions import Actions, icon
from petseg_gui.ui.controls import ControlsBar
from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.menus import ModelMenu, RecentMenu
from petseg_gui.ui.pane_control import NO_MODEL, PaneControl
from petseg_gui.ui.panes import PanesWidget
from petseg_gui.ui.session_state import ModelHandle, Params, Photo, Rendered
from petseg_gui.ui.status import StatusWidgets
from petseg_gui.ui.welcome import WelcomePage
from petseg_gui.ui.window_corrections import CorrectionCommands
from petseg_gui.ui.window_edits import EditCommands
from petseg_gui.ui.window_files import FileCommands, supported_extensions

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1400, 820)  # first-run window size; later runs restore the user's geometry

__all__ = ["DEFAULT_SIZE", "NO_MODEL", "MainWindow", "supported_extensions"]


class MainWindow(FileCommands, EditCommands, CorrectionCommands, QMainWindow):
    resultShown = Signal(object)  # Rendered, once it is on screen

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        persist: bool = True,
        preview_side: int | None = None,
    ) -> None:
        super().__init__()
        keep_gui_responsive()
        self._persist = persist
        self._save_path: Path | None = None  # where Save writes for this photo, once chosen
        self._close_after_save = False
        self._retrain = None
        self.session = EditorSession(self, preview_side=preview_side)
        self.undo_stack = QUndoStack(self)
        self.actions = Actions(self)
        self.params = Params(
            enabled=settings.get("edit/enabled"),
            blur=settings.get("edit/blur"),
            sharpen=settings.get("edit/sharpen"),
        )
        self.session.params = self.params

        self.setWindowTitle("petseg")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(*DEFAULT_SIZE)
        self._build_widgets()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._build_corrections()
        self._photo_loaded(False)
        self._restore_geometry()
        self._start_model(model_dir)

    # -- construction ----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.welcome = WelcomePage(icon("open"))
        self.panes = PanesWidget(settings.get("view/trimap_opacity"))
        self.pane_control = PaneControl(self.session, self.panes, parent=self)
        self.controls = ControlsBar(
            self.actions, blur=self.params.blur, sharpen=self.params.sharpen
        )
        self.actions.depth.setChecked(self.params.enabled)

        editor = QWidget()
        layout = QVBoxLayout(editor)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.panes, 1)
        layout.addWidget(self.controls)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(editor)
        self.setCentralWidget(self.stack)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        a = self.actions
        for action in (a.open, a.save, None, a.depth, None, a.fit, a.actual_size):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)

    def _build_menus(self) -> None:
        a, bar = self.actions, self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a.open)
        self.recent_menu = RecentMenu(self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for action in (a.save, a.save_as, a.export_trimap, a.export_matte, a.jpeg_quality):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)

        edit_menu = self.edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut("Ctrl+Z")
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut("Ctrl+Shift+Z")
        for action in (self.undo_action, self.redo_action, None, a.depth, a.reset):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for action in (a.fit, a.actual_size, a.zoom_in, a.zoom_out, None, a.compare):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)

        self.model_menu = ModelMenu(self)
        bar.addMenu(self.model_menu)
        bar.addMenu("&Help").addAction(a.about)

    def _build_status_bar(self) -> None:
        self.status = StatusWidgets(self.statusBar())
        # The widgets tests and the screenshot tool look at.
        self.size_label, self.model_label = self.status.size_label, self.status.model_label
        self.time_label = self.status.time_label

    def _connect(self) -> None:
        a, s = self.actions, self.session
        a.open.triggered.connect(self.open_dialog)
        a.save.triggered.connect(self.save)
        a.save_as.triggered.connect(self.save_as)
        a.export_trimap.triggered.connect(lambda: self.export_dialog("trimap"))
        a.export_matte.triggered.connect(lambda: self.export_dialog("matte"))
        a.jpeg_quality.triggered.connect(self._ask_jpeg_quality)
        a.quit.triggered.connect(self.close)
        a.depth.toggled.connect(self._depth_toggled)
        a.reset.triggered.connect(self.reset_sliders)
        a.fit.triggered.connect(self.panes.sync.fit_all)
        a.actual_size.triggered.connect(self.panes.sync.actual_size_all)
        a.zoom_in.triggered.connect(lambda: self.panes.sync.zoom_all(1.25))
        a.zoom_out.triggered.connect(lambda: self.panes.sync.zoom_all(0.8))
        a.about.triggered.connect(self._about)
        self.recent_menu.fileChosen.connect(self.open_path)
        self.welcome.openRequested.connect(self.open_dialog)
        self.welcome.sampleRequested.connect(self.open_path)
        self.model_menu.infoRequested.connect(self.show_model_info)
        self.model_menu.loadFolderRequested.connect(self.load_model_dialog)
        self.model_menu.modelChosen.connect(self.use_model)
        self.model_menu.retrainRequested.connect(self.open_retrain)
        self.controls.blur.valueChanged.connect(lambda v: self._slider_moved("blur", v))
        self.controls.sharpen.valueChanged.connect(lambda v: self._slider_moved("sharpen", v))
        self.controls.blur.editFinished.connect(self._end_gesture)
        self.controls.sharpen.editFinished.connect(self._end_gesture)
        self.controls.compareHeld.connect(self.set_comparing)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

        s.photoOpened.connect(self._on_photo)
        s.rendered.connect(self._on_rendered)
        s.saved.connect(self._on_saved)
        s.exported.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 5000))
        s.modelChanged.connect(self._on_model)
        s.busyChanged.connect(self._on_busy)
        s.error.connect(self.show_error)
        s.status.connect(lambda text: self.statusBar().showMessage(text, 4000))
        s.timing.connect(self._on_timing)
        self.pane_control.fullSeconds.connect(self.status.set_full_seconds)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _restore_geometry(self) -> None:
        geometry = settings.get("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = settings.get("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    def _start_model(self, model_dir: str | Path | None) -> None:
        if model_dir is not None:
            self._remember_model = False  # a --model folder is for this run only
            self.session.use_model(model_dir)
            return
        self._remember_model = True
        stored = settings.get("model/path")
        if stored and Path(stored).is_dir():
            self.session.use_model(stored)
        else:
            self.session.use_model(None)

    # -- model -----------------------------------------------------------------------------
    def use_model(self, path: str | Path | None) -> None:
        """Switch to the model folder at ``path`` (None: bundled) and re-segment the photo."""
        self._remember_model = True
        self.session.use_model(path)

    def load_model_dialog(self) -> None:
        current = self.session.model.path if self.session.model else None
        folder = dialogs.model_folder_path(self, str(current or settings.get("files/last_folder")))
        if folder:
            self.use_model(folder)

    def show_model_info(self) -> None:
        handle = self.session.model
        if handle is None:
            self.show_error(NO_MODEL)
            return
        dialogs.show_model_card(self, dict(handle.segmenter.card), handle.path)

    def open_retrain(self) -> None:
        # One training at a time: a running one is shown again rather than lost behind a new
        # dialog (which would also lose the way to stop it on quit).
        if self._retrain is not None and self._retrain.is_running():
            self._retrain.show()
            self._retrain.raise_()
            self._retrain.activateWindow()
            return
        from petseg_gui.ui.retrain_dialog import RetrainDialog

        handle = self.session.model
        current = handle.path if handle and handle.path else None
        if current is None and handle is not None:
            from petseg_gui.inference import bundled_model_dir

            current = Path(bundled_model_dir())
        self._retrain = RetrainDialog(self, current_model_dir=current)
        self._retrain.useModelRequested.connect(self.use_model)
        self._retrain.show()

    def _on_model(self, handle: ModelHandle | None) -> None:
        if handle is None:
            self.model_label.setText("Model: none")
            self.welcome.model_note.setText(NO_MODEL)  # the panes say it too (PaneControl)
            return
        freeze_start_up_objects()  # once per process: the start-up's imports have all run
        card = getattr(handle.segmenter, "card", {}) or {}
        name = card.get("name") or (handle.path.name if handle.path else "bundled")
        self.model_label.setText(f"Model: {name}")
        self.model_label.setToolTip(str(handle.path or "bundled model"))
        self.welcome.model_note.setText("")
        self.model_menu.set_current(handle.path)
        notice = getattr(handle.segmenter, "notice", None)
        if notice:
            self.statusBar().showMessage(notice, 10000)
        if self._remember_model and self._persist:
            settings.set("model/path", str(handle.path) if handle.path else "")

    # -- session events ----------------------------------------------------------------------
    def _on_photo(self, photo: Photo) -> None:
        self.statusBar().clearMessage()
        self._save_path = None
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.setWindowModified(False)
        settings.set("files/last_folder", str(photo.path.parent))
        settings.remember_recent(photo.path)
        self.setWindowFilePath(str(photo.path))
        self.setWindowTitle(f"{photo.path.name}[*] - petseg")
        self.status.set_photo_size(*photo.size)
        self.stack.setCurrentIndex(1)
        self._photo_loaded(True)

    def _on_rendered(self, rendered: Rendered) -> None:
        if self.session.photo is not None:
            self.resultShown.emit(rendered)  # PaneControl has put it on screen

    def _on_saved(self, path: str) -> None:
        self.undo_stack.setClean()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        if self._close_after_save:
            self.close()

    def _on_busy(self, busy: bool) -> None:
        self.status.busy.setVisible(self.session.segmenting)
        if not busy and self._close_after_save and not self.session.busy:
            self._close_after_save = False  # the save failed; stay open

    def _on_timing(self, kind: str, seconds: float) -> None:
        self.status.set_timing(kind, seconds)
        self.status.busy.setVisible(self.session.segmenting)

    def show_error(self, text: str) -> None:
        self.statusBar().clearMessage()
        dialogs.show_error(self, text)

    def _photo_loaded(self, loaded: bool) -> None:
        for action in self.actions.photo_actions():
            action.setEnabled(loaded)
        self.controls.compare_button.setEnabled(loaded)

    # -- closing ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        # A training run asks first and is stopped cleanly (it keeps its last checkpoint).
        if self._retrain is not None and not self._retrain.confirm_quit():
            event.ignore()
            return
        if (
            self.isWindowModified()
            and self.session.photo is not None
            and not self._close_after_save
        ):
            answer = dialogs.ask_unsaved(self, self.session.photo.path.name)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                if self.save():
                    self._close_after_save = True  # close once the save has landed
                event.ignore()
                return
        if self._close_after_save and self.session.runners.files.busy:
            event.ignore()
            return
        self._persist_settings()
        self.flush_corrections()
        self.session.shutdown()
        # Work in flight checks its cancelled() flag; wait so no thread outlives the window.
        QThreadPool.globalInstance().waitForDone()
        event.accept()

    def _persist_settings(self) -> None:
        if not self._persist:
            return
        settings.set("window/geometry", self.saveGeometry())
        settings.set("window/state", self.saveState())
        settings.set("edit/enabled", self.params.enabled)
        settings.set("edit/blur", self.params.blur)
        settings.set("edit/sharpen", self.params.sharpen)
        settings.set("view/trimap_opacity", self.panes.opacity.value())

    def _about(self) -> None:
        from petseg_gui import __version__
        from petseg_gui.native import status

        QMessageBox.about(
            self,
            "About petseg",
            f"<b>petseg {__version__}</b><br>Portrait-mode photo editor: U-Net subject "
            f"segmentation (MobileNetV2 encoder) and a lens-like depth effect.<br><br>"
            + status().replace("\n", "<br>"),
        )
