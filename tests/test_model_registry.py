"""The model registry: where user models live, which folders count as models, their order."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

from petseg_gui import model_registry
from petseg_gui.errors import PetsegError
from petseg_gui.model_registry import (
    check_output_location,
    list_models,
    read_card,
    suggest_model_dir,
    user_models_dir,
)


def write_model(folder: Path, *, created: str | None = None, **card_changes) -> Path:
    """A folder that passes the structural check (the registry never loads the Keras file)."""
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"weights")
    card = {
        "format": "petseg-model",
        "format_version": 1,
        "name": folder.name,
        "input_size": 128,
        "classes": ["subject", "background", "boundary"],
        "sha256": "0" * 64,
    }
    if created:
        card["created"] = created
    card.update(card_changes)
    card = {k: v for k, v in card.items() if v is not None}
    (folder / "model.json").write_text(json.dumps(card))
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setattr(model_registry, "_bundled_model_dir", lambda: None)
    return tmp_path / "appdata"


def test_user_models_dir_honours_the_env_override(data_dir):
    assert user_models_dir() == data_dir / "models"


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg/petseg/models"),
        ("linux", {"XDG_DATA_HOME": "relative"}, "HOME/.local/share/petseg/models"),
        ("linux", {}, "HOME/.local/share/petseg/models"),
        ("darwin", {}, "HOME/Library/Application Support/petseg/models"),
        ("win32", {"APPDATA": "/roaming"}, "/roaming/petseg/models"),
    ],
)
def test_user_models_dir_per_platform(monkeypatch, tmp_path, platform, env, expected):
    for name in ("PETSEG_DATA_DIR", "XDG_DATA_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    assert user_models_dir() == Path(expected.replace("HOME", str(tmp_path)))


def test_list_models_bundled_first_then_newest_user_models(data_dir, tmp_path, monkeypatch):
    bundled = write_model(tmp_path / "resources_model", name="people-224")
    monkeypatch.setattr(model_registry, "_bundled_model_dir", lambda: bundled)
    models = data_dir / "models"
    write_model(models / "old", created="2026-01-01T10:00:00+00:00")
    write_model(models / "new", created="2026-06-01T10:00:00+00:00")
    no_date = write_model(models / "undated", created=None)
    os.utime(no_date / "model.json", (0, 0))  # mtime 1970: oldest of all

    entries = list_models()

    assert [(e.name, e.bundled) for e in entries] == [
        ("people-224", True),
        ("new", False),
        ("old", False),
        ("undated", False),
    ]
    assert entries[1].path == models / "new"
    assert entries[1].card["input_size"] == 128


def test_list_models_skips_broken_and_unfinished_folders(data_dir):
    models = data_dir / "models"
    write_model(models / "good")
    write_model(models / "run.partial")  # a training still in progress
    write_model(models / "wrong-format", format="something-else")
    write_model(models / "no-size", input_size=None)
    (write_model(models / "no-weights") / "model.keras").unlink()
    (models / "bad-json").mkdir()
    (models / "bad-json" / "model.json").write_text("{not json")
    (models / "bad-json" / "model.keras").write_bytes(b"x")
    (models / "empty").mkdir()
    (models / "stray-file.txt").write_text("not a folder")

    assert [e.name for e in list_models()] == ["good"]


def test_list_models_without_any_models_folder(data_dir):
    assert list_models() == []


def test_list_models_skips_a_bundled_folder_without_card(data_dir, tmp_path, monkeypatch):
    empty = tmp_path / "bundled"
    empty.mkdir()
    monkeypatch.setattr(model_registry, "_bundled_model_dir", lambda: empty)
    assert list_models() == []


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"format": "other"}, "format"),
        ({"format_version": 2}, "format_version 2"),
        ({"sha256": None}, "lacks required keys sha256"),
        ({"input_size": 4}, "input_size must be an integer of at least 8"),
        ({"classes": ["a", "b", "c"]}, "classes"),
        ({"input_size": "big"}, "input_size"),
    ],
)
def test_read_card_names_the_file_and_the_problem(tmp_path, change, needle):
    folder = write_model(tmp_path / "m", **change)
    with pytest.raises(PetsegError) as info:
        read_card(folder)
    message = str(info.value)
    assert needle in message and str(folder / "model.json") in message
    assert "\n" not in message


def test_read_card_of_missing_folder_and_missing_weights(tmp_path):
    with pytest.raises(PetsegError, match="model folder not found"):
        read_card(tmp_path / "nowhere")
    folder = write_model(tmp_path / "m")
    (folder / "model.keras").unlink()
    with pytest.raises(PetsegError, match="model.keras: file missing"):
        read_card(folder)


def test_menu_and_loader_judge_a_card_alike(data_dir, tiny_model_dir):
    """Issue 11: a card with ``input_size: 4`` was listed in the Model menu and then refused by
    the loader with other advice; one validator now serves both."""
    from petseg_gui.inference import read_card as loader_read_card

    folder = write_model(user_models_dir() / "tiny-input", input_size=4)
    assert list_models() == []
    with pytest.raises(PetsegError) as menu:
        read_card(folder)
    with pytest.raises(PetsegError) as loader:
        loader_read_card(folder)
    assert str(menu.value) == str(loader.value)
    assert "input_size must be an integer of at least 8" in str(menu.value)
    assert read_card(tiny_model_dir) == loader_read_card(tiny_model_dir)


def test_read_card_accepts_the_real_tiny_model(tiny_model_dir):
    assert read_card(tiny_model_dir)["input_size"] == 64


def test_suggest_model_dir_is_new_and_readable(data_dir):
    when = datetime(2026, 11, 24)
    first = suggest_model_dir("my photos/2026", 224, when)
    assert first == data_dir / "models" / "my-photos-2026-224-2026-11-24"
    first.mkdir(parents=True)
    second = suggest_model_dir("my photos/2026", 224, when)
    assert second.name == "my-photos-2026-224-2026-11-24-2"
    (second.parent / (second.name + ".partial")).mkdir()  # a stopped run also takes the name
    assert suggest_model_dir("my photos/2026", 224, when).name.endswith("-3")


def test_check_output_location_creates_parent_and_refuses_bad_places(tmp_path):
    check_output_location(tmp_path / "new" / "deeper" / "model")
    assert (tmp_path / "new" / "deeper").is_dir()
    assert list((tmp_path / "new" / "deeper").iterdir()) == []  # the probe is cleaned up

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(PetsegError, match="cannot write there"):
        check_output_location(blocker / "model")

    existing = write_model(tmp_path / "done")
    with pytest.raises(PetsegError, match="a model is already there"):
        check_output_location(existing)
