"""The main window's correction commands: the tools (keys B, E, S, Esc, [ and ]), the Tools
menu and toolbar, Edit > Reset to model, Model > Add this photo to my training set, the
sidecar, and the status bar line that says what the tool does.

A mixin of ``MainWindow`` (it uses the window's ``session``, ``panes``, ``undo_stack``,
``edit_menu``, ``model_menu`` and status bar); the work is in ``tools.MatteTools``,
``brush_overlay.BrushInput`` and ``sidecar_store.SidecarStore``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from petseg_gui.ui.brush_overlay import BrushInput, LiveLayer
from petseg_gui.ui.sidecar_store import SidecarStore
from petseg_gui.ui.tools import TOOL_HELP, MatteTools, Tool

_TOOLS = (
    (Tool.VIEW, "&View (pan and zoom)", "Esc"),
    (Tool.ADD, "&Add to Subject Brush", "B"),
    (Tool.REMOVE, "&Remove from Subject Brush", "E"),
    (Tool.SUBJECT, "&Subject Tool", "S"),
)


class CorrectionCommands:
    """Builds the correction tools into the window (``_build_corrections``)."""

    def _build_corrections(self) -> None:
        self.tools = MatteTools(self.session, self.undo_stack, parent=self)
        self.brush_input = BrushInput(self.tools, self.panes.views, parent=self)
        self.live_layer = LiveLayer(
            self.tools, self.panes.trimap.view, self.panes.result.view, parent=self
        )
        self.tools.trimap_opacity = lambda: self.panes.opacity.value() / 100.0
        self.sidecars = SidecarStore(self.session, self.tools, parent=self)

        self.tool_actions: dict[Tool, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        tools_menu = QMenu("&Tools", self)
        self.menuBar().insertMenu(self.model_menu.menuAction(), tools_menu)
        for tool, text, key in _TOOLS:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(key))
            action.setCheckable(True)
            action.setStatusTip(TOOL_HELP[tool] or "Pan and zoom the photo")
            action.triggered.connect(lambda _=False, t=tool: self.tools.set_tool(t))
            group.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[Tool.VIEW].setChecked(True)
        self.bigger_brush = QAction("&Bigger Brush", self, shortcut=QKeySequence("]"))
        self.bigger_brush.triggered.connect(lambda: self.tools.resize_brush(1.25))
        self.smaller_brush = QAction("S&maller Brush", self, shortcut=QKeySequence("["))
        self.smaller_brush.triggered.connect(lambda: self.tools.resize_brush(0.8))
        for action in self.tool_actions.values():
            tools_menu.addAction(action)
        tools_menu.addSeparator()
        tools_menu.addAction(self.bigger_brush)
        tools_menu.addAction(self.smaller_brush)

        self.reset_matte = QAction("Reset to &Model", self)
        self.reset_matte.setStatusTip("Drop the corrections: back to the model's matte")
        self.reset_matte.triggered.connect(self.reset_to_model)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.reset_matte)
        self.model_menu.teachRequested.connect(lambda: self.add_to_training_set())

        toolbar = QToolBar("Tools")
        toolbar.setObjectName("toolsToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for tool in (Tool.VIEW, Tool.ADD, Tool.REMOVE, Tool.SUBJECT):
            toolbar.addAction(self.tool_actions[tool])
        self.addToolBar(toolbar)

        self.tools.toolChanged.connect(self._tool_changed)
        self.tools.radiusChanged.connect(self._brush_resized)
        self.tools.message.connect(self._correction_note)
        self.sidecars.message.connect(self._correction_note)
        self.session.photoOpened.connect(lambda _p: self._corrections_enabled(True))
        self._corrections_enabled(False)

    def _corrections_enabled(self, on: bool) -> None:
        for action in (*self.tool_actions.values(), self.reset_matte):
            action.setEnabled(on)
        self.tool_actions[Tool.VIEW].setEnabled(True)

    def _tool_changed(self, tool: Tool) -> None:
        self.tool_actions[tool].setChecked(True)
        self._show_tool_help()

    def _brush_resized(self, radius: int) -> None:
        self.statusBar().showMessage(f"Brush size {2 * radius} px on screen", 1500)

    def _show_tool_help(self) -> None:
        text = TOOL_HELP[self.tools.tool]
        if text:
            self.statusBar().showMessage(text)  # stays while the tool is chosen
        else:
            self.statusBar().clearMessage()

    def _correction_note(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 5000)
        else:
            self._show_tool_help()

    def set_tool(self, tool: Tool) -> None:
        self.tools.set_tool(tool)

    def reset_to_model(self) -> None:
        """Edit > Reset to model: the model's matte again (one undo step, worked out in the
        background; the status bar says when it is in); the sidecar goes."""
        self.tools.reset_to_model()

    def add_to_training_set(self) -> None:
        """Model > Add this photo to my training set: the photo and its corrected mask."""
        from petseg_gui.edits import add_to_training_set
        from petseg_gui.errors import PetsegError

        photo, matte = self.session.photo, self.session.matte
        if photo is None or matte is None or self.tools.edit is None:
            self.show_error("Open a photo and wait for its segmentation first.")
            return
        try:
            image, _mask = add_to_training_set(photo.path, self.tools.edit.alpha)
        except PetsegError as err:
            self.show_error(str(err))
            return
        self.model_menu.refresh()
        self.statusBar().showMessage(f"Added {image.name} to your training set", 5000)

    def flush_corrections(self) -> None:
        """Write the sidecar of a pending edit now (closing)."""
        self.sidecars.flush()
