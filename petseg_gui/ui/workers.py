"""Background work on a QThreadPool, and a runner where the latest request wins.

``FunctionWorker`` (modelled on superqt's WorkerBase) runs one callable on a pool thread and
reports through a signals object that lives in the GUI thread, so its slots run there.

``LatestRunner`` is how the editor talks to slow work (segmenting, rendering, saving): at most one
job runs at a time, a request made while one runs replaces any pending request (coalescing: a
slider drag of 60 steps costs as many renders as the machine can finish, not 60), and the result
of a job that a newer request superseded is dropped instead of painted. Each job gets a
``cancelled()`` callable that turns true once it is superseded, so long work can stop early.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from petseg_gui.responsive import background_thread

log = logging.getLogger(__name__)

Job = Callable[[Callable[[], bool]], Any]
"""A unit of background work: called with ``cancelled`` and returns its result."""


class WorkerSignals(QObject):
    returned = Signal(object)  # the callable's return value
    errored = Signal(object)  # the exception it raised
    finished = Signal()  # always, after returned or errored


class FunctionWorker(QRunnable):
    """Run ``fn()`` on a pool thread; report through ``self.signals``."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn
        # The signals object is created here, in the GUI thread, so queued connections deliver
        # its signals to slots in the GUI thread.
        self.signals = WorkerSignals()
        self.setAutoDelete(True)

    def run(self) -> None:
        background_thread()
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI thread
            self.signals.errored.emit(exc)
        else:
            self.signals.returned.emit(result)
        finally:
            self.signals.finished.emit()


@dataclass(frozen=True)
class JobResult:
    value: Any  # what the job returned (each runner's owner knows its type)
    seconds: float  # wall time of the job itself, on the worker thread


class _Timed:
    """Wraps a job so the worker thread measures its own duration."""

    def __init__(self, job: Job, cancelled: Callable[[], bool]) -> None:
        self._job = job
        self._cancelled = cancelled

    def __call__(self) -> tuple[Any, float]:
        start = time.perf_counter()
        value = self._job(self._cancelled)
        return value, time.perf_counter() - start


class LatestRunner(QObject):
    """At most one job in flight; newer requests replace pending ones; stale results are dropped.

    Only the latest request's outcome is reported: ``succeeded`` (a JobResult) or ``failed``.
    """

    succeeded = Signal(object)  # JobResult
    failed = Signal(object)  # the exception (never for a stale job)
    busyChanged = Signal(bool)

    def __init__(self, name: str, pool: QThreadPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._pool = pool or QThreadPool.globalInstance()
        self._generation = 0
        self._pending: tuple[int, Job] | None = None
        self._running: FunctionWorker | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, job: Job) -> int:
        """Queue ``job`` as the latest request; returns its generation."""
        was_busy = self.busy
        self._generation += 1
        if self._running is None:
            self._start(self._generation, job)
        else:
            self._pending = (self._generation, job)  # replaces (coalesces) an older pending job
        if not was_busy:
            self.busyChanged.emit(True)
        return self._generation

    def cancel(self) -> None:
        """Make every submitted job stale: pending ones never run, a running one is told to stop."""
        was_busy = self.busy
        self._generation += 1
        self._pending = None
        if was_busy and self._running is None:
            self.busyChanged.emit(False)

    def _start(self, generation: int, job: Job) -> None:
        def cancelled() -> bool:
            return generation != self._generation

        worker = FunctionWorker(_Timed(job, cancelled))
        worker.signals.returned.connect(lambda out: self._on_returned(generation, out))
        worker.signals.errored.connect(lambda exc: self._on_errored(generation, exc))
        worker.signals.finished.connect(self._on_finished)
        self._running = worker
        self._pool.start(worker)

    def _on_returned(self, generation: int, out: tuple[Any, float]) -> None:
        if generation == self._generation:
            value, seconds = out
            self.succeeded.emit(JobResult(value, seconds))

    def _on_errored(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return  # a superseded job's failure (usually its cancellation) is nobody's concern
        from petseg_gui.errors import PetsegError

        if not isinstance(exc, PetsegError):
            # Not the user's fault: keep the whole story for the bug report.
            log.error(
                "%s job failed:\n%s",
                self.name,
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            )
        self.failed.emit(exc)

    def _on_finished(self) -> None:
        self._running = None
        if self._pending is not None:
            generation, job = self._pending
            self._pending = None
            self._start(generation, job)
        else:
            self.busyChanged.emit(False)
