"""Segmenting through LiteRT (model.tflite): same answer as Keras, no TensorFlow imported, a
clear path for folders without the file, and refusals that name the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from light_imports import run_main_fresh
from tiny_model import synthetic_photo

from petseg_gui.errors import PetsegError
from petseg_gui.inference import Segmenter
from petseg_gui.inference.model_folder import load_model_folder


def test_card_records_the_checked_export(tiny_tflite_model_dir: Path) -> None:
    record = json.loads((tiny_tflite_model_dir / "model.json").read_text())["tflite"]
    assert record["file"] == "model.tflite" and record["weights"] == "float32"
    assert record["check"]["max_abs_logit_difference"] < 1e-3
    assert record["check"]["argmax_agreement"] == 1.0


def test_litert_and_keras_give_the_same_probabilities(tiny_tflite_model_dir: Path) -> None:
    batch = np.random.default_rng(1).random((3, 64, 64, 3), dtype=np.float32)
    lite = load_model_folder(tiny_tflite_model_dir, runtime="litert")
    keras = load_model_folder(tiny_tflite_model_dir, runtime="keras")
    assert (lite.runtime, keras.runtime) == ("LiteRT", "TensorFlow")
    np.testing.assert_allclose(lite.forward(batch), keras.forward(batch), atol=1e-5)
    # A batch of another size reallocates the interpreter and still agrees.
    np.testing.assert_allclose(lite.forward(batch[:1]), keras.forward(batch[:1]), atol=1e-5)


def test_segmenter_prefers_litert_and_matches_keras(tiny_tflite_model_dir: Path) -> None:
    photo = synthetic_photo(120, 200)
    fast = Segmenter(tiny_tflite_model_dir)
    alpha = fast.predict(photo).alpha
    assert fast.runtime == "LiteRT" and fast.notice is None
    keras_only = tiny_tflite_model_dir.parent / "keras_only"
    shutil.copytree(tiny_tflite_model_dir, keras_only, dirs_exist_ok=True)
    (keras_only / "model.tflite").unlink()
    slow = Segmenter(keras_only)
    np.testing.assert_allclose(slow.predict(photo).alpha, alpha, atol=1e-4)
    assert slow.runtime == "TensorFlow"
    assert "export-tflite" in slow.notice and str(keras_only) in slow.notice


def test_changed_tflite_is_refused_naming_the_file(tiny_tflite_model_dir, tmp_path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(tiny_tflite_model_dir, folder)
    (folder / "model.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(PetsegError, match=r"model\.tflite: does not match its card.*export-tflite"):
        load_model_folder(folder)


def test_segment_command_never_imports_tensorflow(tiny_tflite_model_dir, tmp_path) -> None:
    import cv2

    source = tmp_path / "p.png"
    cv2.imwrite(str(source), synthetic_photo(60, 80))
    code, _, heavy = run_main_fresh(
        "petseg_gui.cli",
        ["segment", str(source), "--model", str(tiny_tflite_model_dir), "--out-dir",
         str(tmp_path / "out")],
    )  # fmt: skip
    assert code == 0 and (tmp_path / "out" / "p.png").is_file()
    assert not heavy & {"tensorflow", "keras"}, heavy
