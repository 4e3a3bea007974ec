"""Which segmentation models this user has: the bundled one and those trained from the app.

Qt-free on purpose (the CLI and tests use it too), so the per-user data folder is worked out here
with the same rules as Qt's ``QStandardPaths.AppDataLocation``. A model is a folder that honours
the model contract (docs/INTERFACES.md section 1); this module only reads its card, it never loads
the Keras file (listing the Model menu must stay instant).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from petseg_gui.contract import card as card_contract
from petseg_gui.contract.card import CARD_FILE, CardError
from petseg_gui.contract.workdir import is_partial, partial_dir
from petseg_gui.errors import PetsegError

APP_DIR_NAME = "petseg"


@dataclass(frozen=True)
class ModelEntry:
    """One usable model folder. ``name`` is what a menu shows: the card's name for the bundled
    model, the folder name for user models (unique, and what the user chose when training)."""

    name: str
    path: Path
    card: dict
    bundled: bool


def app_data_dir() -> Path:
    """The per-user data folder: ``$PETSEG_DATA_DIR`` if set (tests, portable installs), else the
    platform's application-data location, as Qt's AppDataLocation would give it."""
    override = os.environ.get("PETSEG_DATA_DIR")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("APPDATA")
        return (Path(base) if base else home / "AppData" / "Roaming") / APP_DIR_NAME
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / APP_DIR_NAME
    xdg = os.environ.get("XDG_DATA_HOME")
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "share"
    return base / APP_DIR_NAME


def user_models_dir() -> Path:
    """Where models trained from the app live, one folder per model (not created here)."""
    return app_data_dir() / "models"


def read_card(path: str | Path) -> dict:
    """Read and check a model folder's card (the contract's one validator, so the menu never
    lists a model the loader refuses). Raises PetsegError naming the file and the fix.

    The SHA-256 of ``model.keras`` is checked by the loader, since hashing every model would make
    listing them slow.
    """
    try:
        return card_contract.read_card(path)
    except CardError as err:
        raise PetsegError(str(err)) from None


def list_models() -> list[ModelEntry]:
    """The bundled model first (if it has a card), then the user's models, newest first.

    Broken or unfinished folders (``*.partial`` while training) are skipped: a menu of models must
    never offer one that cannot load.
    """
    entries: list[ModelEntry] = []
    bundled = _bundled_model_dir()
    if bundled is not None and (bundled / CARD_FILE).is_file():
        try:
            card = read_card(bundled)
        except PetsegError:
            pass  # a broken bundled model is the loader's error to report, not the menu's
        else:
            entries.append(ModelEntry(str(card.get("name") or "bundled"), bundled, card, True))
    entries.extend(sorted(_user_models(), key=_created_key, reverse=True))
    return entries


def suggest_model_dir(data_label: str, image_size: int, when: datetime | None = None) -> Path:
    """A new, unused folder under user_models_dir(), e.g. ``people-224-2026-11-24``.

    Named from the data, size and date so a menu of several models stays readable; a counter is
    added when that name (or its unfinished ``.partial`` twin) already exists.
    """
    when = when or datetime.now()
    label = "".join(c if c.isalnum() or c in "-_" else "-" for c in data_label.strip()).strip("-")
    stem = f"{label or 'model'}-{image_size}-{when:%Y-%m-%d}"
    root = user_models_dir()
    candidate, counter = root / stem, 2
    while candidate.exists() or partial_dir(candidate).exists():
        candidate, counter = root / f"{stem}-{counter}", counter + 1
    return candidate


def check_output_location(output: str | Path) -> None:
    """Refuse an output folder that cannot be written, before hours of training are spent.

    Creates the parent folder if needed and writes a probe file there. A finished model already
    at ``output`` is refused too: the trainer's final rename must not replace someone's model.
    """
    target = Path(output)
    if (target / CARD_FILE).exists():
        raise PetsegError(f"{target}: a model is already there; choose a new output folder")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".petseg-write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise PetsegError(
            f"{parent}: cannot write there ({_one_line(err)}); choose another output folder"
        ) from None


def _user_models() -> list[ModelEntry]:
    root = user_models_dir()
    try:
        folders = [p for p in root.iterdir() if p.is_dir()]
    except OSError:  # not created yet (no model trained) or unreadable
        return []
    entries = []
    for folder in folders:
        if is_partial(folder) or folder.name.startswith("."):
            continue
        try:
            card = read_card(folder)
        except PetsegError:
            continue
        entries.append(ModelEntry(folder.name, folder, card, False))
    return entries


def _created_key(entry: ModelEntry) -> tuple[float, str]:
    """Sort key: the card's creation time, else the card file's mtime; name breaks ties."""
    created = entry.card.get("created")
    stamp: float | None = None
    if isinstance(created, str):
        try:
            parsed = datetime.fromisoformat(created.replace("Z", "+00:00"))
            stamp = parsed.timestamp()
        except ValueError:
            stamp = None
    if stamp is None:
        try:
            stamp = (entry.path / CARD_FILE).stat().st_mtime
        except OSError:
            stamp = 0.0
    return stamp, entry.name


def _bundled_model_dir() -> Path | None:
    # The inference package owns where the bundled model lives; ask it lazily (it imports no
    # TensorFlow at module level) so the two can never disagree.
    from petseg_gui.inference import bundled_model_dir

    return Path(bundled_model_dir())


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
