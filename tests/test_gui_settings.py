"""Settings: defaults, typed round-trips through an INI file, recent files."""

from __future__ import annotations

import pytest

from petseg_gui.ui import settings


@pytest.fixture(autouse=True)
def ini(tmp_path):
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
