"""The model card, ``model.json`` (docs/INTERFACES.md section 1): read, validate, write.

One validator serves the Model menu (``model_registry``), the loader (``inference``) and the
trainer (``evaluate``), so a card the menu lists is a card the loader accepts, with the same
advice when it is not. Hashing ``model.keras`` is the loader's job (listing must stay instant).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from petseg_gui.contract.errors import ContractError

MODEL_FILE = "model.keras"
TFLITE_FILE = "model.tflite"  # the same network for LiteRT: what the app segments with
CARD_FILE = "model.json"
CARD_FORMAT = "petseg-model"
CARD_FORMAT_VERSION = 1
CLASSES = ("subject", "background", "boundary")
REQUIRED_KEYS = ("format", "format_version", "input_size", "classes", "sha256")
MIN_INPUT_SIZE = 8  # the U-Net halves the input five times; smaller cannot run
REEXPORT = "re-export the model folder with model_training"


class CardError(ContractError):
    """A model folder or card that breaks the contract; the message names the file."""


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_card(card: Any, path: str | Path) -> dict:
    """``card`` if it honours the schema, else CardError naming ``path`` and the fix."""
    if not isinstance(card, dict):
        raise CardError(f"{path}: the card must be a JSON object; {REEXPORT}")
    missing = [key for key in REQUIRED_KEYS if key not in card]
    if missing:
        raise CardError(f"{path}: card lacks required keys {', '.join(missing)}; {REEXPORT}")
    if card["format"] != CARD_FORMAT:
        raise CardError(
            f"{path}: not a petseg model card (format {card['format']!r}, expected "
            f"{CARD_FORMAT!r}); choose a petseg model folder"
        )
    version = card["format_version"]
    if not _int(version) or version < 1:
        raise CardError(f"{path}: format_version must be a positive integer; {REEXPORT}")
    if version > CARD_FORMAT_VERSION:
        raise CardError(
            f"{path}: made by a newer petseg (format_version {version}, this one reads "
            f"{CARD_FORMAT_VERSION}); update petseg"
        )
    size = card["input_size"]
    if not _int(size) or size < MIN_INPUT_SIZE:
        raise CardError(
            f"{path}: input_size must be an integer of at least {MIN_INPUT_SIZE}; {REEXPORT}"
        )
    if card["classes"] != list(CLASSES):
        raise CardError(f"{path}: classes must be {list(CLASSES)} in that order; {REEXPORT}")
    digest = card["sha256"]
    if not isinstance(digest, str) or len(digest) != 64:
        raise CardError(f"{path}: sha256 must be 64 hex digits; {REEXPORT}")
    return card


def check_folder(folder: str | Path) -> Path:
    """The folder and both of its files exist."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CardError(
            f"{folder}: model folder not found; choose a folder that holds {MODEL_FILE} and "
            f"{CARD_FILE}"
        )
    if not (folder / MODEL_FILE).is_file():
        raise CardError(f"{folder / MODEL_FILE}: file missing from the model folder; {REEXPORT}")
    if not (folder / CARD_FILE).is_file():
        raise CardError(
            f"{folder / CARD_FILE}: model card missing from the model folder; {REEXPORT}"
        )
    return folder


def read_card(folder: str | Path) -> dict:
    """The checked card of a model folder (no hashing of the model file)."""
    path = check_folder(folder) / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CardError(
            f"{path}: not valid JSON ({err.msg}, line {err.lineno}); {REEXPORT}"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise CardError(f"{path}: cannot be read ({one_line(err)}); {REEXPORT}") from None
    return validate_card(card, path)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_model_hash(folder: str | Path, card: dict) -> None:
    """Refuse a ``model.keras`` that is not the file the card describes (changed or damaged)."""
    model_path = Path(folder) / MODEL_FILE
    if file_sha256(model_path).lower() != str(card["sha256"]).lower():
        raise CardError(f"{model_path}: model.keras does not match its card: re-export the model")


def check_tflite_hash(folder: str | Path, card: dict) -> None:
    """Refuse a ``model.tflite`` that is not the file the card records (when it records one)."""
    recorded = (card.get("tflite") or {}).get("sha256")
    path = Path(folder) / TFLITE_FILE
    if recorded and file_sha256(path).lower() != str(recorded).lower():
        raise CardError(
            f"{path}: does not match its card; export it again with "
            f"`python -m model_training export-tflite --model {Path(folder)}`"
        )


def new_card(*, input_size: int, name: str, sha256: str, created: str, **sections: object) -> dict:
    """A card with the required keys first, then ``sections`` (architecture, training, metrics,
    versions) in the order given; validated, so the trainer cannot write one the app refuses."""
    card = {
        "format": CARD_FORMAT,
        "format_version": CARD_FORMAT_VERSION,
        "name": name,
        "input_size": int(input_size),
        "classes": list(CLASSES),
        "sha256": sha256,
        "created": created,
        **sections,
    }
    return validate_card(card, CARD_FILE)


def write_card(folder: str | Path, card: dict) -> Path:
    """Write ``model.json`` through a temporary file and a rename (no half-written card)."""
    path = Path(folder) / CARD_FILE
    validate_card(card, path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."
