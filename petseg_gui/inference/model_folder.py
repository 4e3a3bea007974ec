"""Read and check a model folder (docs/INTERFACES.md section 1) and turn it into a fast forward.

Every problem a user can cause (wrong folder, edited card, truncated or foreign model file)
becomes one ``PetsegError`` line that names the file and says what to do. TensorFlow is imported
only inside ``load_model_folder``, so reading a card stays cheap for menus and ``--help``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from petseg_gui.errors import PetsegError

MODEL_FILE = "model.keras"
CARD_FILE = "model.json"
CARD_FORMAT = "petseg-model"
CARD_FORMAT_VERSION = 1
CLASSES = ("subject", "background", "boundary")
REQUIRED_KEYS = ("format", "format_version", "input_size", "classes", "sha256")
REEXPORT = "re-export the model folder with model_training"

Forward = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LoadedModel:
    """A checked model folder, ready to run.

    ``forward`` maps a float32 batch (N, S, S, 3) in [0, 1] to softmax probabilities
    (N, S, S, 3), classes 0 subject, 1 background, 2 boundary.
    """

    folder: Path
    card: dict
    input_size: int
    forward: Forward


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def check_folder(folder: Path) -> None:
    """The folder and both files exist."""
    if not folder.is_dir():
        raise PetsegError(
            f"{folder}: model folder not found; choose a folder that holds {MODEL_FILE} and "
            f"{CARD_FILE}"
        )
    if not (folder / MODEL_FILE).is_file():
        raise PetsegError(f"{folder / MODEL_FILE}: file missing from the model folder; {REEXPORT}")
    if not (folder / CARD_FILE).is_file():
        raise PetsegError(
            f"{folder / CARD_FILE}: model card missing from the model folder; {REEXPORT}"
        )


def read_card(folder: str | Path) -> dict:
    """The checked ``model.json`` of ``folder`` (no TensorFlow, no hashing of the model file)."""
    folder = Path(folder)
    check_folder(folder)
    path = folder / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise PetsegError(
            f"{path}: not valid JSON ({err.msg}, line {err.lineno}); {REEXPORT}"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise PetsegError(f"{path}: cannot be read ({_one_line(err)}); {REEXPORT}") from err
    if not isinstance(card, dict):
        raise PetsegError(f"{path}: the card must be a JSON object; {REEXPORT}")
    missing = [key for key in REQUIRED_KEYS if key not in card]
    if missing:
        raise PetsegError(f"{path}: card lacks required keys {', '.join(missing)}; {REEXPORT}")
    if card["format"] != CARD_FORMAT:
        raise PetsegError(
            f"{path}: not a petseg model card (format {card['format']!r}, expected "
            f"{CARD_FORMAT!r}); choose a petseg model folder"
        )
    version = card["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PetsegError(f"{path}: format_version must be a positive integer; {REEXPORT}")
    if version > CARD_FORMAT_VERSION:
        raise PetsegError(
            f"{path}: made by a newer petseg (format_version {version}, this one reads "
            f"{CARD_FORMAT_VERSION}); update petseg"
        )
    size = card["input_size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 8:
        raise PetsegError(f"{path}: input_size must be an integer of at least 8; {REEXPORT}")
    if not isinstance(card["classes"], list) or card["classes"] != list(CLASSES):
        raise PetsegError(f"{path}: classes must be {list(CLASSES)} in that order; {REEXPORT}")
    digest = card["sha256"]
    if not isinstance(digest, str) or len(digest) != 64:
        raise PetsegError(f"{path}: sha256 must be 64 hex digits; {REEXPORT}")
    return card


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_model_folder(folder: str | Path, *, warmup_batch: int = 1) -> LoadedModel:
    """Check ``folder`` completely, load the Keras model and compile a forward pass.

    The forward is a ``tf.function`` with a batch-polymorphic signature (one trace for every
    batch size; ``model.predict`` costs ~10x more for a single image), run once here on zeros so
    the first photo does not pay for tracing and oneDNN kernel selection.
    """
    folder = Path(folder)
    card = read_card(folder)
    model_path = folder / MODEL_FILE
    if file_sha256(model_path).lower() != card["sha256"].lower():
        raise PetsegError(f"{model_path}: model.keras does not match its card: re-export the model")

    import keras
    import tensorflow as tf

    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as err:  # any Keras/h5/zip failure: one line for the user
        raise PetsegError(
            f"{model_path}: cannot be loaded ({type(err).__name__}: {_one_line(err)}); "
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

    try:
        forward(np.zeros((max(1, warmup_batch), size, size, 3), np.float32))
    except Exception as err:  # a model that loads but cannot run (e.g. a broken custom layer)
        raise PetsegError(
            f"{model_path}: the model does not run ({type(err).__name__}: {_one_line(err)}); "
            f"{REEXPORT}"
        ) from err
    return LoadedModel(folder=folder, card=card, input_size=size, forward=forward)
