"""Test set-up: offscreen Qt, offline Keras weights, quiet TensorFlow, shared fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_shared_keras = Path(__file__).resolve().parents[1].parent / "shared" / "keras_home"
if "KERAS_HOME" not in os.environ and _shared_keras.is_dir():
    os.environ["KERAS_HOME"] = str(_shared_keras)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_model import synthetic_photo, write_tiny_model  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_PEOPLE = SHARED_DATA / "people"
SHARED_OXFORD = SHARED_DATA / "oxford-pets-sample"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A real model folder (model.keras + model.json) with hand-set weights: bright = subject."""
    return write_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture
def photo():
    """A 240x320 synthetic photo: bright ellipse (subject) over a dark textured background."""
    return synthetic_photo()


@pytest.fixture(scope="session")
def tiny_tflite_model_dir(tmp_path_factory) -> Path:
    """The tiny model folder with its model.tflite, exported as the trainer does."""
    from model_training.tflite import export_folder

    folder = write_tiny_model(tmp_path_factory.mktemp("tiny_tflite_model"))
    export_folder(folder)
    return folder
