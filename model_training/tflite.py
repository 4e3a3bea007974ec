"""``model.tflite``: the exported Keras model converted for LiteRT, checked against Keras.

The app segments with LiteRT (``ai-edge-litert``: a 0.2 s import instead of TensorFlow's several
seconds), so every model folder the trainer writes carries this file beside ``model.keras``, and
the card records its hash and how closely it reproduces the Keras logits. ``export-tflite`` adds
it to a folder made before it existed.

The file takes any height and width that are multiples of 32 (input ``[N, None, None, 3]``),
not only the square ``model.keras`` was trained at: the U-Net is fully convolutional, and one
pass over a whole 4:3 photo (288 x 384) costs 0.7x the two overlapping squares it replaces
(docs/INFERENCE.md, issue 12). A square-only export (the Keras input shape fixes the transposed
convolutions' output shapes as constants) cannot be resized; the app still runs those files the
old way (tiles).
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
# Five stride-2 stages: any side the flexible file takes must be a multiple of this.
SIDE_MULTIPLE = 32


def flexible_copy(model):
    """The same network and weights with inputs of any height and width (``None, None``).

    Rebuilt from the model's config with every input layer's spatial dimensions freed, nested
    models (the encoder) included; every layer of the U-Net is convolutional, so nothing else in
    the config depends on the size (MobileNetV2's stride-2 paddings are the same for any even
    side). Raises whatever Keras raises when a model cannot be rebuilt that way.
    """
    import keras

    config = model.get_config()
    _free_spatial_dims(config)
    flexible = keras.Model.from_config(config)
    flexible.set_weights(model.get_weights())
    return flexible


def _free_spatial_dims(config: object) -> None:
    if isinstance(config, dict):
        if config.get("class_name") == "InputLayer":
            inner = config["config"]
            shape = inner.get("batch_shape") or inner.get("batch_input_shape")
            if shape is not None and len(shape) == 4:
                inner["batch_shape"] = [shape[0], None, None, shape[3]]
                inner.pop("batch_input_shape", None)
        build = config.get("build_config")
        if isinstance(build, dict) and _is_image_shape(build.get("input_shape")):
            shape = build["input_shape"]
            build["input_shape"] = [shape[0], None, None, shape[3]]
        for value in config.values():
            _free_spatial_dims(value)
    elif isinstance(config, list):
        for value in config:
            _free_spatial_dims(value)


def _is_image_shape(shape: object) -> bool:
    return isinstance(shape, list) and len(shape) == 4 and shape[3] == 3


def check_shapes(image_size: int) -> list[tuple[int, int]]:
    """The training square, and a 4:3 landscape and portrait around it (sides multiples of 32):
    the shapes a flexible export is checked on."""
    long_side = max(SIDE_MULTIPLE, round(image_size * 4 / 3 / SIDE_MULTIPLE) * SIDE_MULTIPLE)
    return [(image_size, image_size), (image_size, long_side), (long_side, image_size)]


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


def _compare(content: bytes, reference, shapes, rng) -> tuple[float, float]:
    """Largest logit difference and argmax agreement of the file against Keras ``reference``."""
    difference, agree, total = 0.0, 0, 0
    for height, width in shapes:
        batch = rng.random((CHECK_INPUTS, height, width, 3), dtype=np.float32)
        expected = np.asarray(reference(batch, training=False), np.float32)
        got = run_tflite(content, batch)
        if got.shape != expected.shape:
            return float("inf"), 0.0
        difference = max(difference, float(np.abs(got - expected).max()))
        agree += int((got.argmax(-1) == expected.argmax(-1)).sum())
        total += expected[..., 0].size
    return difference, agree / total


def write_tflite(
    model, folder: Path, image_size: int, *, seed: int = 0, flexible: bool = True
) -> dict:
    """Convert ``model``, check it on random photos-like inputs, write ``folder/model.tflite``
    atomically; returns the card's ``tflite`` record. TrainingError if the two disagree.

    ``flexible``: export with a free height and width, checked on the training square against
    ``model`` itself and on 4:3 shapes against its flexible copy. If that copy cannot be built or
    the check fails, the square-only export is written instead (the app runs both)."""
    rng = np.random.default_rng(seed)
    square = [(image_size, image_size)]
    content = None
    if flexible:
        try:
            copy = flexible_copy(model)
            candidate = convert(copy)
            on_square = _compare(candidate, model, square, np.random.default_rng(seed))
            others = _compare(candidate, copy, check_shapes(image_size)[1:], rng)
        except Exception:  # a model Keras cannot rebuild that way: fall back to the square file
            candidate = None
        if candidate is not None and max(on_square[0], others[0]) <= MAX_LOGIT_DIFFERENCE:
            content, shapes = candidate, check_shapes(image_size)
            difference = max(on_square[0], others[0])
            agreement = min(on_square[1], others[1])
    if content is None:
        content, shapes = convert(model), square
        difference, agreement = _compare(content, model, square, np.random.default_rng(seed))
    if not difference <= MAX_LOGIT_DIFFERENCE:
        raise TrainingError(
            f"{folder / TFLITE_FILE}: the LiteRT conversion differs from Keras by {difference:.3g} "
            "(logits); report this with the model folder"
        )
    path = folder / TFLITE_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    free = len(shapes) > 1
    return {
        "file": TFLITE_FILE,
        "sha256": card_contract.file_sha256(path),
        "weights": "float32",
        "runtime": "LiteRT (ai-edge-litert)",
        # None: any height/width that is a multiple of 32 (one pass over a whole photo).
        "input_shape": [None, None if free else image_size, None if free else image_size, 3],
        "check": {
            "inputs": CHECK_INPUTS,
            "shapes": [list(shape) for shape in shapes],
            "max_abs_logit_difference": difference,
            "argmax_agreement": agreement,
        },
    }


def export_folder(folder: str | Path, *, flexible: bool = True) -> dict:
    """``export-tflite``: add ``model.tflite`` to an existing model folder and record it."""
    import keras

    from model_training.evaluate import read_card

    folder = Path(folder)
    card = read_card(folder)  # checks the folder and the hash of model.keras
    model = keras.models.load_model(folder / MODEL_FILE, compile=False)
    card["tflite"] = write_tflite(model, folder, card["input_size"], flexible=flexible)
    card_contract.write_card(folder, card)
    return card["tflite"]
