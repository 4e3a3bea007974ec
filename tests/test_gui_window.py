"""The main window end to end (offscreen, tiny model): open, trimap, sliders, toggle, compare,
undo, save, errors, model switching, stale results, and a clean exit."""

from __future__ import annotations

import numpy as np
import pytest
import qimage2ndarray
from PIL import Image
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QMessageBox
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.ui import editor, settings
from petseg_gui.ui.main_window import NO_MODEL, MainWindow

WAIT_MS = 60_000  # the first test pays for importing TensorFlow


@pytest.fixture(autouse=True)
def ini(tmp_path, monkeypatch):
    path = tmp_path / "settings.ini"
    settings.use_ini(path)
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "data"))  # no real user models
    # Closing with edits asks Save/Discard/Cancel in a modal loop; tests that care override it.
    monkeypatch.setattr(
        "petseg_gui.ui.dialogs.ask_unsaved", lambda parent, name: QMessageBox.StandardButton.Discard
    )
    yield path
    settings.use_ini(None)


@pytest.fixture
def photo_path(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo()).save(path)
    return path


def make_window(qtbot, model_dir) -> MainWindow:
    window = MainWindow(model_dir=model_dir)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(qtbot, tiny_tflite_model_dir):
    w = make_window(qtbot, tiny_tflite_model_dir)
    yield w
    w.close()
    QThreadPool.globalInstance().waitForDone()


def open_and_wait(qtbot, window: MainWindow, path) -> None:
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)


def shown(view) -> np.ndarray:
    """The pixels on show (previews are RGB888 views of the numpy render, full size RGB32)."""
    from PySide6.QtGui import QImage

    image = view.image().convertToFormat(QImage.Format.Format_RGB32)
    return qimage2ndarray.rgb_view(image).copy()


def rerender(qtbot, window: MainWindow, change) -> editor.Rendered:
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS) as blocker:
        change()
    return blocker.args[0]


def test_open_shows_original_trimap_and_result(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    original = shown(window.panes.original.view)
    np.testing.assert_array_equal(original, synthetic_photo())
    trimap = shown(window.panes.trimap.view)
    result = shown(window.panes.result.view)
    assert trimap.shape == result.shape == original.shape
    assert not np.array_equal(result, original)  # the effect did something
    assert not np.array_equal(trimap, original)
    assert "320 x 240" in window.size_label.text()
    assert "tiny-test-model" in window.model_label.text()
    assert "Segmented in" in window.time_label.text()


def test_slider_changes_the_result_and_undo_restores_it(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    before = shown(window.panes.result.view)
    rendered = rerender(qtbot, window, lambda: window.controls.blur.setValue(95))
    assert rendered.params.blur == 95
    after = shown(window.panes.result.view)
    assert not np.array_equal(before, after)
    assert window.isWindowModified()

    rerender(qtbot, window, window.undo_stack.undo)
    assert window.controls.blur.value() == 50
    np.testing.assert_array_equal(shown(window.panes.result.view), before)
    assert not window.isWindowModified()
    rerender(qtbot, window, window.undo_stack.redo)
    assert window.controls.blur.value() == 95


def test_a_slider_drag_is_one_undo_step(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    for value in (55, 60, 65, 70):
        window.controls.sharpen.setValue(value)  # one drag: no release in between
    window.controls.sharpen.editFinished.emit()
    window.controls.sharpen.setValue(10)  # a second gesture
    assert window.undo_stack.count() == 2
    window.undo_stack.undo()
    assert window.controls.sharpen.value() == 70
    window.undo_stack.undo()
    assert window.controls.sharpen.value() == 30


def test_toggle_off_shows_the_original_and_compare_too(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    edited = shown(window.panes.result.view)
    rerender(qtbot, window, lambda: window.actions.depth.setChecked(False))
    np.testing.assert_array_equal(shown(window.panes.result.view), synthetic_photo())
    rerender(qtbot, window, lambda: window.actions.depth.setChecked(True))
    np.testing.assert_array_equal(shown(window.panes.result.view), edited)

    qtbot.keyPress(window, Qt.Key.Key_Backslash)
    np.testing.assert_array_equal(shown(window.panes.result.view), synthetic_photo())
    qtbot.keyRelease(window, Qt.Key.Key_Backslash)
    np.testing.assert_array_equal(shown(window.panes.result.view), edited)


def test_save_blurs_the_background_and_keeps_the_subject(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    rerender(qtbot, window, lambda: window.controls.sharpen.setValue(0))
    out = photo_path.with_name("photo_portrait.png")
    assert window._proposal(window.session.photo, "portrait") == out  # never the original
    with qtbot.waitSignal(window.session.saved, timeout=WAIT_MS):
        window.save_to(out)
    saved = np.asarray(Image.open(out).convert("RGB")).astype(int)
    original = synthetic_photo().astype(int)
    mask = synthetic_subject_mask()
    # Stay clear of the edge, where the matte blends subject and background by design.
    yy, xx = np.mgrid[0:240, 0:320]
    core = ((yy - 120) / (240 * 0.22)) ** 2 + ((xx - 160) / (320 * 0.14)) ** 2 <= 1.0
    far = ((yy - 120) / (240 * 0.42)) ** 2 + ((xx - 160) / (320 * 0.3)) ** 2 > 1.0
    assert mask[core].all() and not mask[far].any()
    assert np.abs(saved[core] - original[core]).mean() < 2.0
    assert np.abs(saved[far] - original[far]).mean() > 5.0
    assert not window.isWindowModified()
    np.testing.assert_array_equal(np.asarray(Image.open(photo_path)), synthetic_photo())


def test_toggle_off_saves_the_photo_unedited(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    rerender(qtbot, window, lambda: window.actions.depth.setChecked(False))
    out = photo_path.with_name("unedited.png")
    with qtbot.waitSignal(window.session.saved, timeout=WAIT_MS):
        window.save_to(out)
    np.testing.assert_array_equal(np.asarray(Image.open(out).convert("RGB")), synthetic_photo())


def error_dialog(window) -> QMessageBox | None:
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[0] if boxes else None


def test_unreadable_photo_shows_a_dialog_and_keeps_the_previous_one(
    qtbot, window, photo_path
) -> None:
    open_and_wait(qtbot, window, photo_path)
    bad = photo_path.with_name("broken.png")
    bad.write_bytes(b"this is not a PNG")
    window.open_path(bad)
    qtbot.waitUntil(lambda: error_dialog(window) is not None, timeout=WAIT_MS)
    box = error_dialog(window)
    assert "broken.png" in box.text()
    assert "\n" not in box.text()  # one line, no traceback
    box.close()
    assert window.session.photo.path == photo_path
    np.testing.assert_array_equal(shown(window.panes.original.view), synthetic_photo())
    rerender(qtbot, window, lambda: window.controls.blur.setValue(80))  # still usable


def test_broken_model_folder_keeps_the_current_model(qtbot, window, tmp_path, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "model.json").write_text("{not json")
    window.use_model(broken)
    qtbot.waitUntil(lambda: error_dialog(window) is not None, timeout=WAIT_MS)
    assert str(broken) in error_dialog(window).text()
    error_dialog(window).close()
    assert window.session.model.path is not None and window.session.model.path != broken
    assert "tiny-test-model" in window.model_label.text()


def test_switching_model_resegments_and_persists(qtbot, window, tiny_tflite_model_dir, photo_path):
    open_and_wait(qtbot, window, photo_path)
    first = window.session.model.segmenter
    with qtbot.waitSignal(window.session.segmented, timeout=WAIT_MS):
        window.use_model(tiny_tflite_model_dir)
    assert window.session.model.segmenter is not first
    assert not first._own.alive()  # the replaced model's process has ended
    assert settings.get("model/path") == str(tiny_tflite_model_dir)
    window.model_menu.refresh()
    checked = [a.text() for a in window.model_menu.actions() if a.isChecked()]
    assert checked == [f"{tiny_tflite_model_dir.name} (loaded folder)"]


def test_stale_renders_are_never_painted(qtbot, window, photo_path) -> None:
    open_and_wait(qtbot, window, photo_path)
    painted: list[int] = []
    window.resultShown.connect(lambda r: painted.append(r.params.blur))
    window.controls.blur.setValue(20)
    window.controls.blur.setValue(85)  # arrives before the first render can finish
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    assert painted == [85]


def test_no_model_shows_a_message_instead_of_crashing(qtbot, monkeypatch, photo_path) -> None:
    monkeypatch.setattr(editor, "bundled_model_available", lambda: False)
    w = make_window(qtbot, None)
    assert w.session.model is None
    assert w.welcome.model_note.text() == NO_MODEL
    with qtbot.waitSignal(w.session.photoOpened, timeout=WAIT_MS):
        w.open_path(photo_path)
    assert w.panes.result.view.image() is None
    assert "none" in w.model_label.text()
    w.close()


def test_settings_persist_across_windows(qtbot, tiny_tflite_model_dir, ini) -> None:
    first = make_window(qtbot, tiny_tflite_model_dir)
    first.controls.blur.setValue(77)
    first.actions.depth.setChecked(False)
    first.panes.opacity.setValue(25)
    first.close()
    second = make_window(qtbot, tiny_tflite_model_dir)
    assert second.controls.blur.value() == 77
    assert second.controls.blur.spin.value() == 77
    assert not second.actions.depth.isChecked()
    assert second.panes.opacity.value() == 25
    assert not settings.get("window/geometry").isEmpty()
    second.close()


def test_quit_with_unsaved_edits_asks_and_cancel_keeps_the_window(
    qtbot, window, photo_path, monkeypatch
) -> None:
    open_and_wait(qtbot, window, photo_path)
    rerender(qtbot, window, lambda: window.controls.blur.setValue(10))
    asked: list[str] = []

    def answer(parent, name):
        asked.append(name)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr("petseg_gui.ui.dialogs.ask_unsaved", answer)
    assert not window.close()
    assert asked == ["photo.png"] and window.isVisible()
    monkeypatch.setattr(
        "petseg_gui.ui.dialogs.ask_unsaved", lambda p, n: QMessageBox.StandardButton.Discard
    )
    assert window.close()


def test_no_worker_thread_outlives_the_window(qtbot, tiny_tflite_model_dir, photo_path) -> None:
    w = make_window(qtbot, tiny_tflite_model_dir)
    w.open_path(photo_path)
    w.controls.blur.setValue(70)  # work in flight while closing
    w.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def segmenting_children() -> list:
    import multiprocessing

    return [c for c in multiprocessing.active_children() if c.name == "petseg-segmenter"]


def test_segmenting_runs_in_a_child_process_that_ends_with_the_window(
    qtbot, tiny_tflite_model_dir, photo_path
) -> None:
    before = segmenting_children()
    w = make_window(qtbot, tiny_tflite_model_dir)
    open_and_wait(qtbot, w, photo_path)
    assert w.session.model.segmenter.runtime == "LiteRT"
    mine = [c for c in segmenting_children() if c not in before]
    assert len(mine) == 1 and mine[0].is_alive()
    w.session.open(photo_path)  # a segmentation in flight while closing
    w.close()
    assert not mine[0].is_alive()


def test_about_says_which_passes_the_effect_runs(qtbot, window, monkeypatch) -> None:
    from petseg_gui.effects import compiled

    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(compiled, "fused", None)
    window.actions.about.trigger()
    assert shown and "Python passes" in shown[-1] and "C compiler" in shown[-1]
    assert "<br>Matte:" in shown[-1]  # the matte's pass, on a line of its own
