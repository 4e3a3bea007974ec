"""Turn a trained model into the model folder of docs/INTERFACES.md section 1.

The exported ``model.keras`` is a fresh float32 copy without optimiser state (a third of the
size of a checkpoint, and no float16 layers from --mixed-precision on a CPU-only user machine);
``model.json`` is the card with the SHA-256 of that file. ``finalize`` renames the work folder to
the output in one step, so a reader never sees a half-written model folder.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from model_training.errors import TrainingError

# Names, hashing and the schema are the contract's; train.py and evaluate.py import them here.
from petseg_gui.contract import card as card_contract
from petseg_gui.contract.card import CARD_FILE, MODEL_FILE  # noqa: F401
from petseg_gui.contract.card import file_sha256 as sha256_of
from petseg_gui.contract.workdir import has_checkpoint, partial_dir


def copy_weights(source, target) -> None:
    """Layer by layer, by name (nested encoder included), so the order of trainable and frozen
    variables cannot matter."""
    import keras

    for layer in target.layers:
        if isinstance(layer, keras.Model):
            copy_weights(source.get_layer(layer.name), layer)
        elif layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def export_inference_model(
    model, image_size: int, decoder_filters: Sequence[int], path: Path
) -> int:
    """Save a float32, optimiser-free copy of ``model`` to ``path``; returns its parameter count."""
    import keras

    from model_training.model import build_unet

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        clean = build_unet(image_size, encoder_weights=None, decoder_filters=decoder_filters)
    finally:
        keras.config.set_dtype_policy(previous)
    copy_weights(model, clean)
    tmp = path.with_name(path.stem + ".tmp.keras")
    clean.save(tmp)
    os.replace(tmp, path)
    return int(clean.count_params())


def versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def write_card(folder: Path, *, image_size: int, name: str, **sections: object) -> dict:
    """Write model.json next to model.keras; ``sections`` are architecture, training, metrics."""
    # The contract builds and validates it, so the trainer cannot write a card the app refuses.
    card = card_contract.new_card(
        input_size=image_size,
        name=name,
        sha256=sha256_of(folder / MODEL_FILE),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        **sections,
        versions=versions(),
    )
    card_contract.write_card(folder, card)
    return card


def check_output_free(output: Path, *, overwrite: bool, resume: bool) -> None:
    """Refuse to clobber a finished model or to silently restart an unfinished run."""
    if output.exists() and not overwrite:
        raise TrainingError(f"{output}: already exists; add --overwrite or pick another --output")
    work = partial_dir(output)
    started = has_checkpoint(work)  # else nothing worth keeping
    if started and not resume and not overwrite:
        raise TrainingError(
            f"{work}: holds an unfinished run; add --resume to continue it or --overwrite to "
            "start again"
        )
    if resume and not started:
        raise TrainingError(f"{work}: no checkpoint to resume from; run again without --resume")


def finalize(work_dir: Path, output: Path, *, overwrite: bool) -> None:
    """Make ``work_dir`` the ``output`` folder with one rename (old output removed after)."""
    old = None
    if output.exists():
        if not overwrite:
            raise TrainingError(
                f"{output}: already exists; add --overwrite or pick another --output"
            )
        old = output.with_name(output.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(output, old)
    os.replace(work_dir, output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
