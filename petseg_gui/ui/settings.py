"""The app's persistent settings: one table of defaults, typed reads, and a switchable store.

Every key the app persists is listed in ``DEFAULTS``; ``get`` returns the stored value coerced to
the type of its default (an INI file gives back strings), so callers never parse. Tests and the
screenshot mode call ``use_ini(path)`` so that nothing touches the user's real settings.

Writing happens on a thread of its own (``_Writer``): a QSettings sync takes a lock file and
calls fdatasync twice, ~2 ms on an idle disk but 150-280 ms on a busy one (seen on photo open,
which stores the folder and the recent files, in 3 of ~25 runs of benchmarks/gui_latency.py).
Called from Python, sync holds the GIL all along, so it stalls the GUI thread from any Python
thread; the writer only hands the value to its QSettings, whose own deferred sync then runs in
that thread's event loop, in C++, without the GIL. Reads come from memory: the store is read
once (a QSettings made while the writer holds unsynced values syncs them itself, on the reading
thread), and values set in this process are read back at once; ``flush`` waits until they are
on disk.
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QMetaObject,
    QObject,
    QSettings,
    Qt,
    QThread,
    Signal,
    Slot,
)

ORGANIZATION = "petseg"
APPLICATION = "petseg-gui"
MAX_RECENT_FILES = 10

DEFAULTS: dict[str, Any] = {
    "window/geometry": QByteArray(),
    "window/state": QByteArray(),
    "files/last_folder": str(Path.home()),
    "files/recent": [],
    "edit/enabled": True,
    "edit/blur": 50,
    "edit/sharpen": 30,
    "view/trimap_opacity": 60,
    "save/jpeg_quality": 92,
    "model/path": "",  # empty = the bundled model
}

_ini_path: Path | None = None
# The settings as this process knows them: the stored values, read once, then every value set.
_values: dict[str, Any] | None = None


def use_ini(path: str | Path | None) -> None:
    """Store settings in the INI file at ``path`` (``None``: the platform's native store). What
    was set before is written to the previous store first."""
    global _ini_path, _values
    flush()
    _values = None
    _ini_path = Path(path) if path is not None else None


def _known() -> dict[str, Any]:
    """_values, read from the store on first use."""
    global _values
    if _values is None:
        store = _store(_ini_path)
        _values = {key: store.value(key) for key in DEFAULTS if store.contains(key)}
    return _values


def _store(ini_path: Path | None = None) -> QSettings:
    if ini_path is not None:
        return QSettings(str(ini_path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


class _Writer(QObject):
    """Lives on the settings thread: its QSettings objects are made, written and synced there."""

    def __init__(self) -> None:
        super().__init__()
        self._stores: dict[Path | None, QSettings] = {}

    @Slot(object, str, object)
    def write(self, ini_path: Path | None, key: str, value: Any) -> None:
        store = self._stores.get(ini_path)
        if store is None:
            store = self._stores[ini_path] = _store(ini_path)
        # No sync() here: QSettings posts itself an update request and syncs from this thread's
        # event loop, without the GIL (see the module docstring).
        store.setValue(key, value)

    @Slot()
    def flush(self) -> None:
        for store in self._stores.values():
            store.sync()


class _WriterThread(QObject):
    """The settings thread as the calling thread sees it: ``write`` queues a value to the
    ``_Writer`` living on ``worker_thread``."""

    write = Signal(object, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.worker_thread = QThread()
        self.worker_thread.setObjectName("petseg-settings")
        self.writer = _Writer()
        self.writer.moveToThread(self.worker_thread)
        self.write.connect(self.writer.write, Qt.ConnectionType.QueuedConnection)
        self.worker_thread.start()


_writer: _WriterThread | None = None


def _background_writer() -> _WriterThread | None:
    """The settings thread, started on first use; None without a Qt application (no event
    loop to sync from: then ``set`` syncs in place)."""
    global _writer
    if _writer is None and QCoreApplication.instance() is not None:
        _writer = _WriterThread()
        atexit.register(_stop_writer)
    return _writer


def flush() -> None:
    """Wait until everything set so far is written and synced to the store."""
    if _writer is not None and _writer.worker_thread.isRunning():
        QMetaObject.invokeMethod(
            _writer.writer, "flush", Qt.ConnectionType.BlockingQueuedConnection
        )


def _stop_writer() -> None:
    global _writer
    if _writer is None:
        return
    flush()
    _writer.worker_thread.quit()
    _writer.worker_thread.wait()
    _writer = None


def _coerce(value: Any, default: Any) -> Any:
    # Order matters: bool is an int subclass, and INI files hand everything back as strings.
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return default
    if isinstance(default, list):
        if value is None or value == "":
            return []
        # QSettings returns a bare string for a one-element list in INI files.
        return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    if isinstance(default, QByteArray):
        return value if isinstance(value, QByteArray) else default
    return str(value) if value is not None else default


def get(key: str) -> Any:
    """The stored value of ``key``, or its default; raises KeyError for an unknown key."""
    default = DEFAULTS[key]
    return _coerce(_known().get(key, default), default)


def set(key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (which must be in ``DEFAULTS``): readable at once, written
    to disk by the settings thread."""
    if key not in DEFAULTS:
        raise KeyError(key)
    _known()[key] = value
    writer = _background_writer()
    if writer is not None:
        writer.write.emit(_ini_path, key, value)
        return
    store = _store(_ini_path)
    store.setValue(key, value)
    store.sync()


def remember_recent(path: str | Path) -> list[str]:
    """Put ``path`` first in the recent-files list (no duplicates, capped) and return the list."""
    entry = str(Path(path).resolve())
    recent = [p for p in get("files/recent") if p != entry]
    recent.insert(0, entry)
    recent = recent[:MAX_RECENT_FILES]
    set("files/recent", recent)
    return recent
