"""Optional per-stage timing of the renderers, for benchmarks/effects_speed.py.

Off by default: :func:`stage` then costs one global read. Inside ``with recording() as times``
every ``with stage(name)`` block adds its wall time (seconds) to ``times[name]``, so a benchmark
can show where a render's time goes without a profiler's overhead distorting small stages.
Only the recording thread's stages count: a stage split over row bands (parallel.py) is timed
around the whole split, and the stages inside it are those of the band the caller runs itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

_times: dict[str, float] | None = None
_thread: int | None = None  # the recording thread
_IDLE = nullcontext()


def stage(name: str):  # noqa: ANN201 - a context manager; typed loosely to stay cheap
    """Context manager timing one stage of a render (a shared no-op when not recording)."""
    if _times is None or threading.get_ident() != _thread:
        return _IDLE
    return _timed(name, _times)


@contextmanager
def _timed(name: str, times: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        times[name] = times.get(name, 0.0) + time.perf_counter() - start


@contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Collect stage times (seconds, summed per name) of the renders run inside the block."""
    global _times, _thread
    previous = _times, _thread
    _times, _thread = {}, threading.get_ident()
    try:
        yield _times
    finally:
        _times, _thread = previous
