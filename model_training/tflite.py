"""``model.tflite``: the exported Keras model converted for LiteRT, checked against Keras.

The app segments with LiteRT (``ai-edge-litert``: a 0.2 s import instead of TensorFlow's several
seconds), so every model folder the trainer writes carries this file beside ``model.keras``, and
the card records its hash and how closely it reproduces the Keras logits. ``export-tflite`` adds
it to a folder made before it existed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from model_training.errors import TrainingError
from petseg_gui.contract import card as card_contract
from petseg_gui.contract.card import MODEL_FILE, TFLITE_FILE

CHECK_INPUTS = 3
# Float32 conversion only reorders arithmetic: logits agree to ~1e-5. More means a broken export.
MAX_LOGIT_DIFFERENCE = 1e-3


def convert(model) -> bytes:
    """Float32 TFLite flatbuffer of a Keras model (through a SavedModel, the documented path)."""
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="petseg-export-") as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(folder).convert()


def run_tflite(content: bytes, batch: np.ndarray) -> np.ndarray:
    """Logits of the LiteRT interpreter on a float32 batch."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    entry = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(entry["index"], list(batch.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], batch.astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def write_tflite(model, folder: Path, image_size: int, *, seed: int = 0) -> dict:
    """Convert ``model``, check it on random photos-like inputs, write ``folder/model.tflite``
    atomically; returns the card's ``tflite`` record. TrainingError if the two disagree."""
    content = convert(model)
    rng = np.random.default_rng(seed)
    batch = rng.random((CHECK_INPUTS, image_size, image_size, 3), dtype=np.float32)
    expected = np.asarray(model(batch, training=False), np.float32)
    got = run_tflite(content, batch)
    difference = float(np.abs(got - expected).max())
    agreement = float((got.argmax(-1) == expected.argmax(-1)).mean())
    if not difference <= MAX_LOGIT_DIFFERENCE:
        raise TrainingError(
            f"{folder / TFLITE_FILE}: the LiteRT conversion differs from Keras by {difference:.3g} "
            "(logits); report this with the model folder"
        )
    path = folder / TFLITE_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return {
        "file": TFLITE_FILE,
        "sha256": card_contract.file_sha256(path),
        "weights": "float32",
        "runtime": "LiteRT (ai-edge-litert)",
        "check": {
            "inputs": CHECK_INPUTS,
            "max_abs_logit_difference": difference,
            "argmax_agreement": agreement,
        },
    }


def export_folder(folder: str | Path) -> dict:
    """``export-tflite``: add ``model.tflite`` to an existing model folder and record it."""
    import keras

    from model_training.evaluate import read_card

    folder = Path(folder)
    card = read_card(folder)  # checks the folder and the hash of model.keras
    model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    card["tflite"] = write_tflite(model, folder, card["input_size"])
    card_contract.write_card(folder, card)
    return card["tflite"]
