"""``petseg segment``'s pipeline (petseg_gui/cli_segment.py): photos are segmented side by side
while results are written one at a time, in input order; Ctrl-C still stops after the photo in
progress; the forward's lanes give the answers of one interpreter."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_model import synthetic_photo

from petseg_gui.cli import main
from petseg_gui.cli_segment import segment_workers
from petseg_gui.inference.model_folder import load_model_folder

pytestmark = pytest.mark.skipif(segment_workers(2) < 2, reason="one core: no pipeline")


def _photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        Image.fromarray(synthetic_photo(120, 160, seed=i)).save(folder / f"p{i}.png")
        paths.append(folder / f"p{i}.png")
    return paths


def _segment(*args: object) -> int:
    return main(["segment", *map(str, args)])


def test_next_photo_is_segmented_while_the_first_is_in_progress(
    tiny_tflite_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import petseg_gui.inference as inference

    real_predict = inference.Segmenter.predict
    second_done = threading.Event()
    order: list[int] = []

    def predict(self, rgb, **kwargs):
        first = rgb[0, 0, 0] == first_pixel  # photo 0 waits until photo 1 has been segmented
        if first:
            assert second_done.wait(timeout=60), "photo 1 was not segmented alongside photo 0"
        result = real_predict(self, rgb, **kwargs)
        order.append(0 if first else 1)
        if not first:
            second_done.set()
        return result

    sources = _photos(tmp_path / "in", 2)
    first_pixel = np.asarray(Image.open(sources[0]))[0, 0, 0]
    assert np.asarray(Image.open(sources[1]))[0, 0, 0] != first_pixel
    monkeypatch.setattr(inference.Segmenter, "predict", predict)
    out = tmp_path / "out"
    assert _segment(*sources, "--out-dir", out, "--model", tiny_tflite_model_dir) == 0
    assert order == [1, 0]  # photo 1 finished first ...
    lines = [line for line in capsys.readouterr().err.splitlines() if "->" in line]
    assert "[1/2]" in lines[0] and "p0.png" in lines[0]  # ... but is reported in input order
    assert sorted(p.name for p in out.iterdir()) == ["p0.png", "p1.png"]


def test_ctrl_c_while_segmenting_finishes_that_photo_only(
    tiny_tflite_model_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import petseg_gui.inference as inference

    real_predict = inference.Segmenter.predict
    calls = []

    def predict_then_ctrl_c(self, rgb, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the first photos are in flight
        return real_predict(self, rgb, **kwargs)

    monkeypatch.setattr(inference.Segmenter, "predict", predict_then_ctrl_c)
    sources = _photos(tmp_path / "in", 4)
    out = tmp_path / "out"
    assert _segment(*sources, "--out-dir", out, "--model", tiny_tflite_model_dir) == 130
    assert [p.name for p in out.iterdir()] == ["p0.png"]  # the photo in progress, nothing more
    assert "1 written, 0 failed, 3 left: stopped by Ctrl-C" in capsys.readouterr().err


def test_two_lanes_give_the_answers_of_one(tiny_tflite_model_dir: Path) -> None:
    one = load_model_folder(tiny_tflite_model_dir).forward
    two = load_model_folder(tiny_tflite_model_dir, workers=2).forward
    rng = np.random.default_rng(7)
    batches = [rng.random((1, 64, 64 + 32 * (i % 2), 3), dtype=np.float32) for i in range(8)]
    expected = [one(batch) for batch in batches]
    results: dict[int, np.ndarray] = {}

    def run(indices: range) -> None:
        for i in indices:
            results[i] = two(batches[i])

    threads = [threading.Thread(target=run, args=(range(k, 8, 2),)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, want in enumerate(expected):
        np.testing.assert_allclose(results[i], want, atol=1e-6)
