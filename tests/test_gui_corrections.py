"""Hand corrections in the window (offscreen, tiny model): a scripted brush stroke, undo, the
sidecar through close and reopen, Reset to model, the Subject tool's click, the teach action,
the keys and status bar of the tools, and the brush outline."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import test_gui_window as shared
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt, QThreadPool
from PySide6.QtGui import QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsEllipseItem
from tiny_model import synthetic_photo

from petseg_gui.ui.main_window import MainWindow
from petseg_gui.ui.tools import Tool

WAIT_MS = 60_000
ini = shared.ini  # the window tests' fixtures: a temporary settings file (autouse), a photo
photo_path = shared.photo_path


def two_subjects() -> np.ndarray:
    """Two bright discs (left and right) on a dark textured background."""
    photo = synthetic_photo()
    photo[...] = photo.min(axis=2, keepdims=True)  # drop the middle subject: darkest channel
    photo[...] = np.clip(photo, 0, 70)
    yy, xx = np.mgrid[0:240, 0:320]
    for cx in (70, 250):
        inside = (yy - 120) ** 2 + (xx - cx) ** 2 <= 45**2
        photo[inside] = (230, 200, 140)
    return photo


def make_window(qtbot, model_dir) -> MainWindow:
    window = MainWindow(model_dir=model_dir, persist=False)
    qtbot.addWidget(window)
    window.show()
    return window


def close(window: MainWindow) -> None:
    window.close()
    QThreadPool.globalInstance().waitForDone()


@pytest.fixture
def window(qtbot, tiny_tflite_model_dir):
    w = make_window(qtbot, tiny_tflite_model_dir)
    yield w
    close(w)


def open_and_wait(qtbot, window: MainWindow, path) -> None:
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)
    qtbot.waitUntil(lambda: window.tools.ready, timeout=WAIT_MS)


def send(view, kind: QEvent.Type, scene_xy, *, pressed: bool, modifiers=None) -> None:
    """A mouse event at photo pixel ``scene_xy`` on ``view``'s viewport."""
    pos = QPointF(view.mapFromScene(QPointF(*scene_xy)))
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    buttons = Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind,
        pos,
        QPointF(view.viewport().mapToGlobal(pos.toPoint())),
        button,
        buttons,
        modifiers or Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


def stroke(qtbot, window: MainWindow, points) -> None:
    """Drag along ``points`` (photo pixels) on the Original pane; wait for the full-resolution
    matte to be shown."""
    view = window.panes.original.view
    with qtbot.waitSignal(window.tools.edited, timeout=WAIT_MS):
        send(view, QEvent.Type.MouseButtonPress, points[0], pressed=True)
        for point in points[1:]:
            send(view, QEvent.Type.MouseMove, point, pressed=True)
        send(view, QEvent.Type.MouseButtonRelease, points[-1], pressed=False)
    settle(qtbot, window)


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.session.busy and not window.tools.pending, timeout=WAIT_MS)


def test_a_stroke_paints_where_it_goes_and_undo_restores_exactly(qtbot, window, photo_path):
    open_and_wait(qtbot, window, photo_path)
    before = window.session.matte.alpha.copy()
    window.tool_actions[Tool.ADD].trigger()
    assert "Add to subject" in window.statusBar().currentMessage()
    radius = window.brush_input.radius_on(window.panes.original.view)
    points = [(20.0 + 4 * i, 200.0) for i in range(11)]  # along the dark bottom-left corner
    stroke(qtbot, window, points)

    after = window.session.matte.alpha
    assert after.shape == before.shape
    assert after[200, 40] > 0.9 and before[200, 40] < 0.1  # painted
    yy, xx = np.mgrid[0:240, 0:320]
    dist = np.min([np.hypot(xx - x, yy - y) for x, y in points], axis=0)
    far = dist > 1.25 * radius + 2
    assert np.array_equal(after[far], before[far])  # nothing far from the stroke moved
    assert window.undo_stack.count() == 1

    window.undo_stack.undo()
    settle(qtbot, window)
    assert np.array_equal(window.session.matte.alpha, before)
    window.undo_stack.redo()
    settle(qtbot, window)
    assert np.array_equal(window.session.matte.alpha, after)


def test_the_sidecar_round_trips_and_reset_removes_it(qtbot, tiny_tflite_model_dir, photo_path):
    from petseg_gui.edits import read_sidecar, sidecar_paths

    window = make_window(qtbot, tiny_tflite_model_dir)
    open_and_wait(qtbot, window, photo_path)
    model = window.session.matte.alpha.copy()
    window.tools.set_tool(Tool.REMOVE)
    stroke(qtbot, window, [(160.0, 100.0), (160.0, 140.0)])  # through the subject's middle
    edited = window.tools.edit.alpha.copy()
    assert edited[120, 160] < 0.1 < model[120, 160]
    close(window)  # writes the pending sidecar
    assert all(p.is_file() for p in sidecar_paths(photo_path))
    assert np.abs(read_sidecar(photo_path).matte - edited).max() <= 1 / 65535

    again = make_window(qtbot, tiny_tflite_model_dir)
    open_and_wait(qtbot, again, photo_path)
    qtbot.waitUntil(
        lambda: abs(float(again.session.matte.alpha[120, 160]) - edited[120, 160]) < 1e-3,
        timeout=WAIT_MS,
    )
    assert np.abs(again.session.matte.alpha - edited).max() <= 1 / 65535

    again.reset_to_model()  # worked out in a worker
    settle(qtbot, again)
    assert np.array_equal(again.session.matte.alpha, again.tools.edit.model_alpha)
    assert "Back to the model's matte" in again.statusBar().currentMessage()
    again.sidecars.flush()  # in a worker: the GUI thread does not wait for the file system
    qtbot.waitUntil(lambda: not again.sidecars.flushing, timeout=WAIT_MS)
    assert not any(p.exists() for p in sidecar_paths(photo_path))
    close(again)


def test_a_broken_sidecar_is_reported_and_the_model_matte_used(qtbot, window, photo_path):
    from petseg_gui.edits import sidecar_paths

    sidecar_paths(photo_path)[1].write_text("{not json", encoding="utf-8")
    with qtbot.waitSignal(window.sidecars.message, timeout=WAIT_MS) as blocker:
        open_and_wait(qtbot, window, photo_path)
    assert "unreadable" in blocker.args[0] and "Reset to model" in blocker.args[0]
    assert np.array_equal(window.session.matte.alpha, window.tools.edit.model_alpha)


def test_a_click_picks_one_of_two_subjects(qtbot, window, tmp_path):
    path = tmp_path / "two.png"
    Image.fromarray(two_subjects()).save(path)
    open_and_wait(qtbot, window, path)
    model = window.session.matte.alpha.copy()
    assert model[120, 70] > 0.9 and model[120, 250] > 0.9
    window.tools.set_tool(Tool.SUBJECT)
    view = window.panes.original.view
    with qtbot.waitSignal(window.tools.edited, timeout=WAIT_MS):
        send(view, QEvent.Type.MouseButtonPress, (250.5, 120.5), pressed=True)
        send(view, QEvent.Type.MouseButtonRelease, (250.5, 120.5), pressed=False)
    settle(qtbot, window)
    alpha = window.session.matte.alpha
    assert alpha[120, 250] > 0.9 and alpha[120, 70] < 0.05

    # Shift+click adds the other one back.
    with qtbot.waitSignal(window.tools.edited, timeout=WAIT_MS):
        shift = Qt.KeyboardModifier.ShiftModifier
        send(view, QEvent.Type.MouseButtonPress, (70.5, 120.5), pressed=True, modifiers=shift)
        send(view, QEvent.Type.MouseButtonRelease, (70.5, 120.5), pressed=False)
    settle(qtbot, window)
    alpha = window.session.matte.alpha
    assert alpha[120, 250] > 0.9 and alpha[120, 70] > 0.9
    assert window.undo_stack.count() == 2


def test_teach_writes_a_pair_the_trainer_accepts(qtbot, window, photo_path, tmp_path):
    from model_training.data import scan_folder
    from petseg_gui.edits import count_training_pairs, default_training_folder

    open_and_wait(qtbot, window, photo_path)
    window.model_menu.refresh()
    assert "(0 so far)" in window.model_menu.teach_action.text()
    errors = []
    window.show_error = errors.append
    window.model_menu.teach_action.trigger()
    assert errors == []
    window.model_menu.refresh()
    assert "(1 so far)" in window.model_menu.teach_action.text()
    folder = default_training_folder()
    assert folder.is_relative_to(tmp_path) and count_training_pairs(folder) == 1
    examples, problems = scan_folder(folder)
    assert len(examples) == 1 and not problems


def test_keys_choose_tools_and_the_status_bar_says_what_they_do(qtbot, window, photo_path):
    open_and_wait(qtbot, window, photo_path)
    for key, tool, words in (
        (Qt.Key.Key_B, Tool.ADD, "Add to subject"),
        (Qt.Key.Key_E, Tool.REMOVE, "Remove from subject"),
        (Qt.Key.Key_S, Tool.SUBJECT, "click an object"),
    ):
        assert window.tool_actions[tool].shortcut() == QKeySequence(key)
        window.tool_actions[tool].trigger()
        assert window.tools.tool is tool
        assert words in window.statusBar().currentMessage()
    radius = window.tools.radius
    window.bigger_brush.trigger()
    assert window.tools.radius > radius
    window.smaller_brush.trigger()
    window.smaller_brush.trigger()
    assert window.tools.radius < radius
    window.tool_actions[Tool.VIEW].trigger()
    assert window.tools.tool is Tool.VIEW and window.statusBar().currentMessage() == ""


def test_painting_shows_live_pictures_until_the_full_matte_is_in(qtbot, window, photo_path):
    open_and_wait(qtbot, window, photo_path)
    window.tools.set_tool(Tool.ADD)
    view, layer = window.panes.original.view, window.live_layer
    send(view, QEvent.Type.MouseButtonPress, (20.0, 200.0), pressed=True)
    for i in range(1, 8):
        send(view, QEvent.Type.MouseMove, (20.0 + 4 * i, 200.0), pressed=True)
    assert len(layer._patches) >= 1  # the trimap pane shows the paint at once
    assert window.tools.edit.preview_alpha[200, 30] > 0.9  # tiny photo: preview = photo
    qtbot.waitUntil(lambda: layer._portrait is not None, timeout=WAIT_MS)
    with qtbot.waitSignal(window.tools.edited, timeout=WAIT_MS):
        send(view, QEvent.Type.MouseButtonRelease, (48.0, 200.0), pressed=False)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: not layer._patches and layer._portrait is None, timeout=WAIT_MS)
    assert window.session.matte.alpha[200, 30] > 0.9


def outlines_shown(window: MainWindow) -> list[bool]:
    """Per pane: is the brush outline (two circles) shown?"""
    return [
        any(isinstance(i, QGraphicsEllipseItem) and i.isVisible() for i in view.scene().items())
        for view in window.panes.views
    ]


def test_the_brush_outline_follows_the_mouse_and_hides_when_it_leaves(qtbot, window, photo_path):
    open_and_wait(qtbot, window, photo_path)
    window.tool_actions[Tool.ADD].trigger()
    view = window.panes.original.view
    assert outlines_shown(window) == [False, False, False]
    send(view, QEvent.Type.MouseMove, (100, 80), pressed=False)
    assert outlines_shown(window) == [True, True, True]  # where the brush is, in every pane
    circles = [i for i in view.scene().items() if isinstance(i, QGraphicsEllipseItem)]
    centre = circles[0].rect().center()
    assert abs(centre.x() - 100) < 2 and abs(centre.y() - 80) < 2
    for widget in (view.viewport(), view):  # the mouse leaves the pane: both are told
        QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))
    assert outlines_shown(window) == [False, False, False]


def test_painting_the_panes_runs_no_python(qtbot, window, photo_path):
    """A pane's paint stays in C++: with the brush active, nothing of ours is called (an event
    filter on the viewports was called for every paint, in Python, so with the GIL: a wait of
    up to the switch interval per pane while workers compute)."""
    open_and_wait(qtbot, window, photo_path)
    window.tool_actions[Tool.ADD].trigger()
    send(window.panes.original.view, QEvent.Type.MouseMove, (100, 80), pressed=False)
    called: list[str] = []

    def profile(frame, event, _arg) -> None:
        if event == "call":
            called.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    viewports = [view.viewport() for view in window.panes.views]
    sys.setprofile(profile)  # this thread only: the GUI thread's paints
    try:
        for viewport in viewports:
            viewport.repaint()
    finally:
        sys.setprofile(None)
    assert called == []
