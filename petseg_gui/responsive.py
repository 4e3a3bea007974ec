"""Keep the GUI thread first in line for the CPU and the GIL while workers compute.

On a 2-core machine a render's two bands, a segmentation and a sidecar write can all be
runnable at once. The GUI thread then waits twice for every slot it runs: for a core (the
kernel shares them out evenly) and for the GIL (CPython hands it over only every
``sys.getswitchinterval()`` seconds, 5 ms by default, while a worker runs Python code).
Workers therefore run at a lower scheduling priority (a higher nice value, Linux: per thread)
and the switch interval is shortened; benchmarks/gui_latency.py measures the stalls.

A full garbage collection holds the GIL while it walks every tracked object: with the editor's
~45,000 objects from start-up (modules, classes, Qt wrappers) that is 4-7 ms on a quiet 2-core
machine and 14-18 ms on a busy one, whichever thread triggers it. Once the start-up objects
exist (the window is up, the model loaded) ``freeze_start_up_objects`` moves them out of the
collector's sight (``gc.freeze``): they live as long as the process anyway, and later full
collections walk only what was made since.

Qt-free: the band threads (parallel.py: the effects' and the matte's) call ``background_thread``
too. It acts only in a process where the GUI called ``keep_gui_responsive``: the command line
keeps its threads at the priority it was started with.
"""

from __future__ import annotations

import gc
import os
import sys
import threading

# PETSEG_NICE=0 and PETSEG_SWITCH=0 turn either off (how docs/EFFECTS.md's before/after of
# benchmarks/gui_latency.py was measured).
# Nice value added to worker threads: at +5 a busy worker gets ~1/3 of the weight of the GUI
# thread when both want a core, yet still all the CPU the GUI thread leaves idle.
WORKER_NICENESS = int(os.environ.get("PETSEG_NICE", "5"))
# How often a thread running Python code offers the GIL to a waiting one (seconds).
SWITCH_INTERVAL_S = float(os.environ.get("PETSEG_SWITCH", "0.001"))

_worker_nice: int | None = None  # the nice value workers run at (None: not a GUI process)
_frozen = False  # freeze_start_up_objects has run


def keep_gui_responsive() -> None:
    """Called by the GUI thread (idempotent): the short GIL switch interval, and worker threads
    lowered from now on (to the GUI thread's nice value + WORKER_NICENESS)."""
    global _worker_nice
    if SWITCH_INTERVAL_S > 0:
        sys.setswitchinterval(SWITCH_INTERVAL_S)
    if _worker_nice is None and WORKER_NICENESS > 0 and sys.platform.startswith("linux"):
        try:
            _worker_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        except OSError:
            return
        _worker_nice = min(19, _worker_nice + WORKER_NICENESS)


def worker_nice() -> int | None:
    """The nice value workers run at in a GUI process (for a child process the GUI starts to
    work for it); None elsewhere."""
    return _worker_nice


def background_thread() -> None:
    """Lower the calling worker thread's scheduling priority, in a GUI process on Linux (where
    a thread has its own nice value; elsewhere, and if refused, nothing changes).

    An absolute value, set on every call (a system call, ~1 us): a pool thread may come back
    with a new Python thread state, so "once per thread" cannot be told apart from "again"."""
    if _worker_nice is None:
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < _worker_nice:
            os.setpriority(os.PRIO_PROCESS, tid, _worker_nice)
    except OSError:
        pass


def freeze_start_up_objects() -> bool:
    """Once per process (later calls do nothing, and say so: False): collect the young
    generations, then leave every object alive now out of later collections. The GUI calls it
    when a model has loaded: the last of start-up's imports have run. Only the first time: a
    later photo's or window's objects come and go, and while frozen objects are still freed by
    reference counting, a cycle among them that became garbage would never be."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    # Only the young generations first: a full collection here walked all ~49,000 start-up
    # objects (14-30 ms, on the GUI thread, when the window is already up) and found nothing
    # to free; what start-up left as garbage lies in the young generations if anywhere.
    gc.collect(1)
    gc.freeze()
    return True
