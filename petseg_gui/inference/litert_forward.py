"""The forward pass on ``model.tflite`` with LiteRT (``ai-edge-litert``), no TensorFlow.

An interpreter holds one set of tensors, so calls are serialised by a lock (a GUI may segment
from a worker while another waits), and the input is resized only when its shape changes.

A file exported with a free height and width (``[N, None, None, 3]``, model_training/tflite.py)
takes any sides that are multiples of 32: ``LiteRTForward.flexible``. Older files take only the
card's square (the transposed convolutions' output shapes are constants in them). A change of
shape re-plans the interpreter (~3 ms, and 10-30 ms more on the next invoke). (Tried: a second
interpreter per recent shape, so that 288 x 288 and 288 x 384 could alternate without that:
+100 MB peak memory for a 24 MP photo, for a gain only when shapes alternate. Not kept.)

``workers`` > 1 (the CLI's pipeline, several photos in flight) gives that many independent
lanes of interpreters with the cores shared among them, so forward passes of different photos
run at once: on the 2-core machine two 1-thread interpreters did a 288 px forward every ~45 ms
between them, one 2-thread interpreter every ~60-80 ms (XNNPACK's second thread gains little
there, and loses under load).
"""

from __future__ import annotations

import os
import queue
from pathlib import Path

import numpy as np

from petseg_gui.contract.card import CLASSES, REEXPORT, one_line
from petseg_gui.errors import PetsegError
from petseg_gui.inference.tiling import SIDE_MULTIPLE


def litert_forward(path: Path, size: int, *, workers: int = 1) -> LiteRTForward:
    """``forward(batch float32 N x H x W x 3 in [0, 1]) -> softmax probabilities N x H x W x 3``;
    H = W = ``size`` unless the file is flexible (then any multiples of 32). ``workers``: how
    many calls may run at once (from different threads)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise PetsegError(
            f"{path}: LiteRT is not installed; run `pip install ai-edge-litert` "
            "(petseg's installer does this)"
        ) from None
    return LiteRTForward(path, size, Interpreter, workers=workers)


class _Lane:
    """One interpreter, used by one call at a time, and the input shape it is allocated for."""

    def __init__(self, interpreter=None) -> None:
        self.interpreter = interpreter
        self.shape: tuple[int, ...] | None = None


class LiteRTForward:
    def __init__(self, path: Path, size: int, interpreter_class: type, *, workers: int = 1) -> None:
        self._path, self._size, self._new = path, size, interpreter_class
        workers = max(1, workers)
        self._threads = max(1, (os.cpu_count() or 1) // workers)
        first = self._open()
        entry = first.get_input_details()[0]
        result = first.get_output_details()[0]
        in_sig = tuple(int(v) for v in entry["shape_signature"])
        out_sig = tuple(int(v) for v in result["shape_signature"])
        free = len(in_sig) == 4 and in_sig[1:3] == (-1, -1)
        self.flexible = free and in_sig[3] == 3 and out_sig[1:] == (-1, -1, len(CLASSES))
        in_shape = in_sig[1:] if free else tuple(entry["shape"])[1:]
        out_shape = out_sig[1:] if free else tuple(result["shape"])[1:]
        square = (size, size, 3), (size, size, len(CLASSES))
        if not self.flexible and (in_shape, out_shape) != square:
            raise PetsegError(
                f"{path}: takes {in_shape} and gives {out_shape}, but the card says "
                f"{size}x{size} RGB in and 3 classes out; {REEXPORT}"
            )
        self._input, self._output = entry["index"], result["index"]
        # Lanes not in use; a call takes one (waiting while all are busy) and puts it back. Last
        # in, first out: a lone caller keeps using one lane (and its warm interpreters).
        self._lanes: queue.LifoQueue[_Lane] = queue.LifoQueue()
        for _ in range(workers - 1):
            self._lanes.put(_Lane())  # its interpreter is opened when first needed
        self._lanes.put(_Lane(first))  # on top: a lone caller always gets this one

    def _open(self):
        try:
            return self._new(model_path=str(self._path), num_threads=self._threads)
        except Exception as err:  # a truncated or foreign file: one line for the user
            raise PetsegError(
                f"{self._path}: cannot be loaded ({type(err).__name__}: {one_line(err)}); "
                f"{REEXPORT}"
            ) from err

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, np.float32)
        height, width = batch.shape[1:3]
        if self.flexible:
            if height % SIDE_MULTIPLE or width % SIDE_MULTIPLE:
                raise ValueError(
                    f"{self._path}: sides must be multiples of {SIDE_MULTIPLE}, got {batch.shape}"
                )
        elif (height, width) != (self._size, self._size):
            raise ValueError(f"{self._path}: takes {self._size} px squares, got {batch.shape}")
        lane = self._lanes.get()  # one call per lane at a time: an interpreter has one state
        try:
            interpreter = self._interpreter_for(lane, batch.shape)
            interpreter.set_tensor(self._input, batch)
            interpreter.invoke()
            logits = interpreter.get_tensor(self._output)
        finally:
            self._lanes.put(lane)
        return _softmax(logits)

    def _interpreter_for(self, lane: _Lane, shape: tuple[int, ...]):
        """The lane's interpreter, opened if need be and allocated for ``shape``."""
        if lane.interpreter is None:
            lane.interpreter = self._open()
        if lane.shape != shape:
            lane.interpreter.resize_tensor_input(self._input, list(shape))
            lane.interpreter.allocate_tensors()
            lane.shape = shape
        return lane.interpreter


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis. The classes are made planes first: numpy's reductions over
    a last axis of 3 are slow (6.6 ms for a 288 px square, 0.9 ms this way)."""
    shape, classes = logits.shape, logits.shape[-1]
    planes = np.ascontiguousarray(logits.reshape(-1, classes).T)  # classes x pixels
    planes -= planes.max(axis=0)
    np.exp(planes, out=planes)
    planes /= planes.sum(axis=0)
    return np.ascontiguousarray(planes.T).reshape(shape)
