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
    stalls = [(10.0, 10.030), (20.0, 20.020)]
    # the 30 ms stall was paused 25 ms by the machine, the 20 ms one not at all
    pauses = [(10.002, 10.027)]
    assert gui_latency.own_stall(stalls, pauses, floor=0.004) == pytest.approx(0.020)
    assert gui_latency.own_stall(stalls, [], floor=0.004) == pytest.approx(0.030)
    # nothing listed: the floor (the longest stall too short to be listed)
    assert gui_latency.own_stall([], pauses, floor=0.003) == 0.003


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
