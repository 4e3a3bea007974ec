"""The window's actions (menu items, toolbar buttons, shortcuts) and the icons they use."""

from __future__ import annotations

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QWidget

from resources import ICONS_DIR


def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (an empty icon if it is missing)."""
    path = ICONS_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def _action(
    parent: QWidget,
    text: str,
    *,
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    tip: str = "",
    icon_name: str | None = None,
    checkable: bool = False,
) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
    if icon_name:
        action.setIcon(icon(icon_name))
    action.setCheckable(checkable)
    return action


class Actions:
    """All actions of the main window, created once; the window connects and places them."""

    def __init__(self, parent: QWidget) -> None:
        std = QKeySequence.StandardKey
        self.open = _action(
            parent, "&Open...", shortcut=std.Open, tip="Open a photo", icon_name="open"
        )
        self.save = _action(
            parent,
            "&Save",
            shortcut=std.Save,
            tip="Save the edited photo (never over the original)",
            icon_name="save",
        )
        self.save_as = _action(
            parent, "Save &As...", shortcut=std.SaveAs, tip="Save under a new name"
        )
        self.export_trimap = _action(
            parent, "Export &Trimap...", tip="Save the trimap as a grey image"
        )
        self.export_matte = _action(
            parent, "Export &Matte...", tip="Save the alpha matte as a grey image"
        )
        self.jpeg_quality = _action(parent, "&JPEG Quality...", tip="Quality for saved JPEG files")
        self.quit = _action(parent, "&Quit", shortcut=std.Quit, tip="Quit petseg")
        self.depth = _action(
            parent,
            "&Depth Effect",
            shortcut="D",
            tip="Turn the portrait effect on or off",
            icon_name="depth",
            checkable=True,
        )
        self.compare = _action(
            parent,
            "&Compare (hold)",
            tip="Hold to see the original in the result pane (or hold \\)",
            icon_name="compare",
        )
        self.reset = _action(parent, "&Reset Sliders", tip="Blur and sharpening back to defaults")
        self.fit = _action(
            parent, "&Fit to Window", shortcut="Ctrl+0", tip="Fit the photo", icon_name="fit"
        )
        self.actual_size = _action(
            parent,
            "&Actual Size (100%)",
            shortcut="Ctrl+1",
            tip="One photo pixel per screen pixel",
            icon_name="actual_size",
        )
        self.zoom_in = _action(parent, "Zoom &In", shortcut=std.ZoomIn, tip="Zoom in")
        self.zoom_out = _action(parent, "Zoom &Out", shortcut=std.ZoomOut, tip="Zoom out")
        self.about = _action(parent, "&About petseg", tip="About petseg")

    def photo_actions(self) -> list[QAction]:
        """Actions that need an open photo."""
        return [
            self.save,
            self.save_as,
            self.export_trimap,
            self.export_matte,
            self.compare,
            self.fit,
            self.actual_size,
            self.zoom_in,
            self.zoom_out,
        ]
