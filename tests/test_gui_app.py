"""The petseg-gui command: fast --help, and --screenshot of the real window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from light_imports import run_main_fresh
from PIL import Image
from tiny_model import synthetic_photo

from petseg_gui.ui.main_window import DEFAULT_SIZE

ROOT = Path(__file__).resolve().parents[1]


def run_app(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "petseg_gui", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_imports_neither_qt_nor_tensorflow() -> None:
    code, output, loaded = run_main_fresh("petseg_gui.ui.app", ["--help"])
    assert code == 0 and "--screenshot" in output
    assert loaded == set()


def test_screenshot_writes_a_picture_of_the_window(tmp_path, tiny_tflite_model_dir) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_photo()).save(photo)
    shot = tmp_path / "shot.png"
    done = run_app("--screenshot", str(shot), str(photo), "--model", str(tiny_tflite_model_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.format == "PNG"
        assert image.size == DEFAULT_SIZE
        pixels = image.convert("RGB")
        # Three panes with pictures, not three empty grey boxes: the middle row has many colours.
        row = pixels.crop((0, DEFAULT_SIZE[1] // 2, DEFAULT_SIZE[0], DEFAULT_SIZE[1] // 2 + 1))
        assert len(np.unique(np.asarray(row).reshape(-1, 3), axis=0)) > 50


def test_screenshot_of_an_unreadable_photo_fails_with_one_line(
    tmp_path, tiny_tflite_model_dir
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a photo")
    done = run_app(
        "--screenshot", str(tmp_path / "s.png"), str(bad), "--model", str(tiny_tflite_model_dir)
    )
    assert done.returncode == 1
    assert "bad.jpg" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "s.png").exists()
