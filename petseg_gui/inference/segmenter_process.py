"""The Segmenter in a child process, for the GUI: same calls, no GIL or core shared with Qt.

In the GUI's process, LiteRT held the GIL for 20-50 ms while it planned its tensors (when the
model loaded, and again for every new photo shape of a flexible model.tflite), and the
segmentation's Python glue shared the GIL with the GUI thread: the window froze for 1-3
frames each time (benchmarks/gui_latency.py). A child process has its own GIL, and it runs at
the workers' lower priority (responsive.py), so the GUI thread keeps its core.

``SegmenterProcess`` answers what the GUI asks of a ``Segmenter`` (``load``, ``warm_up_for``,
``predict``, ``card``, ``notice``, ``runtime``): each call is one request over a pipe. The photo
goes in and the matte and trimap come back through one shared-memory block (8 bytes per photo
pixel, kept from photo to photo, freed by ``close``); the probabilities, at the model's
working size, come back pickled. ``predict``'s ``cancelled`` is polled every POLL_S and passed
on through an event, so a cancelled photo stops between the child's stages as it did in a
thread. If the child dies (a crash in native code), the call raises one ``PetsegError`` line and
the next call starts a new child. The command line keeps the in-process Segmenter (no GUI
thread to protect).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import shared_memory
from pathlib import Path
from typing import Any

import numpy as np

from petseg_gui.errors import PetsegError
from petseg_gui.inference.segmenter import (
    Cancelled,
    ModelFacts,
    Segmentation,
    bundled_model_dir,
    check_photo,
)

# The shared block per photo pixel: the matte (float32), the trimap (uint8), the photo (3 x uint8).
BYTES_PER_PIXEL = 8
# How often a waiting call looks at its cancelled() callback (seconds).
POLL_S = 0.02
# How long close() lets the child finish its current step before it is killed (seconds).
STOP_WAIT_S = 2.0


class SegmenterProcess(ModelFacts):
    """A ``Segmenter(model_dir, **options)`` that runs in a child process (started by the first
    call, ~0.4 s of imports there). Calls are serialised: one request at a time.

    ``close()`` stops the child and frees the shared block; so does dropping the last
    reference (a model whose loading became stale is simply let go).
    """

    def __init__(self, model_dir: str | Path | None = None, **options: Any) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else bundled_model_dir()
        self._options = options
        self._card: dict | None = None
        self._model: LoadedFacts | None = None  # what the child said when its model loaded
        self._lock = threading.Lock()  # one request on the pipe at a time
        self._own = _Resources()
        self._release = weakref.finalize(self, self._own.release)
        self._closed = False

    # -- calls -----------------------------------------------------------------------------
    def load(self) -> None:
        """Start the child and load the model there. Raises ``PetsegError`` naming the file."""
        with self._lock:
            self._ensure_loaded()

    def warm_up_for(self, height: int, width: int) -> None:
        """Plan the model for a photo of this shape, in the child (see Segmenter.warm_up_for)."""
        with self._lock:
            self._ensure_loaded()
            self._call(("warm_up_for", int(height), int(width)))

    def predict(
        self, rgb: np.ndarray, *, cancelled: Callable[[], bool] | None = None
    ) -> Segmentation:
        """Segment one uint8 RGB photo in the child; raises ``Cancelled`` as Segmenter does."""
        check_photo(rgb)
        if cancelled is not None and cancelled():
            raise Cancelled("segmentation cancelled")
        height, width = rgb.shape[:2]
        with self._lock:
            self._ensure_loaded()
            block = self._own.block_for(height * width * BYTES_PER_PIXEL)
            views: _Views | None = _Views(block.buf, height, width)
            try:
                views.photo[...] = rgb
                probabilities = self._call(("predict", block.name, height, width), cancelled)
                # Copies: the block is written again by the next photo.
                alpha, trimap = views.alpha.copy(), views.trimap.copy()
            finally:
                views = None  # no view of the block may remain when it is freed
                if self._closed:
                    self._own.free_block()
        return Segmentation(alpha=alpha, trimap=trimap, probabilities=probabilities)

    def close(self) -> None:
        """Stop the child (a call in flight ends with ``Cancelled``) and free the shared block.
        Idempotent; a closed SegmenterProcess cannot be used again."""
        self._closed = True
        self._own.stop_child()
        # The block, unless a call is in flight (it may be about to write the photo there):
        # that call frees it as it ends.
        if self._lock.acquire(blocking=False):
            try:
                self._own.free_block()
            finally:
                self._lock.release()

    # -- the pipe --------------------------------------------------------------------------
    def _ensure_loaded(self) -> None:
        if self._closed:
            raise Cancelled("the segmenting process was closed")
        if not self._own.alive():
            self._model = None
            self._own.start(str(self.model_dir), self._options)
        if self._model is None:
            self._model = self._call(("load",))

    def _call(self, request: tuple, cancelled: Callable[[], bool] | None = None) -> Any:
        """Send one request and wait for its answer, passing a cancel on."""
        own = self._own
        own.cancel.clear()
        try:
            own.conn.send(request)
            while not own.conn.poll(POLL_S):
                if cancelled is not None and cancelled():
                    own.cancel.set()
                    cancelled = None  # said once; now wait for the child to stop
            status, value = own.conn.recv()
        except (EOFError, OSError):
            code = own.forget_child()  # the next call starts a new one
            if self._closed or own.cancel.is_set():
                raise Cancelled("the segmenting process was stopped") from None
            raise PetsegError(
                f"{self.model_dir}: segmenting stopped unexpectedly (its process ended"
                f"{'' if code is None else f' with code {code}'}); open the photo again, "
                "and if it happens again, load the model again"
            ) from None
        if status == "ok":
            return value
        if status == "cancelled":
            raise Cancelled(value)
        if status == "petseg":
            raise PetsegError(value)
        if status == "value":
            raise ValueError(value)
        raise RuntimeError(value)


@dataclass(frozen=True)
class LoadedFacts:
    """What the child says of its model once loaded (ModelFacts reads them)."""

    card: dict
    runtime: str
    notice: str | None


class _Resources:
    """What a SegmenterProcess holds outside Python's heap: the child, its pipe and cancel
    event, and the shared block. Apart from it, so that a finalizer can free them."""

    def __init__(self) -> None:
        self.child: Any = None
        self.conn: Any = None
        self.cancel: Any = None
        self.block: shared_memory.SharedMemory | None = None

    def alive(self) -> bool:
        return self.child is not None and self.child.is_alive()

    def start(self, model_dir: str, options: dict) -> None:
        from petseg_gui.responsive import worker_nice

        self.forget_child()
        # spawn, not fork: forking a process that runs Qt's and the effects' threads is unsafe.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.cancel = context.Event()
        child = context.Process(
            target=serve,
            args=(theirs, self.cancel, model_dir, options, worker_nice()),
            name="petseg-segmenter",
            daemon=True,  # never outlives the app, even if the app is killed
        )
        child.start()
        theirs.close()
        self.child, self.conn = child, ours
        nice = worker_nice()
        if nice is not None:
            # At once, not only in serve(): the spawned interpreter's start-up and imports
            # (~0.3 s of CPU) ran at the GUI thread's priority and took a core from it
            # (benchmarks/gui_latency.py: a 25-30 ms stall while the model loads).
            try:
                os.setpriority(os.PRIO_PROCESS, child.pid, nice)
            except OSError:
                pass  # refused, or already gone: serve() tries again from inside

    def forget_child(self) -> int | None:
        """Close the pipe and reap the child (after it has ended); its exit code."""
        child, self.child = self.child, None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if child is None:
            return None
        child.join(STOP_WAIT_S)
        return child.exitcode

    def block_for(self, size: int) -> shared_memory.SharedMemory:
        """The shared block, at least ``size`` bytes: kept from photo to photo, since a fresh
        block costs its page faults on both sides every time (a 12 MP photo's 96 MB: ~60 ms
        more per photo, measured)."""
        if self.block is None or self.block.size < size:
            self.free_block()
            self.block = shared_memory.SharedMemory(create=True, size=size)
        return self.block

    def free_block(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        try:
            block.close()
        except BufferError:
            pass  # a call in flight still views it: unmapped once that view is gone
        block.unlink()

    def release(self) -> None:
        """Stop the child and free the block (for the finalizer: no call can be in flight)."""
        self.stop_child()
        self.free_block()

    def stop_child(self) -> None:
        """Stop the child; a call in flight then sees the pipe close."""
        child = self.child
        if child is not None:
            if self.cancel is not None:
                self.cancel.set()
            if child.is_alive():
                child.terminate()
                child.join(STOP_WAIT_S)
                if child.is_alive():
                    child.kill()
                    child.join(STOP_WAIT_S)


class _Views:
    """The shared block's parts: alpha first (float32, aligned), then the trimap and photo."""

    def __init__(self, buffer: memoryview, height: int, width: int) -> None:
        pixels = height * width
        self.alpha = np.ndarray((height, width), np.float32, buffer, 0)
        self.trimap = np.ndarray((height, width), np.uint8, buffer, 4 * pixels)
        self.photo = np.ndarray((height, width, 3), np.uint8, buffer, 5 * pixels)


def serve(conn, cancel, model_dir: str, options: dict, nice: int | None) -> None:
    """The child's loop: one Segmenter, answering requests until the pipe closes."""
    from petseg_gui.inference.segmenter import Segmenter

    if nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except (AttributeError, OSError):
            pass  # not Linux, or refused: runs at the inherited priority
    segmenter = Segmenter(model_dir, **options)
    blocks: dict[str, shared_memory.SharedMemory] = {}  # the parent's current block, attached

    def attached(name: str) -> shared_memory.SharedMemory:
        if name not in blocks:
            for old in blocks.values():
                old.close()  # the parent has replaced it
            blocks.clear()
            blocks[name] = shared_memory.SharedMemory(name=name)
        return blocks[name]

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the app has gone
        try:
            reply = ("ok", _handle(segmenter, request, cancel, attached))
        except Cancelled as err:
            reply = ("cancelled", str(err))
        except PetsegError as err:
            reply = ("petseg", str(err))
        except ValueError as err:
            reply = ("value", str(err))
        except Exception as err:  # noqa: BLE001 - passed on: the app decides what to say
            reply = ("error", f"{type(err).__name__}: {err}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


def _handle(segmenter, request: tuple, cancel, attached) -> Any:
    kind, *args = request
    if kind == "load":
        segmenter.load()
        return LoadedFacts(segmenter.card, segmenter.runtime, segmenter.notice)
    if kind == "warm_up_for":
        segmenter.warm_up_for(*args)
        return None
    if kind == "predict":
        name, height, width = args
        block = attached(name)
        views: _Views | None = _Views(block.buf, height, width)
        # Straight into the block: a 12 MP photo's fresh 60 MB and their copy cost ~10 ms.
        out: tuple | None = (views.alpha, views.trimap)
        result = None
        try:
            try:
                result = segmenter.predict(views.photo, cancelled=cancel.is_set, out=out)
            except Exception as err:
                # Without its traceback: the frames in it view the block, which may be replaced.
                raise err.with_traceback(None) from None
            probabilities = result.probabilities
        finally:
            views = out = result = None  # no view of the block may remain when it is replaced
        return probabilities
    raise ValueError(f"unknown request {kind!r}")
