"""benchmarks/gui_latency.py's baseline for GUI stalls: the machine's own pauses, seen by an idle
process, and the stall less them (the editor's own share, which carries the <= 16 ms goal)."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gui_latency():
    spec = importlib.util.spec_from_file_location(
        "gui_latency_bench", ROOT / "benchmarks" / "gui_latency.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_overlap_counts_only_the_pauses_inside_the_stall(gui_latency):
    pauses = [(0.0, 1.0), (2.0, 2.5), (3.0, 4.0)]
    assert gui_latency.overlap(0.5, 3.5, pauses) == pytest.approx(0.5 + 0.5 + 0.5)
    assert gui_latency.overlap(1.0, 2.0, pauses) == 0.0
    assert gui_latency.overlap(2.1, 2.2, pauses) == pytest.approx(0.1)


def test_own_stall_is_the_longest_stall_less_its_pauses(gui_latency):
    # (from, to, seconds the GUI thread ran): a 30 ms stall the machine paused 25 ms of, and a
    # 20 ms one it did not pause
    stalls = [(10.0, 10.030, 0.001), (20.0, 20.020, 0.001)]
    pauses = [(10.002, 10.027)]
    assert gui_latency.own_stall(stalls, pauses, floor=0.004) == pytest.approx(0.020)
    assert gui_latency.own_stall(stalls, [], floor=0.004) == pytest.approx(0.030)
    # nothing listed: the floor (the longest stall too short to be listed)
    assert gui_latency.own_stall([], pauses, floor=0.003) == 0.003


def test_own_stall_never_credits_the_machine_with_the_gui_threads_own_work(gui_latency):
    # the probe was held back all through the stall, but the GUI thread ran 18 ms of it
    stalls = [(10.0, 10.030, 0.018)]
    assert gui_latency.own_stall(stalls, [(10.0, 10.030)], floor=0.0) == pytest.approx(0.018)
    # its running time is measured over the timer's whole tick: never more than the stall
    stalls = [(10.0, 10.006, 0.009)]
    assert gui_latency.own_stall(stalls, [], floor=0.0) == pytest.approx(0.006)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the probe runs on Linux only")
def test_probe_reports_the_time_it_was_held_back(gui_latency):
    probe = gui_latency.PauseProbe()
    assert probe.running
    time.sleep(0.5)  # started and sleeping in its loop
    pid = probe._proc.pid  # noqa: SLF001
    os.kill(pid, signal.SIGSTOP)  # the machine "pauses" it
    stopped = time.perf_counter()
    time.sleep(0.1)
    resumed = time.perf_counter()
    os.kill(pid, signal.SIGCONT)
    time.sleep(0.05)
    pauses = probe.stop()
    held = gui_latency.overlap(stopped, resumed, pauses)
    assert held == pytest.approx(resumed - stopped, abs=0.01)
    assert probe._proc.returncode == 0  # noqa: SLF001 - ended by its closed stdin, cleanly
