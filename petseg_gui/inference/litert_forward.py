"""The forward pass on ``model.tflite`` with LiteRT (``ai-edge-litert``), no TensorFlow.

An interpreter holds one set of tensors, so calls are serialised by a lock (a GUI may segment
from a worker while another waits), and the input is resized only when the batch size changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from petseg_gui.contract.card import CLASSES, REEXPORT, one_line
from petseg_gui.errors import PetsegError


def litert_forward(path: Path, size: int) -> Callable[[np.ndarray], np.ndarray]:
    """``forward(batch float32 N x S x S x 3 in [0, 1]) -> softmax probabilities N x S x S x 3``."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise PetsegError(
            f"{path}: LiteRT is not installed; run `pip install ai-edge-litert` "
            "(petseg's installer does this)"
        ) from None
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
    except Exception as err:  # a truncated or foreign file: one line for the user
        raise PetsegError(
            f"{path}: cannot be loaded ({type(err).__name__}: {one_line(err)}); {REEXPORT}"
        ) from err
    entry = interpreter.get_input_details()[0]
    result = interpreter.get_output_details()[0]
    in_shape, out_shape = tuple(entry["shape"]), tuple(result["shape"])
    if in_shape[1:] != (size, size, 3) or out_shape[1:] != (size, size, len(CLASSES)):
        raise PetsegError(
            f"{path}: takes {in_shape[1:]} and gives {out_shape[1:]}, but the card says "
            f"{size}x{size} RGB in and 3 classes out; {REEXPORT}"
        )
    lock = threading.Lock()
    allocated = [0]  # the batch size the tensors are allocated for

    def forward(batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, np.float32)
        with lock:
            if allocated[0] != batch.shape[0]:
                interpreter.resize_tensor_input(entry["index"], list(batch.shape))
                interpreter.allocate_tensors()
                allocated[0] = batch.shape[0]
            interpreter.set_tensor(entry["index"], batch)
            interpreter.invoke()
            logits = interpreter.get_tensor(result["index"])
        return _softmax(logits)

    return forward


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis. The classes are made planes first: numpy's reductions over
    a last axis of 3 are slow (6.6 ms for a 288 px square, 0.9 ms this way)."""
    shape, classes = logits.shape, logits.shape[-1]
    planes = np.ascontiguousarray(logits.reshape(-1, classes).T)  # classes x pixels
    planes -= planes.max(axis=0)
    np.exp(planes, out=planes)
    planes /= planes.sum(axis=0)
    return np.ascontiguousarray(planes.T).reshape(shape)
