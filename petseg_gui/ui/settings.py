"""The app's persistent settings: one table of defaults, typed reads, and a switchable store.

Every key the app persists is listed in ``DEFAULTS``; ``get`` returns the stored value coerced to
the type of its default (an INI file gives back strings), so callers never parse. Tests and the
screenshot mode call ``use_ini(path)`` so that nothing touches the user's real settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

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


def use_ini(path: str | Path | None) -> None:
    """Store settings in the INI file at ``path`` (``None``: the platform's native store)."""
    global _ini_path
    _ini_path = Path(path) if path is not None else None


def _store() -> QSettings:
    if _ini_path is not None:
        return QSettings(str(_ini_path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


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
    value = _store().value(key, default)
    return _coerce(value, default)


def set(key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (which must be in ``DEFAULTS``)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    store = _store()
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
