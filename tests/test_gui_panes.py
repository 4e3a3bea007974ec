"""Zoomed in, the panes show real pixels: the full-resolution photo, result and trimap overlay
replace the previews once the sliders rest, and a slider move makes an unfinished one stale."""

from __future__ import annotations

import numpy as np
import pytest
import qimage2ndarray
from PIL import Image
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QMessageBox
from tiny_model import synthetic_photo

from petseg_gui import effects
from petseg_gui.overlay import trimap_overlay
from petseg_gui.ui import settings
from petseg_gui.ui.main_window import MainWindow

WAIT_MS = 60_000  # the first test pays for importing TensorFlow
PREVIEW_SIDE = 64  # the 320 x 240 photo previews at 64 x 48


@pytest.fixture(autouse=True)
def ini(tmp_path, monkeypatch):
    settings.use_ini(tmp_path / "settings.ini")
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(
        "petseg_gui.ui.dialogs.ask_unsaved", lambda parent, name: QMessageBox.StandardButton.Discard
    )
    yield
    settings.use_ini(None)


@pytest.fixture
def window(qtbot, tiny_tflite_model_dir, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo()).save(path)
    w = MainWindow(model_dir=tiny_tflite_model_dir, persist=False, preview_side=PREVIEW_SIDE)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.resultShown, timeout=WAIT_MS):
        w.open_path(path)
    yield w
    w.close()
    QThreadPool.globalInstance().waitForDone()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def shown(view) -> np.ndarray:
    """The pixels on show (previews are RGB888 views of the numpy render, full size RGB32)."""
    from PySide6.QtGui import QImage

    image = view.image().convertToFormat(QImage.Format.Format_RGB32)
    return qimage2ndarray.rgb_view(image).copy()


def full_result(window: MainWindow) -> np.ndarray:
    seg = window.session.segmentation
    return effects.render(synthetic_photo(), seg.alpha, window.params.portrait())


def zoom_to_actual_size_and_wait(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignals(
        [window.pane_control.resultShown, window.pane_control.trimapShown], timeout=WAIT_MS
    ):
        window.actions.actual_size.trigger()


def test_fit_shows_previews_and_100_percent_shows_real_pixels(qtbot, window) -> None:
    panes = window.panes
    for view in panes.views:
        assert shown(view).shape == (48, 64, 3)  # fitted: the previews
    zoom_to_actual_size_and_wait(qtbot, window)

    assert panes.original.view.scale_factor() == pytest.approx(1.0)
    np.testing.assert_array_equal(shown(panes.original.view), synthetic_photo())
    result = shown(panes.result.view).astype(int)
    assert result.shape == (240, 320, 3)
    assert np.abs(result - full_result(window)).max() <= 1
    seg = window.session.segmentation
    overlay = trimap_overlay(synthetic_photo(), seg.trimap, panes.opacity.value() / 100.0)
    np.testing.assert_array_equal(shown(panes.trimap.view), overlay)
    assert "Full resolution" in window.time_label.text()
    # The scene stays in photo pixels whatever the picture's resolution: the panes stay in step.
    for view in panes.views:
        assert view.sceneRect().width() == 320
        assert view.transform() == panes.original.view.transform()

    window.actions.fit.trigger()  # zoomed out: previews again
    for view in panes.views:
        assert shown(view).shape == (48, 64, 3)
    assert "Full resolution" not in window.time_label.text()


def test_a_slider_move_makes_the_full_render_stale(qtbot, window) -> None:
    zoom_to_actual_size_and_wait(qtbot, window)
    painted = []
    window.pane_control.resultShown.connect(lambda rendered: painted.append(rendered.params))
    window.controls.blur.setValue(60)  # the full render for blur 60 starts on the idle timer...
    window.pane_control.timer.timeout.emit()  # ...which we skip ahead
    assert window.session.runners.full.busy
    previews = {}  # blur -> the picture in the result pane when that preview was shown
    window.resultShown.connect(
        lambda rendered: previews.setdefault(
            rendered.params.blur, shown(window.panes.result.view).shape
        )
    )
    window.controls.blur.setValue(90)  # ...and the user moves on before it is done
    qtbot.waitUntil(lambda: 90 in previews, timeout=WAIT_MS)
    assert previews[90] == (48, 64, 3)  # while the slider moves, the preview is shown

    with qtbot.waitSignal(window.pane_control.resultShown, timeout=WAIT_MS):
        pass  # the sliders rest: the full render for blur 90 arrives
    assert [p.blur for p in painted] == [90]  # blur 60's full render was never painted
    assert np.abs(shown(window.panes.result.view).astype(int) - full_result(window)).max() <= 1


def test_zooming_in_after_a_change_renders_the_current_params(qtbot, window) -> None:
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.controls.sharpen.setValue(80)  # at fit: no full render
    assert not window.session.runners.full.busy
    zoom_to_actual_size_and_wait(qtbot, window)
    assert window.pane_control.result_for(window.params).params.sharpen == 80
    assert np.abs(shown(window.panes.result.view).astype(int) - full_result(window)).max() <= 1

    # Zoomed out and in again: the cached render is shown at once, without new work.
    full_runner = window.session.runners.full
    generation = full_runner.generation
    window.actions.fit.trigger()
    window.actions.actual_size.trigger()
    assert shown(window.panes.result.view).shape == (240, 320, 3)
    window.pane_control.timer.timeout.emit()  # the sliders rest
    assert full_runner.generation == generation  # nothing submitted
