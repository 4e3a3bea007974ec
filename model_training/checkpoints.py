"""The resumable state of a training run inside ``<output>.partial/``.

``checkpoints/epoch-NNN.keras`` is the whole model with its optimiser state after epoch NNN
(epochs count across both phases); ``checkpoints/interrupted.keras`` is the state saved when a
signal stopped an epoch half-way. ``checkpoints/state.json`` names the checkpoint to resume from,
the number of completed epochs and the phase the optimiser belongs to. ``history.csv`` has one row
per completed epoch.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from model_training.errors import TrainingError

# The layout is shared with the app (it offers Resume and draws a stopped run's epochs).
from petseg_gui.contract.workdir import (  # noqa: F401 (RUN_FILE is re-exported for train.py)
    CHECKPOINT_DIR,
    HISTORY_FIELDS,
    HISTORY_FILE,
    RUN_FILE,
    STATE_FILE,
)


@dataclass
class CheckpointState:
    epoch: int  # completed epochs covered by the checkpoint (resume starts at epoch + 1)
    phase: str  # "frozen" or "fine-tune": which optimiser the checkpoint carries
    checkpoint: str  # path relative to the work folder
    interrupted: bool = False


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def epoch_checkpoint_path(work_dir: Path, epoch: int) -> Path:
    return work_dir / CHECKPOINT_DIR / f"epoch-{epoch:03d}.keras"


def save_checkpoint(model, work_dir: Path, state: CheckpointState) -> Path:
    """Save the model (with optimiser) and then point state.json at it."""
    path = work_dir / state.checkpoint
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)
    write_json_atomic(work_dir / CHECKPOINT_DIR / STATE_FILE, asdict(state))
    return path


def read_state(work_dir: Path) -> CheckpointState:
    path = work_dir / CHECKPOINT_DIR / STATE_FILE
    try:
        state = CheckpointState(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise TrainingError(
            f"{path}: no checkpoint to resume from; start again without --resume "
            "(add --overwrite to discard the unfinished run)"
        ) from None
    except (ValueError, TypeError) as err:
        raise TrainingError(
            f"{path}: unreadable checkpoint state ({err}); start again with --overwrite"
        ) from None
    if not (work_dir / state.checkpoint).is_file():
        raise TrainingError(
            f"{work_dir / state.checkpoint}: checkpoint missing; start again with --overwrite"
        )
    return state


def read_history(work_dir: Path, *, up_to_epoch: int | None = None) -> list[dict]:
    """History rows (numbers as floats), optionally only those of completed epochs."""
    path = work_dir / HISTORY_FILE
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parsed = {
                k: (v if k == "phase" else (float(v) if v not in ("", None) else None))
                for k, v in row.items()
            }
            parsed["epoch"] = int(parsed["epoch"])
            if up_to_epoch is None or parsed["epoch"] <= up_to_epoch:
                rows.append(parsed)
    return rows


def write_history(work_dir: Path, rows: list[dict]) -> None:
    path = work_dir / HISTORY_FILE
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        # Per-source validation columns (val_accuracy_<source>...) follow the fixed ones.
        extra = sorted({key for row in rows for key in row} - set(HISTORY_FIELDS))
        fields = [*HISTORY_FIELDS, *extra]
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
