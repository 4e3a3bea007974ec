"""The editing session on its own (no window, no TensorFlow: a stand-in segmenter): typed runner
results, stale results dropped, and the "matte changed" path that matte-editing tools will use."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QThreadPool
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.inference import Segmentation
from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.session_state import Matte, ModelHandle, Params, Rendered

WAIT_MS = 20_000


class MaskSegmenter:
    """Segments every photo as the synthetic subject (what the tiny model finds too)."""

    card = {"name": "mask"}

    def __init__(self) -> None:
        self.calls = 0

    def load(self) -> None:
        pass

    def predict(self, rgb, *, cancelled=None) -> Segmentation:
        self.calls += 1
        mask = synthetic_subject_mask()
        trimap = np.where(mask, 0, 1).astype(np.uint8)
        return Segmentation(mask.astype(np.float32), trimap, np.zeros((8, 8, 3), np.float32))


@pytest.fixture
def session(qtbot, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo()).save(path)
    s = EditorSession(preview_side=64)
    s.model = ModelHandle(MaskSegmenter(), None)
    with qtbot.waitSignal(s.rendered, timeout=WAIT_MS):
        s.open(path)
    # The first picture may come from the preview-sized first look; the tests start once the
    # exact one is in too (a render still on its way would be taken for theirs).
    qtbot.waitUntil(lambda: not s.busy, timeout=WAIT_MS)
    yield s
    s.shutdown()
    QThreadPool.globalInstance().waitForDone()


def test_runners_hand_over_typed_results(session) -> None:
    assert isinstance(session.matte, Matte)
    assert isinstance(session.last_render, Rendered)
    assert session.last_render.pixels.shape == (48, 64, 3)
    np.testing.assert_array_equal(session.matte.alpha, session.segmentation.alpha)
    assert session.model.segmenter.calls == 1


def test_a_full_render_for_older_params_is_dropped(qtbot, session) -> None:
    arrived: list[Params] = []
    session.fullRendered.connect(lambda rendered: arrived.append(rendered.params))
    session.request_full_render()  # blur 50 ...
    session.set_params(Params(blur=90))  # ... made stale before its result is delivered
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    assert arrived == []
    with qtbot.waitSignal(session.fullRendered, timeout=WAIT_MS) as blocker:
        session.request_full_render()
    assert blocker.args[0].params.blur == 90
    assert blocker.args[0].pixels.shape == (240, 320, 3)


def test_a_new_matte_re_renders_and_the_latest_edit_wins(qtbot, session) -> None:
    before = session.last_render.pixels
    changed: list[Matte] = []
    session.matteChanged.connect(changed.append)
    first = np.zeros((240, 320), np.float32)
    latest = np.ones((240, 320), np.float32)  # all subject: the photo, sharpened
    session.set_matte(first)
    with qtbot.waitSignal(session.rendered, timeout=WAIT_MS) as blocker:
        session.set_matte(latest)
    assert len(changed) == 1 and changed[0].alpha is latest
    assert session.matte is changed[0]
    np.testing.assert_array_equal(session.matte.trimap, session.segmentation.trimap)
    assert not np.array_equal(blocker.args[0].pixels, before)
    assert session.model.segmenter.calls == 1  # an edit never segments again
