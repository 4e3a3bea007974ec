"""Settings: defaults, typed round-trips through an INI file, recent files."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from petseg_gui.ui import settings


@pytest.fixture(autouse=True)
def ini(qapp, tmp_path):
    # With the application there, as in the app: writes go through the settings thread.
    path = tmp_path / "settings.ini"
    settings.use_ini(path)
    yield path
    settings.use_ini(None)


def test_defaults_when_nothing_is_stored() -> None:
    for key, default in settings.DEFAULTS.items():
        assert settings.get(key) == default


def test_values_round_trip_with_their_types(ini) -> None:
    settings.set("edit/blur", 73)
    settings.set("edit/enabled", False)
    settings.set("model/path", "/models/people-224")
    settings.set("files/recent", ["/a.jpg"])  # a one-element list comes back as a string in INI
    settings.use_ini(ini)  # a fresh QSettings on the same file
    assert settings.get("edit/blur") == 73
    assert settings.get("edit/enabled") is False
    assert settings.get("model/path") == "/models/people-224"
    assert settings.get("files/recent") == ["/a.jpg"]
    assert "blur=73" in ini.read_text()


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(KeyError):
        settings.set("edit/typo", 1)
    with pytest.raises(KeyError):
        settings.get("edit/typo")


def test_recent_files_are_unique_newest_first_and_capped(tmp_path) -> None:
    paths = [tmp_path / f"p{i}.jpg" for i in range(settings.MAX_RECENT_FILES + 3)]
    for p in paths:
        settings.remember_recent(p)
    settings.remember_recent(paths[-5])
    recent = settings.get("files/recent")
    assert recent[0] == str(paths[-5].resolve())
    assert len(recent) == settings.MAX_RECENT_FILES
    assert len(set(recent)) == len(recent)


HOLD_LOCK = """
import sys, time
from PySide6.QtCore import QLockFile
lock = QLockFile(sys.argv[1])
assert lock.lock()
print("locked", flush=True)
time.sleep(1.5)
lock.unlock()
"""


def test_set_never_waits_for_the_disk(ini) -> None:
    # Another process holds the settings file's lock (a busy disk stalls a sync the same way):
    # set() returns at once and the value reads back; flush() writes it once the lock is free.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, f"{ini}.lock"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.perf_counter()
        settings.set("edit/blur", 12)
        settings.remember_recent(ini)
        assert time.perf_counter() - start < 0.5
        assert settings.get("edit/blur") == 12
        assert settings.get("files/recent") == [str(ini.resolve())]
        settings.flush()
        assert time.perf_counter() - start > 0.8, "the write should have waited for the lock"
    finally:
        holder.wait(timeout=10)
    assert "blur=12" in ini.read_text()
    settings.use_ini(ini)  # nothing kept in memory: read back from the file
    assert settings.get("edit/blur") == 12


def test_values_reach_the_disk_without_a_flush(qtbot, ini) -> None:
    # The writer thread's QSettings syncs by itself, from that thread's event loop: a value
    # set during a session is on disk soon, not only when the app quits.
    settings.set("edit/sharpen", 7)
    qtbot.waitUntil(lambda: ini.is_file() and "sharpen=7" in ini.read_text(), timeout=5000)
