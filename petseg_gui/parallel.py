"""Both cores for one render or one matte: independent row bands on a small thread pool.

Most OpenCV calls a render makes run on one thread (filter2D, the arithmetic, LUT, split and
merge; only resize and a few filters use OpenCV's own pool), and all of them release the GIL, as
the compiled passes do. So bands of rows whose results do not depend on each other (blurred with
a margin, shrunk in whole blocks, sharpened with their context, a matte's strips) are spread over
``workers()`` threads: on an idle 2-core machine a 1600 px preview's blur stage takes ~55% of its
one-thread time, a 12 MP matte's full-resolution pass ~60%.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from threading import Lock
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# More bands than this do not pay on a desktop (and each band repeats its margin's work).
MAX_WORKERS = 4
# Below this many pixels a band's thread hand-off (~0.1 ms) costs more than it saves.
MIN_PARALLEL_PIXELS = 60_000

_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


def workers() -> int:
    """Bands to split into: OpenCV's thread count (so cv2.setNumThreads(1) means one)."""
    import cv2

    return max(1, min(MAX_WORKERS, cv2.getNumThreads()))


def row_bands(rows: int, pixels: int, *, multiple: int = 1) -> list[slice]:
    """``rows`` split into up to workers() contiguous bands, each a whole number of ``multiple``
    rows (but the last); one band when ``pixels`` (the job's size) is below MIN_PARALLEL_PIXELS."""
    count = workers() if pixels >= MIN_PARALLEL_PIXELS else 1
    units = -(-rows // multiple)
    count = max(1, min(count, units))
    bounds = [min(rows, round(units * i / count) * multiple) for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def map_bands(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(item) for item in items]``, the items on the pool's threads (the first in the
    calling thread, which would otherwise only wait)."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    futures = [_executor().submit(_in_background, fn, item) for item in items[1:]]
    first = fn(items[0])
    return [first, *(future.result() for future in futures)]


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_WORKERS - 1, thread_name_prefix="petseg-bands")
        return _pool


def _in_background(fn: Callable[[T], R], item: T) -> R:
    """``fn(item)`` on a pool thread, at a worker's priority in a GUI process (responsive.py;
    a system call per band, so a pool made before the window was still runs below the GUI)."""
    from petseg_gui.responsive import background_thread

    background_thread()
    return fn(item)
