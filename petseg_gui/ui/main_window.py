"""The main window: wires the editing session, the panes, the controls, menus and settings.

It holds no image maths and no slow work: ``EditorSession`` does the work on worker threads,
the views only show QImages it hands over.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QUndoStack
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from petseg_gui.contract.photos import PHOTO_EXTENSIONS
from petseg_gui.ui import dialogs, settings
from petseg_gui.ui.actions import Actions, icon
from petseg_gui.ui.controls import ControlsBar
from petseg_gui.ui.editor import EditorSession, ModelHandle, Params, Photo, Rendered, Segmented
from petseg_gui.ui.fullres import FullResolution
from petseg_gui.ui.menus import ModelMenu, RecentMenu
from petseg_gui.ui.panes import PanesWidget
from petseg_gui.ui.undo import ParamsCommand
from petseg_gui.ui.welcome import WelcomePage

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1400, 820)  # first-run window size; later runs restore the user's geometry
NO_MODEL = "No model: Model > Load model folder..."


def supported_extensions() -> tuple[str, ...]:
    return PHOTO_EXTENSIONS


class MainWindow(QMainWindow):
    resultShown = Signal(object)  # Rendered, once it is on screen

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        persist: bool = True,
        preview_side: int | None = None,
    ) -> None:
        super().__init__()
        self._persist = persist
        self._save_path: Path | None = None  # where Save writes for this photo, once chosen
        self._close_after_save = False
        self._comparing = False
        self._gesture = 0
        self._applying = False
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
        self._photo_loaded(False)
        self._restore_geometry()
        self._start_model(model_dir)

    # -- construction ----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.welcome = WelcomePage(icon("open"))
        self.panes = PanesWidget(settings.get("view/trimap_opacity"))
        self.fullres = FullResolution(
            self.session, self.panes, comparing=lambda: self._comparing, parent=self
        )
        self._full_seconds: float | None = None  # the full-resolution render on screen, if any
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

        edit_menu = bar.addMenu("&Edit")
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
        bar = self.statusBar()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: segmentation reports no progress
        self.busy.setFixedWidth(110)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.size_label = QLabel("")
        self.model_label = QLabel("Model: -")
        self.time_label = QLabel("")
        for widget in (self.busy, self.size_label, self.model_label, self.time_label):
            bar.addPermanentWidget(widget)
        self._times: dict[str, float] = {}

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
        a.compare.triggered.connect(lambda: None)  # held via button or backslash; see below
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
        self.panes.opacityChanged.connect(self._show_trimap)
        self.undo_stack.cleanChanged.connect(self._clean_changed)

        s.photoOpened.connect(self._on_photo)
        s.segmented.connect(self._on_segmented)
        s.rendered.connect(self._on_rendered)
        s.saved.connect(self._on_saved)
        s.exported.connect(lambda p: self.statusBar().showMessage(f"Exported {p}", 5000))
        s.modelChanged.connect(self._on_model)
        s.busyChanged.connect(self._on_busy)
        s.error.connect(self.show_error)
        s.status.connect(lambda text: self.statusBar().showMessage(text, 4000))
        s.timing.connect(self._on_timing)
        self.fullres.resultShown.connect(self._on_full_result)
        self.fullres.levelChanged.connect(self._show_result)
        self.fullres.levelChanged.connect(self._show_trimap)

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

    # -- files -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self._may_discard_edits():
            return
        path = dialogs.open_photo_path(
            self, settings.get("files/last_folder"), supported_extensions()
        )
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str | Path, ask: bool = True) -> None:
        """Open ``path``; the current photo stays on screen until the new one is read."""
        if ask and not self._may_discard_edits():
            return
        self.session.open(path)

    def save(self) -> bool:
        """Save to this photo's chosen output (asking for one the first time)."""
        if self.session.photo is None:
            return False
        if self._save_path is None:
            return self.save_as()
        self.save_to(self._save_path)
        return True

    def save_as(self) -> bool:
        photo = self.session.photo
        if photo is None:
            return False
        exts = supported_extensions()
        proposal = self._save_path or self._proposal(photo, "portrait")
        path = dialogs.save_path(self, "Save edited photo", proposal, exts)
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(proposal.suffix)
        if target.resolve() == photo.path.resolve():
            answer = QMessageBox.question(
                self,
                "Replace the original?",
                f"{target.name} is the original photo. Replace it with the edited version?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.save_to(target)
        return True

    def save_to(self, path: str | Path) -> None:
        """Render at full resolution and write ``path`` (no questions; callers ask first)."""
        self._save_path = Path(path)
        settings.set("files/last_folder", str(Path(path).parent))
        self.session.save(path, quality=settings.get("save/jpeg_quality"))

    def export_dialog(self, what: str) -> None:
        photo = self.session.photo
        if photo is None:
            return
        proposal = self._proposal(photo, what, suffix=".png")
        path = dialogs.save_path(self, f"Export {what}", proposal, (".png", ".tif", ".tiff"))
        if path:
            self.session.export(path, what)

    @staticmethod
    def _proposal(photo: Photo, tag: str, suffix: str | None = None) -> Path:
        """``<name>_<tag>.<ext>`` beside the original: Save never proposes the original."""
        ext = suffix or photo.path.suffix.lower()
        if ext not in supported_extensions():
            ext = ".jpg"
        return photo.path.with_name(f"{photo.path.stem}_{tag}{ext}")

    def _ask_jpeg_quality(self) -> None:
        value = dialogs.ask_jpeg_quality(self, settings.get("save/jpeg_quality"))
        if value is not None:
            settings.set("save/jpeg_quality", value)

    def _may_discard_edits(self) -> bool:
        """Ask Save/Discard/Cancel when there are unsaved edits; False means stay."""
        if not self.isWindowModified() or self.session.photo is None:
            return True
        answer = dialogs.ask_unsaved(self, self.session.photo.path.name)
        if answer == QMessageBox.StandardButton.Save:
            # The save job holds its own copy of the photo and params, so the caller can go
            # on (open another photo) while it writes.
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

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
            self.welcome.model_note.setText(NO_MODEL)
            if self.session.photo is not None:
                self.panes.trimap.view.show_message(NO_MODEL)
                self.panes.result.view.show_message(NO_MODEL)
            return
        card = getattr(handle.segmenter, "card", {}) or {}
        name = card.get("name") or (handle.path.name if handle.path else "bundled")
        self.model_label.setText(f"Model: {name}")
        self.model_label.setToolTip(str(handle.path or "bundled model"))
        self.welcome.model_note.setText("")
        self.model_menu.set_current(handle.path)
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
        w, h = photo.size
        self.size_label.setText(f"{w} x {h} px ({w * h / 1e6:.1f} MP)")
        # A photo of the same size keeps the zoom, so it may open zoomed in.
        self.panes.original.view.set_image(self.fullres.original_image(), photo.size)
        self._set_full_seconds(None)
        waiting = "Segmenting..." if self.session.model is not None else NO_MODEL
        self.panes.trimap.view.show_message(waiting)
        self.panes.result.view.show_message(waiting)
        self.stack.setCurrentIndex(1)
        self._photo_loaded(True)

    def _on_segmented(self, seg: Segmented) -> None:
        self._show_trimap()

    def _show_trimap(self, *_args) -> None:
        photo, seg = self.session.photo, self.session.seg
        if photo is None or seg is None:
            return
        from petseg_gui.overlay import trimap_overlay
        from petseg_gui.ui.editor import to_qimage

        opacity = self.panes.opacity.value()
        full = self.fullres.trimap_for(opacity)
        if full is not None:
            image = full.image
        else:
            image = to_qimage(trimap_overlay(photo.preview, seg.preview_trimap, opacity / 100.0))
        self.panes.trimap.view.set_image(image, photo.size)
        self.panes.trimap.view.follow(self.panes.original.view)
        self.fullres.poke()

    def _on_rendered(self, rendered: Rendered) -> None:
        if self.session.photo is None:
            return
        if not self._comparing:
            self._show_result()
        self.panes.result_note.setText("" if rendered.params.enabled else "effect off")
        self.resultShown.emit(rendered)
        self.fullres.poke()

    def _show_result(self) -> None:
        """The latest result in the result pane: full resolution when zoomed in and rendered."""
        photo, rendered = self.session.photo, self.session.last_render
        if photo is None or rendered is None or self._comparing:
            return
        full = self.fullres.result_for(rendered.params)
        if full is not None:
            image = full.image
        elif not rendered.params.enabled:
            image = self.fullres.original_image()  # effect off: the photo, as sharp as zoomed
        else:
            image = rendered.image
        view = self.panes.result.view
        view.set_image(image, photo.size)
        view.follow(self.panes.original.view)
        self._set_full_seconds(full.seconds if full is not None else None)

    def _on_full_result(self, rendered: Rendered) -> None:
        self._set_full_seconds(rendered.seconds)

    def _set_full_seconds(self, seconds: float | None) -> None:
        if seconds != self._full_seconds:
            self._full_seconds = seconds
            self._update_times()

    def _on_saved(self, path: str) -> None:
        self.undo_stack.setClean()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        if self._close_after_save:
            self.close()

    def _on_busy(self, busy: bool) -> None:
        self.busy.setVisible(self.session.segmenting)
        if not busy and self._close_after_save and not self.session.busy:
            self._close_after_save = False  # the save failed; stay open

    def _on_timing(self, kind: str, seconds: float) -> None:
        self._times[kind] = seconds
        self.busy.setVisible(self.session.segmenting)
        self._update_times()

    def _update_times(self) -> None:
        parts = []
        if "segment" in self._times:
            parts.append(f"Segmented in {self._times['segment']:.2f} s")
        if "render" in self._times:
            parts.append(f"Preview {self._times['render'] * 1000:.0f} ms")
        if self._full_seconds is not None:
            parts.append(f"Full resolution {self._full_seconds * 1000:.0f} ms")
        if "save" in self._times:
            parts.append(f"Saved in {self._times['save']:.2f} s")
        self.time_label.setText("  |  ".join(parts))

    def show_error(self, text: str) -> None:
        self.statusBar().clearMessage()
        dialogs.show_error(self, text)

    # -- editing -----------------------------------------------------------------------------
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
        self.fullres.params_changed()

    def set_comparing(self, on: bool) -> None:
        """While on, the result pane shows the original photo (press-and-hold compare)."""
        photo = self.session.photo
        self._comparing = on
        if photo is None:
            return
        view = self.panes.result.view
        if on:
            view.set_image(self.fullres.original_image(), photo.size)
            view.follow(self.panes.original.view)
        else:
            self._show_result()
        self.panes.result_note.setText("original (comparing)" if on else "")

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

    def _photo_loaded(self, loaded: bool) -> None:
        for action in self.actions.photo_actions():
            action.setEnabled(loaded)
        self.controls.compare_button.setEnabled(loaded)

    # -- drag and drop ---------------------------------------------------------------------
    def _dropped_path(self, event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            path = urls[0].toLocalFile()
            if Path(path).suffix.lower() in supported_extensions():
                return path
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_path(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event)
        if path:
            event.acceptProposedAction()
            self.open_path(path)

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
        if self._close_after_save and self.session.runner("save").busy:
            event.ignore()
            return
        self._persist_settings()
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

        QMessageBox.about(
            self,
            "About petseg",
            f"<b>petseg {__version__}</b><br>Portrait-mode photo editor: U-Net subject "
            "segmentation (MobileNetV2 encoder) and a lens-like depth effect.",
        )
