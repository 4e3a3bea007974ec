"""The trainer's work folder, ``<output>.partial/`` (docs/INTERFACES.md section 2).

The trainer writes it; the app reads it to offer "Resume", to draw the epochs of a stopped run
and to keep unfinished runs out of the Model menu. Only names live here, no file formats beyond
the history's columns.
"""

from __future__ import annotations

from pathlib import Path

PARTIAL_SUFFIX = ".partial"
CHECKPOINT_DIR = "checkpoints"
STATE_FILE = "state.json"  # inside checkpoints/: names the checkpoint to resume from
HISTORY_FILE = "history.csv"  # one row per completed epoch
RUN_FILE = "run.json"  # the options of the run, so --resume continues it unchanged
HISTORY_FIELDS = (
    "epoch",
    "phase",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
)


def partial_dir(output: str | Path) -> Path:
    """Where a run that will produce ``output`` works until it is finished."""
    output = Path(output)
    return output.with_name(output.name + PARTIAL_SUFFIX)


def state_path(work_dir: str | Path) -> Path:
    return Path(work_dir) / CHECKPOINT_DIR / STATE_FILE


def history_path(work_dir: str | Path) -> Path:
    return Path(work_dir) / HISTORY_FILE


def has_checkpoint(work_dir: str | Path) -> bool:
    """True when the work folder holds a run that ``--resume`` can continue."""
    return state_path(work_dir).is_file()


def is_partial(folder: str | Path) -> bool:
    return Path(folder).name.endswith(PARTIAL_SUFFIX)
