"""The correction tools keep 12 MP work off the GUI thread and do not race: the MatteEdit is built
in a worker, full-resolution strokes (a stale one too) and clicks run in workers, and no stroke is
taken before the photo's sidecar has been read (it would replace the stroke when it arrived)."""

from __future__ import annotations

import threading

import numpy as np
import test_gui_corrections as corrections
from PySide6.QtCore import QEvent

from petseg_gui.ui.tools import Tool

WAIT_MS, close, make_window = corrections.WAIT_MS, corrections.close, corrections.make_window
send, settle = corrections.send, corrections.settle
ini, photo_path, window = corrections.ini, corrections.photo_path, corrections.window  # fixtures


def record_threads(monkeypatch, module, name: str, seen: list) -> None:
    """Wrap ``module.name`` so every call records whether it ran on the GUI thread."""
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


def drag(editor, points) -> None:
    view = editor.panes.original.view
    send(view, QEvent.Type.MouseButtonPress, points[0], pressed=True)
    for point in points[1:]:
        send(view, QEvent.Type.MouseMove, point, pressed=True)
    send(view, QEvent.Type.MouseButtonRelease, points[-1], pressed=False)


def test_full_resolution_work_runs_in_workers_even_for_a_stale_stroke(
    qtbot, monkeypatch, window, photo_path
):
    from petseg_gui.edits import live

    built, strokes = [], []
    original_init = live.MatteEdit.__init__

    def init(self, *args, **kwargs):
        built.append(threading.current_thread() is threading.main_thread())
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(live.MatteEdit, "__init__", init)
    record_threads(monkeypatch, live, "stroke_patch", strokes)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(photo_path)
    qtbot.waitUntil(lambda: window.tools.ready, timeout=WAIT_MS)
    assert built == [False]

    window.tools.set_tool(Tool.ADD)
    # Two strokes with no event processed between them: the second one's job is taken from the
    # matte before the first is applied, so its result comes back stale and is done again.
    drag(window, [(20.0 + 4 * i, 200.0) for i in range(6)])
    drag(window, [(20.0 + 4 * i, 30.0) for i in range(6)])
    qtbot.waitUntil(lambda: window.undo_stack.count() == 2, timeout=WAIT_MS)
    settle(qtbot, window)
    assert len(strokes) == 3 and not any(strokes)  # 2 strokes + 1 redone, none on the GUI thread
    alpha = window.session.matte.alpha
    assert alpha[200, 30] > 0.9 and alpha[30, 30] > 0.9  # both strokes are in the matte


def test_no_stroke_is_taken_before_the_sidecar_is_read(
    qtbot, monkeypatch, tiny_tflite_model_dir, photo_path
):
    import petseg_gui.edits as edits
    from petseg_gui.edits import write_sidecar

    sidecar = np.zeros((240, 320), np.float32)
    sidecar[100:140, 100:220] = 1.0
    write_sidecar(photo_path, sidecar)
    release = threading.Event()
    real_read = edits.read_sidecar

    def slow_read(path):
        release.wait(WAIT_MS / 1000)
        return real_read(path)

    monkeypatch.setattr(edits, "read_sidecar", slow_read)
    editor = make_window(qtbot, tiny_tflite_model_dir)
    try:
        with qtbot.waitSignal(editor.resultShown, timeout=WAIT_MS):
            editor.open_path(photo_path)
        qtbot.waitUntil(lambda: editor.tools.edit is not None, timeout=WAIT_MS)
        assert not editor.tools.ready  # segmented, but the sidecar is not known yet
        editor.tools.set_tool(Tool.ADD)
        drag(editor, [(20.0 + 4 * i, 200.0) for i in range(6)])
        assert editor.undo_stack.count() == 0 and not editor.tools.pending
    finally:
        release.set()
    qtbot.waitUntil(lambda: editor.tools.ready, timeout=WAIT_MS)
    settle(qtbot, editor)
    assert np.abs(editor.session.matte.alpha - sidecar).max() <= 1 / 65535
    drag(editor, [(20.0 + 4 * i, 200.0) for i in range(6)])  # now it is taken
    qtbot.waitUntil(lambda: editor.undo_stack.count() == 1, timeout=WAIT_MS)
    settle(qtbot, editor)
    assert editor.session.matte.alpha[200, 30] > 0.9
    assert editor.session.matte.alpha[120, 160] == 1.0  # on top of the sidecar's matte
    close(editor)


def test_a_grow_click_shows_a_first_look_until_the_full_click_lands(
    qtbot, monkeypatch, window, photo_path
):
    from petseg_gui.edits import live

    release = threading.Event()
    full_click = live.MatteEdit.click

    def slow_click(self, *args, **kwargs):
        release.wait(WAIT_MS / 1000)
        return full_click(self, *args, **kwargs)

    monkeypatch.setattr(live.MatteEdit, "click", slow_click)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(photo_path)
    qtbot.waitUntil(lambda: window.tools.ready, timeout=WAIT_MS)
    assert window.session.matte.alpha[200, 40] < 0.1  # the model found nothing there
    layer = window.live_layer
    window.tools.set_tool(Tool.SUBJECT)
    try:
        window.tools.click(40.0, 200.0, add=True)
        qtbot.waitUntil(
            lambda: bool(layer._patches) and layer._portrait is not None, timeout=WAIT_MS
        )
        assert window.undo_stack.count() == 0  # only a first look so far
    finally:
        release.set()
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=WAIT_MS)
    settle(qtbot, window)
    qtbot.waitUntil(lambda: not layer._patches and layer._portrait is None, timeout=WAIT_MS)
    assert window.session.matte.alpha[200, 40] > 0.5
    window.undo_stack.setClean()
