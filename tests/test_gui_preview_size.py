"""A preview costs what the screen shows: its size follows the result pane's device pixels, the
QImage of a render shares the render's memory, and the trimap overlay's colours are made off the
GUI thread."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest
import qimage2ndarray
from PIL import Image
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QImage, QPixmap
from tiny_model import synthetic_photo

from petseg_gui.overlay import TRIMAP_COLOURS, trimap_colours, trimap_overlay
from petseg_gui.preview import fit_side, preview_shape
from petseg_gui.ui import settings
from petseg_gui.ui.image_view import ImagePane, pixel_exact_fit, whole_device_pixels
from petseg_gui.ui.main_window import MainWindow
from petseg_gui.ui.session_state import to_display_qimage, to_qimage

WAIT_MS = 60_000


def test_fit_side_is_the_fitted_long_side() -> None:
    # A 4:3 photo in a tall pane: the width binds.
    assert fit_side(3000, 4000, 679, 464) == 464
    # A portrait photo in the same pane: still the width (3000 * 0.155 < 679), long side 618.67.
    assert fit_side(4000, 3000, 679, 464) == 618
    # A wide pane: the height binds.
    assert fit_side(3000, 4000, 300, 1000) == 400
    assert fit_side(3000, 4000, 1, 1) == 1
    # Device pixels: twice the logical pane, twice the side.
    assert fit_side(3000, 4000, 2 * 679, 2 * 464) == 928
    # The preview of that side fits the pane, whichever side binds.
    for view_h, view_w in ((679, 464), (300, 1000), (361, 481), (517, 333)):
        for h, w in ((3000, 4000), (4000, 3000), (1001, 1999)):
            ph, pw = preview_shape(h, w, fit_side(h, w, view_h, view_w))
            assert ph <= view_h and pw <= view_w
            assert ph == view_h or pw == view_w


def test_pixel_exact_fit_only_for_the_fitted_size() -> None:
    photo, view = (4000, 3000), (481.0, 361.0)
    assert pixel_exact_fit((481, 361), photo, view) == (481 / 4000, 361 / 3000)
    assert pixel_exact_fit((480, 360), photo, view) == (480 / 4000, 360 / 3000)  # rounding
    assert pixel_exact_fit((496, 372), photo, view) is None  # larger than the pane
    assert pixel_exact_fit((400, 300), photo, view) is None  # an old, smaller preview
    assert pixel_exact_fit((200, 150), (200, 150), view) is None  # a small photo: enlarged


def test_whole_device_pixels_leave_out_the_part_pixel() -> None:
    assert whole_device_pixels(333, 1.75) == 582  # 582.75: a picture of 583 would not fit
    assert whole_device_pixels(297, 1.25) == 371
    assert whole_device_pixels(480, 1.5) == 720
    assert whole_device_pixels(100, 1.15) == 115  # 114.99999999999999 in floats
    assert whole_device_pixels(0, 2.0) == 1


@pytest.mark.parametrize("view_size", [(480, 360), (333, 517), (641, 201)])
def test_a_fitted_preview_is_painted_pixel_for_pixel(qapp, view_size) -> None:
    """At "fit" a preview made for the pane is copied to the screen unchanged (not resampled:
    as sharp as the preview, and no work for Qt's thread pool on every paint)."""
    pane = ImagePane()
    pane.resize(*view_size)
    pane.show()
    qapp.processEvents()
    dpr = pane.devicePixelRatioF()  # 1 offscreen; 1.25, 1.75 in a test below
    width, height = pane.device_pixels()
    rng = np.random.default_rng(1)
    for h, w in ((3000, 4000), (4000, 3000)):
        ph, pw = preview_shape(h, w, fit_side(h, w, height, width))
        picture = rng.integers(0, 256, (ph, pw, 3), dtype=np.uint8)
        pane.set_image(to_qimage(picture), (w, h))
        qapp.processEvents()
        shown = pane.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        screen = qimage2ndarray.rgb_view(shown)
        # Centred: the picture's top-left corner is where its margins put it (give or take the
        # rounding of an odd margin, which Qt rounds in its own, logical, pixels).
        y0, x0 = (screen.shape[0] - ph) // 2, (screen.shape[1] - pw) // 2
        off = math.ceil(dpr)
        found = [
            (y, x)
            for y in range(max(0, y0 - off), y0 + off + 1)
            for x in range(max(0, x0 - off), x0 + off + 1)
            if np.array_equal(screen[y : y + ph, x : x + pw], picture)
        ]
        assert found, f"a {pw}x{ph} preview in a {width}x{height} pane was resampled"
    pane.close()


def test_to_qimage_shares_the_array() -> None:
    rgb = np.zeros((30, 40, 3), np.uint8)
    image = to_qimage(rgb)
    assert (image.width(), image.height()) == (40, 30)
    assert np.frombuffer(image.constBits(), np.uint8).ctypes.data == rgb.ctypes.data
    rgb[5, 7] = (10, 200, 30)  # written after the conversion: seen through the image
    assert image.pixelColor(7, 5).getRgb()[:3] == (10, 200, 30)
    del rgb  # the image keeps the memory alive
    assert image.pixelColor(7, 5).getRgb()[:3] == (10, 200, 30)


def test_display_qimage_is_the_screen_format_and_paints_without_conversion(qapp) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    image = to_display_qimage(rgb)
    assert image.format() == QImage.Format.Format_RGB32
    for y, x in ((0, 0), (7, 11), (19, 29)):
        assert image.pixelColor(x, y).getRgb()[:3] == tuple(int(v) for v in rgb[y, x])
    assert not QPixmap.fromImage(image).isNull()


def test_trimap_colours_paint_each_class() -> None:
    trimap = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    colours = trimap_colours(trimap)
    assert colours.shape == (2, 3, 3)
    for (y, x), index in np.ndenumerate(trimap):
        assert tuple(colours[y, x]) == TRIMAP_COLOURS[int(index)]
    rgb = np.full((2, 3, 3), 100, np.uint8)
    assert trimap_overlay(rgb, trimap, 1.0).tolist() == colours.tolist()


@pytest.fixture
def window(qtbot, tiny_tflite_model_dir, tmp_path, monkeypatch):
    settings.use_ini(tmp_path / "settings.ini")
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "data"))
    w = MainWindow(model_dir=tiny_tflite_model_dir, persist=False)
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    yield w
    w.undo_stack.setClean()
    w.close()
    QThreadPool.globalInstance().waitForDone()
    settings.use_ini(None)


def test_preview_follows_the_panes_device_pixels(window, qtbot, tmp_path) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.kron(synthetic_photo(), np.ones((4, 4, 1), np.uint8))).save(path)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)
    photo, matte = window.session.photo, window.session.matte
    view = window.panes.result.view
    dpr = view.devicePixelRatioF()
    pane = view.viewport().size()
    h, w = photo.loaded.pixels.shape[:2]
    width, height = view.device_pixels()  # whole device pixels: drawn 1:1
    expected = fit_side(h, w, height, width)
    assert expected < max(h, w)  # the photo is larger than the pane
    assert photo.preview_side == expected
    # The preview covers the pane's pixels, and the effect is prepared at the preview's size.
    assert photo.preview_side >= max(h, w) * min(pane.width() / w, pane.height() / h) * dpr - 1
    assert matte.prepared.shape == photo.preview.shape[:2] == preview_shape(h, w, expected)
    rendered = window.session.last_render
    assert rendered.pixels.shape[:2] == photo.preview.shape[:2]
    # The QImage on screen is the render's own memory, not a copy.
    bits = np.frombuffer(rendered.image.constBits(), np.uint8)
    assert bits.ctypes.data == rendered.pixels.ctypes.data


def test_fixed_preview_side_when_not_following(qtbot, tiny_tflite_model_dir, tmp_path) -> None:
    settings.use_ini(tmp_path / "settings.ini")
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo()).save(path)
    w = MainWindow(model_dir=tiny_tflite_model_dir, persist=False, preview_side=10**6)
    w.session.follow_view = False
    qtbot.addWidget(w)
    w.resize(400, 300)
    w.show()
    with qtbot.waitSignal(w.resultShown, timeout=WAIT_MS):
        w.open_path(path)
    assert w.session.photo.preview is w.session.photo.loaded.pixels  # full size
    w.close()
    QThreadPool.globalInstance().waitForDone()
    settings.use_ini(None)


def test_first_picture_is_quick_then_the_exact_preparation_follows(window, qtbot, tmp_path):
    from petseg_gui import effects

    path = tmp_path / "big.png"
    Image.fromarray(np.kron(synthetic_photo(), np.ones((4, 4, 1), np.uint8))).save(path)
    mattes = []
    window.session.matteChanged.connect(mattes.append)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)
    qtbot.waitUntil(lambda: len(mattes) == 2 and not window.session.busy, timeout=WAIT_MS)
    session = window.session
    photo, matte = session.photo, session.matte
    assert matte is mattes[-1] and mattes[0] is not mattes[1]
    exact = effects.prepare(photo.loaded.pixels, matte.alpha, max_size=photo.preview_side)
    params = session.params.portrait()
    np.testing.assert_array_equal(
        effects.render_prepared(matte.prepared, params), effects.render_prepared(exact, params)
    )
    np.testing.assert_array_equal(
        session.last_render.pixels, effects.render_prepared(exact, params)
    )


def test_resizing_the_window_remakes_the_preview_for_the_new_size(window, qtbot, tmp_path):
    from petseg_gui.ui.tools import Tool

    path = tmp_path / "big.png"
    Image.fromarray(np.kron(synthetic_photo(), np.ones((8, 8, 1), np.uint8))).save(path)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)
    qtbot.waitUntil(lambda: window.tools.ready and not window.session.busy, timeout=WAIT_MS)
    session = window.session
    small = session.photo.preview_side
    h, w = session.photo.loaded.pixels.shape[:2]

    with qtbot.waitSignal(session.previewResized, timeout=WAIT_MS):
        window.resize(1500, 1000)  # larger panes: the preview was too small for them

    def settled() -> bool:
        return not session.busy and max(session.matte.prepared.shape) == session.photo.preview_side

    qtbot.waitUntil(settled, timeout=WAIT_MS)
    photo, matte = session.photo, session.matte
    view = window.panes.result.view
    width, height = view.device_pixels()  # whole device pixels: drawn 1:1
    expected = fit_side(h, w, height, width)
    assert photo.preview_side == min(expected, max(h, w)) > small * 1.1
    assert matte.prepared.shape == photo.preview.shape[:2] == session.last_render.pixels.shape[:2]
    # The correction tools paint on the new size too.
    qtbot.waitUntil(lambda: window.tools.edit.preview_alpha.shape == matte.prepared.shape)
    assert window.tools.edit.preview_rgb is photo.preview
    window.tools.set_tool(Tool.ADD)
    window.tools.begin_stroke(w * 0.1, h * 0.9, w * 0.03)
    window.tools.extend_stroke(w * 0.2, h * 0.9)
    window.tools.end_stroke()
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not session.busy and not window.tools.pending, timeout=WAIT_MS)
    assert session.matte.alpha[int(h * 0.9), int(w * 0.15)] > 0.9
    assert session.matte.prepared.shape == photo.preview.shape[:2]
    window.undo_stack.setClean()  # no "save changes?" question when the test closes it


def test_a_slightly_resized_pane_gets_a_preview_of_its_exact_size(window, qtbot, tmp_path):
    """A few pixels wider: a new preview all the same (the panes draw only that size 1:1)."""
    path = tmp_path / "big.png"
    Image.fromarray(np.kron(synthetic_photo(), np.ones((4, 4, 1), np.uint8))).save(path)
    with qtbot.waitSignal(window.resultShown, timeout=WAIT_MS):
        window.open_path(path)
    session = window.session
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    before = session.photo.preview_side
    with qtbot.waitSignal(session.previewResized, timeout=WAIT_MS):
        window.resize(window.width() + 24, window.height())
    view = window.panes.result.view
    dpr = view.devicePixelRatioF()
    h, w = session.photo.loaded.pixels.shape[:2]
    width, height = view.device_pixels()  # whole device pixels: drawn 1:1
    expected = fit_side(h, w, height, width)
    assert before < session.photo.preview_side == expected < before * 1.1
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    shown = window.panes.result.view.image()
    assert (shown.width(), shown.height()) == session.photo.preview.shape[1::-1]
    assert view.transform().m11() * w * dpr == pytest.approx(shown.width(), abs=1e-6)


@pytest.mark.parametrize("scale", ["1.25", "1.75"])
def test_fractional_screen_scales_draw_the_preview_1_to_1(scale, tmp_path) -> None:
    """At 125% or 175% (common on laptops) a pane holds a part device pixel (333 logical px are
    582.75 at 175%): the preview is made to the whole pixels and drawn 1:1 all the same (one a
    pixel larger was resampled on every paint). Qt reads its scale factor only at start-up: the
    paint and resize tests above run again in a process of their own, at that scale."""
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    chosen = "pixel_for_pixel or slightly_resized"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", chosen],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 passed" in done.stdout
