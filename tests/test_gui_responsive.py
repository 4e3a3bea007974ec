"""Workers give way to the GUI thread: a lower scheduling priority (Linux) and a short GIL
switch interval, in a GUI process only (petseg_gui.responsive)."""

from __future__ import annotations

import gc
import os
import sys
import threading

import pytest
from PySide6.QtCore import QThreadPool

from petseg_gui import responsive
from petseg_gui.ui.workers import LatestRunner

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def in_thread(fn):
    box = []
    thread = threading.Thread(target=lambda: box.append(fn()))
    thread.start()
    thread.join()
    return box[0]


@pytest.fixture
def fresh(monkeypatch):
    """The module as in a process where no window was made yet; the interval restored after."""
    monkeypatch.setattr(responsive, "_worker_nice", None)
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)


@linux_only
def test_threads_keep_their_priority_outside_the_gui(fresh) -> None:
    def lowered() -> int:
        responsive.background_thread()
        return own_nice()

    assert in_thread(lowered) == own_nice()  # the command line's threads are left alone


@linux_only
def test_after_the_gui_asks_workers_run_lower_once_and_the_interval_is_short(fresh) -> None:
    responsive.keep_gui_responsive()
    assert sys.getswitchinterval() == pytest.approx(responsive.SWITCH_INTERVAL_S)
    target = min(19, own_nice() + responsive.WORKER_NICENESS)

    def lowered_twice() -> tuple[int, int]:
        responsive.background_thread()
        first = own_nice()
        responsive.background_thread()  # a pool thread runs many jobs: no creeping to 19
        return first, own_nice()

    assert in_thread(lowered_twice) == (target, target)
    assert own_nice() < target  # the GUI thread itself keeps its priority


@linux_only
def test_runner_jobs_run_below_the_gui_thread(qtbot, fresh) -> None:
    responsive.keep_gui_responsive()
    pool = QThreadPool()
    runner = LatestRunner("test", pool)
    results = []
    runner.succeeded.connect(lambda result: results.append(result.value))
    runner.submit(lambda cancelled: own_nice())
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    pool.waitForDone()
    assert results == [min(19, own_nice() + responsive.WORKER_NICENESS)]


@linux_only
def test_effect_band_threads_run_below_the_gui_thread(fresh, monkeypatch) -> None:
    from petseg_gui import parallel

    parallel.map_bands(lambda _: None, [0, 1])  # a pool made before the window: still lowered
    responsive.keep_gui_responsive()
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    nices = parallel.map_bands(lambda _: (threading.get_ident(), own_nice()), [0, 1])
    (caller, caller_nice), (band, band_nice) = nices
    assert caller == threading.get_ident() and caller_nice == own_nice()  # the caller's own
    assert band != caller and band_nice == min(19, own_nice() + responsive.WORKER_NICENESS)


def test_freezing_the_start_up_runs_no_full_collection(monkeypatch) -> None:
    """Freezing must not itself walk every start-up object: a full collection there took 14-30
    ms on the GUI thread, with the window already up, and found nothing to free. It collects
    the young generations only (recent garbage), then freezes."""
    monkeypatch.setattr(responsive, "_frozen", False)
    generations: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        assert responsive.freeze_start_up_objects()
        assert gc.get_freeze_count() > 0
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()  # this test process's objects go on being collected as before
    assert generations and max(generations) < 2


FREEZE_SCRIPT = """
import gc, sys
from PySide6.QtWidgets import QApplication
from petseg_gui import responsive
from petseg_gui.ui import settings
from petseg_gui.ui.main_window import MainWindow

app = QApplication([])
settings.use_ini(sys.argv[2])
assert gc.get_freeze_count() == 0
window = MainWindow(model_dir=sys.argv[1], persist=False)
loaded = []
window.session.modelChanged.connect(loaded.append)
while not loaded:
    app.processEvents()
frozen = gc.get_freeze_count()
print(frozen, responsive.freeze_start_up_objects(), gc.get_freeze_count() == frozen)
window.close()
"""


def test_start_up_objects_are_frozen_once_when_the_first_model_loads(
    tiny_tflite_model_dir, tmp_path
) -> None:
    """A full garbage collection must not walk the start-up's objects again and again (a stall
    of 4-18 ms each, holding the GIL). In a fresh process: nothing frozen before the window,
    the start-up's objects frozen once the model has loaded, and a second call does nothing."""
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", FREEZE_SCRIPT, str(tiny_tflite_model_dir), tmp_path / "s.ini"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    frozen, again, unchanged = done.stdout.split()
    assert int(frozen) > 10_000  # the modules, classes and Qt wrappers of the start-up
    assert again == "False" and unchanged == "True"
