"""A training run seen from the app, without Qt: the command line and the progress it reports.

The trainer is a child process (``python -m model_training train ... --progress jsonl``) that
prints one JSON object per line on standard output (docs/INTERFACES.md section 2). This module
turns those lines into state a dialog can paint (epoch, step, remaining time, per-epoch curves,
the outcome) and is tested with canned lines; the Qt side only moves bytes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from petseg_gui.contract.exit_codes import EXIT_INTERRUPTED, EXIT_OK

# The trainer's exit statuses (the contract's; 130 = stopped after a checkpoint was written).
EXIT_DONE, EXIT_STOPPED = EXIT_OK, EXIT_INTERRUPTED


@dataclass(frozen=True)
class EpochPoint:
    """One finished epoch: the four numbers the chart draws."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    phase: str = "frozen"


@dataclass(frozen=True)
class Outcome:
    """How a run ended, decided from its events and exit status."""

    kind: str  # "done" | "stopped" | "error" | "crashed"
    message: str  # one line for the user
    output: Path | None = None  # the finished model folder (kind "done")
    metrics: dict = field(default_factory=dict)
    can_resume: bool = False


class TrainingProgress:
    """Feed it the child's stdout lines one by one; read the state back.

    Malformed lines never raise: they go to ``log`` (the trainer's contract says stdout holds only
    JSON, so a stray print is a bug worth seeing, not a reason to lose the run).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.history: list[EpochPoint] = []
        self.log: list[str] = []
        self.reset_run()

    def reset_run(self) -> None:
        """Forget the current run's position but keep the curves (a resume continues them)."""
        self.started = False
        self.epochs = 0
        self.steps = 0
        self.epoch = 0  # the epoch in progress (1-based); 0 before the first step
        self.step = 0
        self.initial_epoch = 0
        self.phase = ""
        self.train_images = 0
        self.validation_images = 0
        self.trainer_eta: float | None = None
        self.output: Path | None = None
        self.metrics: dict = {}
        self.error: str | None = None
        self.stopped_reason: str | None = None
        self.checkpoint: Path | None = None
        self.checkpoint_epoch = 0
        self._done = False
        self._t0: float | None = None
        self._fraction0 = 0.0

    # --- input -------------------------------------------------------------------------------

    def feed(self, line: str) -> dict | None:
        """Apply one stdout line. Returns the event dict, or None for blank or malformed lines."""
        text = line.strip()
        if not text:
            return None
        try:
            event = json.loads(text)
        except json.JSONDecodeError:
            self.log.append(f"(not a progress line) {text[:500]}")
            return None
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            self.log.append(f"(progress line without an event) {text[:500]}")
            return None
        handler = getattr(self, f"_on_{event['event']}", None)
        if handler is None:
            return event  # a newer trainer's event: harmless to ignore
        try:
            handler(event)
        except (KeyError, TypeError, ValueError) as err:
            self.log.append(f"(bad {event['event']} event: {err!r}) {text[:500]}")
            return None
        return event

    def _on_start(self, e: dict) -> None:
        self.reset_run()
        self.started = True
        self.epochs = int(e["epochs"])
        self.steps = int(e["steps"])
        self.initial_epoch = int(e.get("initial_epoch", 0))
        self.epoch = self.initial_epoch
        self.train_images = int(e.get("train_images", 0))
        self.validation_images = int(e.get("validation_images", 0))
        # A resumed run continues the curves: drop only epochs it will redo.
        self.history = [p for p in self.history if p.epoch <= self.initial_epoch]
        self._t0 = self._clock()
        self._fraction0 = self.fraction

    def _on_step(self, e: dict) -> None:
        self.epoch = int(e["epoch"])
        self.step = int(e["step"])
        self.steps = int(e.get("steps", self.steps))
        self.epochs = int(e.get("epochs", self.epochs))
        self.phase = str(e.get("phase", self.phase))
        self.trainer_eta = _number(e.get("eta_seconds"))

    def _on_epoch_end(self, e: dict) -> None:
        point = EpochPoint(
            epoch=int(e["epoch"]),
            loss=float(e["loss"]),
            accuracy=float(e["accuracy"]),
            val_loss=_number(e.get("val_loss")),
            val_accuracy=_number(e.get("val_accuracy")),
            phase=str(e.get("phase", self.phase or "frozen")),
        )
        self.history = [p for p in self.history if p.epoch != point.epoch] + [point]
        self.history.sort(key=lambda p: p.epoch)
        self.epoch = point.epoch
        self.step = self.steps
        self.epochs = int(e.get("epochs", self.epochs))
        self.phase = point.phase
        self.trainer_eta = _number(e.get("eta_seconds"))

    def _on_checkpoint(self, e: dict) -> None:
        self.checkpoint = Path(e["path"])
        self.checkpoint_epoch = int(e["epoch"])

    def _on_stopped(self, e: dict) -> None:
        self.stopped_reason = str(e.get("reason", "signal"))
        if e.get("checkpoint"):
            self.checkpoint = Path(e["checkpoint"])
            self.checkpoint_epoch = int(e.get("epoch", self.checkpoint_epoch))

    def _on_done(self, e: dict) -> None:
        self._done = True
        self.output = Path(e["output"])
        self.metrics = dict(e.get("metrics") or {})
        self.trainer_eta = 0.0

    def _on_error(self, e: dict) -> None:
        self.error = " ".join(str(e["message"]).split())

    # --- derived state -----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self._done

    @property
    def epoch_fraction(self) -> float:
        """How far the current epoch is, 0..1."""
        return min(1.0, self.step / self.steps) if self.steps else 0.0

    @property
    def fraction(self) -> float:
        """How far the whole run is, 0..1 (epochs already done count as done on a resume)."""
        if self._done:
            return 1.0
        if not self.epochs:
            return 0.0
        finished = max(0, self.epoch - 1) + self.epoch_fraction if self.epoch else 0.0
        return min(1.0, max(finished, self.initial_epoch) / self.epochs)

    def eta_seconds(self) -> float | None:
        """Remaining seconds: the trainer's estimate, else one from this run's pace so far."""
        if self._done:
            return 0.0
        if self.trainer_eta is not None and self.trainer_eta >= 0:
            return self.trainer_eta
        if self._t0 is None:
            return None
        gained = self.fraction - self._fraction0
        if gained <= 0:
            return None
        elapsed = self._clock() - self._t0
        return elapsed * (1.0 - self.fraction) / gained

    def outcome(self, exit_code: int | None, stderr_tail: Sequence[str] = ()) -> Outcome:
        """Classify the end of the run. ``exit_code`` None = it crashed (killed by a signal)."""
        if self._done and exit_code == EXIT_DONE and self.output is not None:
            early = " (target accuracy reached)" if self.stopped_reason == "target_accuracy" else ""
            return Outcome("done", f"Training finished{early}.", self.output, self.metrics)
        if exit_code == EXIT_STOPPED or self.stopped_reason == "signal":
            where = f" (epoch {self.checkpoint_epoch})" if self.checkpoint_epoch else ""
            return Outcome(
                "stopped", f"Training stopped; the last checkpoint{where} is kept.", can_resume=True
            )
        if self.error:
            return Outcome("error", self.error, can_resume=self.checkpoint is not None)
        if exit_code is None:
            reason = "The trainer crashed"
        elif exit_code == EXIT_DONE:
            reason = "The trainer exited without writing a model"
        else:
            reason = f"The trainer failed (exit status {exit_code})"
        last = next((ln.strip() for ln in reversed(stderr_tail) if ln.strip()), "")
        message = f"{reason}: {last}" if last else f"{reason}; see the log."
        return Outcome("crashed", message, can_resume=self.checkpoint is not None)


def read_history_csv(path: Path) -> list[EpochPoint]:
    """The epochs a stopped run finished, from the trainer's ``<output>.partial/history.csv``,
    so a resume started from a fresh dialog still draws the whole curve. Unreadable rows (or a
    missing file) give what could be read; this is display, never a reason to refuse a resume."""
    import csv

    points: list[EpochPoint] = []
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                try:
                    points.append(
                        EpochPoint(
                            epoch=int(row["epoch"]),
                            loss=float(row["loss"]),
                            accuracy=float(row["accuracy"]),
                            val_loss=_number(_float_or_none(row.get("val_loss"))),
                            val_accuracy=_number(_float_or_none(row.get("val_accuracy"))),
                            phase=row.get("phase") or "frozen",
                        )
                    )
                except (KeyError, TypeError, ValueError):
                    continue
    except OSError:
        return []
    return sorted({p.epoch: p for p in points}.values(), key=lambda p: p.epoch)


def _float_or_none(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def format_duration(seconds: float | None) -> str:
    """'about 3 min left' style text for remaining time; '' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
