"""The background runner: latest request wins, stale results are dropped, errors reach the GUI."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool

from petseg_gui.errors import PetsegError
from petseg_gui.ui.workers import LatestRunner


@pytest.fixture
def runner(qtbot):
    pool = QThreadPool()
    r = LatestRunner("test", pool)
    yield r
    r.cancel()
    pool.waitForDone()
    assert pool.activeThreadCount() == 0


def test_pending_requests_coalesce_and_only_the_latest_result_arrives(qtbot, runner) -> None:
    gate = threading.Event()
    ran: list[str] = []
    seen_cancel: list[bool] = []
    results: list[str] = []
    runner.succeeded.connect(lambda r: results.append(r.value))

    def blocking(cancelled):
        gate.wait(10)
        seen_cancel.append(cancelled())
        ran.append("first")
        return "first"

    def job(name):
        def run(cancelled):
            ran.append(name)
            return name

        return run

    runner.submit(blocking)
    runner.submit(job("second"))  # replaced by the third before it can start
    last = runner.submit(job("third"))
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert ran == ["first", "third"]
    assert seen_cancel == [True]  # the running job could see that it was superseded
    assert results == ["third"]
    assert runner.generation == last


def test_user_errors_are_reported_and_stale_errors_are_not(qtbot, runner) -> None:
    failures: list[Exception] = []
    runner.failed.connect(failures.append)
    gate = threading.Event()

    def stale_failure(cancelled):
        gate.wait(10)
        raise RuntimeError("nobody cares any more")

    def user_error(cancelled):
        raise PetsegError("photo.png: unreadable; choose another file")

    runner.submit(stale_failure)
    runner.submit(user_error)
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert [str(e) for e in failures] == ["photo.png: unreadable; choose another file"]


def test_cancel_drops_the_running_result(qtbot, runner) -> None:
    gate = threading.Event()
    results: list[object] = []
    runner.succeeded.connect(results.append)
    runner.submit(lambda cancelled: gate.wait(10))
    runner.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert results == []
