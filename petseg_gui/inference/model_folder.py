"""Read and check a model folder (docs/INTERFACES.md section 1) and turn it into a fast forward.

Every problem a user can cause (wrong folder, edited card, truncated or foreign model file)
becomes one ``PetsegError`` line that names the file and says what to do.

The forward runs ``model.tflite`` with LiteRT when the folder has one (every folder the trainer
writes, and the bundled model): importing LiteRT and loading take ~0.2 s, TensorFlow is never
imported. A folder from before (only ``model.keras``) still works through Keras and TensorFlow,
several seconds slower to start; ``LoadedModel.notice`` says so and how to fix it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petseg_gui.contract import card as card_contract
from petseg_gui.contract.card import (
    CLASSES,
    MODEL_FILE,
    REEXPORT,
    TFLITE_FILE,
    CardError,
    one_line,
)
from petseg_gui.errors import PetsegError

Forward = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LoadedModel:
    """A checked model folder, ready to run.

    ``forward`` maps a float32 batch (N, S, S, 3) in [0, 1] to softmax probabilities
    (N, S, S, 3), classes 0 subject, 1 background, 2 boundary. When ``flexible`` (a
    ``model.tflite`` exported with a free height and width) it takes (N, H, W, 3) for any H and
    W that are multiples of 32: one pass can then cover a whole photo (tiling.WholePhotoPlan).
    """

    folder: Path
    card: dict
    input_size: int
    forward: Forward
    runtime: str = "LiteRT"  # or "TensorFlow" for a folder without model.tflite
    notice: str | None = None  # one line for the user when the slow path is taken
    flexible: bool = False  # forward takes any H x W that are multiples of 32


def read_card(folder: str | Path) -> dict:
    """The checked ``model.json`` of ``folder`` (no TensorFlow, no hashing of the model file)."""
    try:
        return card_contract.read_card(folder)
    except CardError as err:
        raise PetsegError(str(err)) from None


def load_model_folder(
    folder: str | Path, *, warmup_batch: int = 1, runtime: str = "auto", workers: int = 1
) -> LoadedModel:
    """Check ``folder`` completely, load its model and prepare a forward pass, warmed up on
    zeros so the first photo does not pay for kernel selection.

    ``runtime``: "auto" (LiteRT when ``model.tflite`` is there, else Keras), "litert" or
    "keras" (tests and benchmarks compare the two). ``workers``: forward passes that may run
    at once from different threads (LiteRT: that many interpreters sharing the cores).
    """
    folder = Path(folder)
    card = read_card(folder)
    try:
        card_contract.check_model_hash(folder, card)
    except CardError as err:
        raise PetsegError(str(err)) from None
    has_tflite = (folder / TFLITE_FILE).is_file()
    if runtime == "litert" or (runtime == "auto" and has_tflite):
        try:
            card_contract.check_tflite_hash(folder, card)
        except CardError as err:
            raise PetsegError(str(err)) from None
        from petseg_gui.inference.litert_forward import litert_forward

        forward = litert_forward(folder / TFLITE_FILE, card["input_size"], workers=workers)
        _warm_up(forward, folder / TFLITE_FILE, card["input_size"], warmup_batch)
        return LoadedModel(
            folder, card, card["input_size"], forward, "LiteRT", flexible=forward.flexible
        )
    notice = None
    if not has_tflite:
        notice = (
            f"{folder}: no {TFLITE_FILE}, so segmenting loads TensorFlow (slower to start); "
            f"add it once with `python -m model_training export-tflite --model {folder}`"
        )
    forward = _keras_forward(folder, card)
    _warm_up(forward, folder / MODEL_FILE, card["input_size"], warmup_batch)
    return LoadedModel(folder, card, card["input_size"], forward, "TensorFlow", notice)


def _warm_up(forward: Forward, path: Path, size: int, batch: int) -> None:
    try:
        forward(np.zeros((max(1, batch), size, size, 3), np.float32))
    except PetsegError:
        raise
    except Exception as err:  # a model that loads but cannot run (e.g. a broken custom layer)
        raise PetsegError(
            f"{path}: the model does not run ({type(err).__name__}: {one_line(err)}); {REEXPORT}"
        ) from err


def _keras_forward(folder: Path, card: dict) -> Forward:
    """The Keras model as a ``tf.function`` with a batch-polymorphic signature (one trace for
    every batch size; ``model.predict`` costs ~10x more for a single image)."""
    model_path = folder / MODEL_FILE
    import keras
    import tensorflow as tf

    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as err:  # any Keras/h5/zip failure: one line for the user
        raise PetsegError(
            f"{model_path}: cannot be loaded ({type(err).__name__}: {one_line(err)}); "
            f"{REEXPORT} with Keras {keras.__version__}"
        ) from err

    size = card["input_size"]
    in_shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if in_shape is None or len(in_shape) != 4 or in_shape[1:] != (size, size, 3):
        raise PetsegError(
            f"{model_path}: model input is {in_shape} but the card says {size}x{size} RGB; "
            f"{REEXPORT}"
        )
    out_shape = tuple(model.output_shape) if not isinstance(model.output_shape, list) else None
    if out_shape is None or len(out_shape) != 4 or out_shape[-1] != len(CLASSES):
        channels = out_shape[-1] if out_shape else "several"
        raise PetsegError(
            f"{model_path}: model outputs {channels} channels, expected 3 (subject, background, "
            f"boundary); {REEXPORT}"
        )
    if out_shape[1:3] != (size, size):
        raise PetsegError(
            f"{model_path}: model output is {out_shape[1]}x{out_shape[2]}, expected "
            f"{size}x{size} like its input; {REEXPORT}"
        )

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    def probabilities(batch):
        # Softmax in float32 inside the graph: one fused call, no logits round trip.
        return tf.nn.softmax(tf.cast(model(batch, training=False), tf.float32), axis=-1)

    def forward(batch: np.ndarray) -> np.ndarray:
        return probabilities(np.asarray(batch, np.float32)).numpy()

    return forward
