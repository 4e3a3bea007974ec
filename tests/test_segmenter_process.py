"""The GUI's segmenter in a child process: the same answers as in-process, cancelling, one-line
errors from the child, recovery when the child dies, and no child left behind."""

from __future__ import annotations

import gc
import os
import shutil
import signal

import numpy as np
import pytest
from tiny_model import synthetic_photo

from petseg_gui.errors import PetsegError
from petseg_gui.inference import Cancelled, Segmenter
from petseg_gui.inference.segmenter_process import SegmenterProcess


@pytest.fixture
def process(tiny_tflite_model_dir):
    segmenter = SegmenterProcess(tiny_tflite_model_dir)
    yield segmenter
    segmenter.close()


def test_same_matte_trimap_and_probabilities_as_in_process(process, tiny_tflite_model_dir) -> None:
    in_process = Segmenter(tiny_tflite_model_dir)
    for shape in ((240, 320), (101, 67)):  # a smaller photo after a larger: the block is reused
        photo = synthetic_photo(*shape)
        here = in_process.predict(photo)
        there = process.predict(photo)
        np.testing.assert_array_equal(there.alpha, here.alpha)
        np.testing.assert_array_equal(there.trimap, here.trimap)
        np.testing.assert_array_equal(there.probabilities, here.probabilities)
    assert process.runtime == "LiteRT" and process.notice is None
    assert process.card == in_process.card


def test_card_is_read_without_starting_the_child(tiny_tflite_model_dir) -> None:
    segmenter = SegmenterProcess(tiny_tflite_model_dir)
    assert segmenter.card["input_size"] > 0
    assert segmenter._own.child is None and not segmenter.loaded


def test_cancelling_stops_the_photo_and_the_child_goes_on(process) -> None:
    process.load()
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # not at the start: while the child is working

    with pytest.raises(Cancelled):
        process.predict(synthetic_photo(2000, 3000), cancelled=cancelled)
    child = process._own.child
    assert process.predict(synthetic_photo(60, 80)).alpha.shape == (60, 80)
    assert process._own.child is child  # the same, still warm child


def test_a_bad_model_file_is_one_line_from_the_child(tiny_tflite_model_dir, tmp_path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(tiny_tflite_model_dir, folder)
    (folder / "model.tflite").write_bytes(b"not a flatbuffer")
    segmenter = SegmenterProcess(folder)
    try:
        with pytest.raises(PetsegError, match=r"model\.tflite: does not match its card"):
            segmenter.load()
    finally:
        segmenter.close()


def test_a_folder_without_tflite_loads_with_keras_in_the_child(
    tiny_tflite_model_dir, tmp_path
) -> None:
    folder = tmp_path / "keras_only"
    shutil.copytree(tiny_tflite_model_dir, folder)
    (folder / "model.tflite").unlink()
    segmenter = SegmenterProcess(folder)
    try:
        photo = synthetic_photo(120, 200)
        alpha = segmenter.predict(photo).alpha
        assert segmenter.runtime == "TensorFlow"
        assert "export-tflite" in segmenter.notice and str(folder) in segmenter.notice
        expected = Segmenter(tiny_tflite_model_dir).predict(photo).alpha
        np.testing.assert_allclose(alpha, expected, atol=1e-4)
    finally:
        segmenter.close()


def test_a_child_dying_mid_photo_is_one_line_and_the_next_call_starts_another(process) -> None:
    process.load()
    first = process._own.child
    polls = []

    def crash_while_working() -> bool:  # polled by the waiting call: the child is at work
        polls.append(1)
        if len(polls) == 2:
            os.kill(first.pid, signal.SIGKILL)
        return False

    with pytest.raises(PetsegError, match=r"segmenting stopped unexpectedly.*code -9"):
        process.predict(synthetic_photo(2000, 3000), cancelled=crash_while_working)
    assert process.predict(synthetic_photo(60, 80)).trimap.shape == (60, 80)
    assert process._own.child is not first and process._own.alive()


def test_a_child_that_died_between_photos_is_replaced_quietly(process) -> None:
    process.load()
    first = process._own.child
    os.kill(first.pid, signal.SIGKILL)
    first.join(5)
    assert process.predict(synthetic_photo(60, 80)).alpha.shape == (60, 80)
    assert process._own.child is not first and process.runtime == "LiteRT"


def test_close_stops_the_child_and_frees_the_block(process) -> None:
    process.predict(synthetic_photo(60, 80))
    child, block = process._own.child, process._own.block
    process.close()
    assert not child.is_alive() and process._own.block is None
    with pytest.raises(FileNotFoundError):  # unlinked: nothing left in /dev/shm
        type(block)(name=block.name)
    with pytest.raises(Cancelled):
        process.predict(synthetic_photo(60, 80))


def test_a_segmenter_let_go_stops_its_child(tiny_tflite_model_dir) -> None:
    segmenter = SegmenterProcess(tiny_tflite_model_dir)
    segmenter.load()
    child = segmenter._own.child
    del segmenter
    gc.collect()
    assert not child.is_alive()


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="no per-process nice values here")
def test_in_a_gui_process_the_child_runs_below_the_gui_from_its_start(
    tiny_tflite_model_dir, monkeypatch
) -> None:
    # Its start-up (a new interpreter, its imports) already at the workers' priority: at the
    # GUI's it took a core from the GUI thread while the model loaded.
    from petseg_gui import responsive
    from petseg_gui.inference.segmenter_process import _Resources

    lowered = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)
    monkeypatch.setattr(responsive, "_worker_nice", lowered)
    resources = _Resources()
    try:
        resources.start(str(tiny_tflite_model_dir), {})
        # at once: long before the child has imported anything (serve() lowers it only then)
        assert os.getpriority(os.PRIO_PROCESS, resources.child.pid) == lowered
    finally:
        resources.release()
