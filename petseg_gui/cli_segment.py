"""``petseg segment`` on many photos: decode and segment the next photos while this one is written.

Per photo, after start-up, the command did one forward pass plus ~50 ms of other work in a row
(profiled with cProfile on 40 photos of 0.2 MP: guided-filter coefficients ~20 ms, PNG encode
~10 ms, two fsyncs ~4 ms, decode ~2 ms, planning the outputs ~5 ms per photo, quadratic in the
photos). Now two worker threads each take a photo through decode -> segment -> output pixels
while the main thread writes the previous results, in order; each worker's forward pass runs on
its own single-thread interpreter (Segmenter ``workers``), so the two photos' passes and the
rest overlap on the cores. OpenCV, numpy, LiteRT, zlib and fsync all release the GIL.
docs/INFERENCE.md has the measurements.

The command's behaviour is unchanged: outputs are written by the main thread, one at a time,
atomically and in input order, with the same progress lines and one-line errors; Ctrl-C stops
after the photo being written (work already started on the next ones is dropped, unwritten).
"""

from __future__ import annotations

import os
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from petseg_gui.cli_terminal import Progress, StopFlag, failure_text
from petseg_gui.errors import PetsegError

if TYPE_CHECKING:
    import numpy as np

OVERLAY_OPACITY = 0.5
# Photos in flight, each with its own LiteRT interpreter (Segmenter(workers=...)): on the
# 2-core machine two 1-thread forward passes side by side beat one 2-thread pass (~45 against
# ~60-80 ms a photo). More than the cores would only hold more photos in memory.
MAX_WORKERS = 2


def segment_workers(photos: int) -> int:
    """Photos in flight for a run of ``photos`` (one photo: one 2-thread interpreter)."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, photos))


# Mattes and trimaps are flat images: deflate level 1 is 2.6x faster than 6 for a 24% larger
# file (a 0.2 MP matte: 3.7 ms, 46 kB).
MATTE_PNG_LEVEL = 1


def output_pixels(plan: Any, rgb: np.ndarray, segmenter: Any, stopped: Callable[[], bool]):
    """What ``segment --format`` writes for one photo: (pixels, save options). Runs in a worker;
    ``stopped`` makes an unneeded segmentation stop early (Cancelled)."""
    from petseg_gui.overlay import matte_to_grey, trimap_overlay

    result = segmenter.predict(rgb, cancelled=stopped)
    if plan.format == "alpha":
        return matte_to_grey(result.alpha), {"png_level": MATTE_PNG_LEVEL}
    if plan.format == "oxford":
        # The Oxford-IIIT Pet files store the class index plus one: 1, 2, 3.
        return result.trimap + 1, {"png_level": MATTE_PNG_LEVEL}
    return trimap_overlay(rgb, result.trimap, OVERLAY_OPACITY), {"quality": 90}


def _prepare(plan: Any, source: Path, segmenter: Any, stopped: Callable[[], bool]):
    from petseg_gui.imaging import load_image

    photo = load_image(source)
    pixels, options = output_pixels(plan, photo.pixels, segmenter, stopped)
    if plan.format == "overlay":
        options["icc_profile"] = photo.icc_profile
    return pixels, options


def segment_all(
    plan: Any,
    segmenter: Any,
    jobs: list[Any],
    progress: Progress,
    stop: StopFlag,
    stderr: TextIO,
) -> tuple[int, int]:
    """Segment every job without a problem; returns (written, failed). ``plan``: cli.CliRun,
    ``jobs``: cli.Job list (those with a ``problem`` were reported already)."""
    from petseg_gui.imaging import save_image
    from petseg_gui.inference import Cancelled

    todo = deque((index, job) for index, job in enumerate(jobs) if not job.problem)
    in_flight: deque[tuple[int, Any, Future]] = deque()
    written = failed = 0
    current = [-1]  # the photo being finished and written: Ctrl-C lets it complete
    abandon = [False]  # a second Ctrl-C: stop every segmentation now
    workers = segment_workers(len(todo))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="petseg-segment")

    def refill() -> None:
        while todo and len(in_flight) < workers and not stop.requested:
            index, job = todo.popleft()

            def stopped(index: int = index) -> bool:
                return abandon[0] or (stop.requested and index != current[0])

            future = pool.submit(_prepare, plan, job.source, segmenter, stopped)
            in_flight.append((index, job, future))

    try:
        current[0] = todo[0][0] if todo else -1  # before any worker can look at it
        refill()
        while in_flight:
            index, job, future = in_flight.popleft()
            if stop.requested and index != current[0]:
                break  # Ctrl-C: the photo in progress was finished; drop the rest
            current[0] = index
            progress.start(index, job.source)
            try:
                pixels, options = future.result()
                refill()  # the next photo starts while this one is written
                save_image(job.target, pixels, overwrite=plan.overwrite, **options)
            except (PetsegError, MemoryError) as error:
                failed += 1
                progress.line(f"error: {failure_text(job.source, error)}")
            except Cancelled:  # not raised for the current photo; kept as a safe stop
                break
            except Exception as error:  # a bug: one line, go on with the other photos
                failed += 1
                if os.environ.get("PETSEG_DEBUG"):
                    traceback.print_exception(error, file=stderr)
                progress.line(
                    f"error: {job.source}: internal error ({type(error).__name__}: "
                    f"{' '.join(str(error).split())}); please report it (PETSEG_DEBUG=1 shows "
                    "details)"
                )
            else:
                written += 1
                progress.written(index, job.source, job.target)
            refill()
    except BaseException:  # the second Ctrl-C (KeyboardInterrupt): drop everything at once
        abandon[0] = True
        raise
    finally:
        # Photos started but not written are dropped: their segmentations poll ``stopped``
        # between stages, so this waits a fraction of a photo at most.
        pool.shutdown(wait=True, cancel_futures=True)
    return written, failed
