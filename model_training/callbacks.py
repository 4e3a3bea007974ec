"""Keras callbacks of the training loop: progress events, per-epoch checkpoints, the paper's
target-accuracy stop, and a clean stop on SIGINT/SIGTERM.

Imported only by ``train.run_training`` (this module needs keras at class-definition time).
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from model_training.checkpoints import (
    CheckpointState,
    epoch_checkpoint_path,
    save_checkpoint,
    write_history,
)
from model_training.progress import Reporter


class TrainingInterrupted(Exception):
    """Raised from a callback after a signal; ``epoch_finished`` says whether the epoch's
    checkpoint already exists (else the caller saves the half-way state)."""

    def __init__(self, epoch_finished: bool) -> None:
        super().__init__("stopped by a signal")
        self.epoch_finished = epoch_finished


@dataclass
class RunState:
    """What the callbacks share with the loop: where we are and what has been written."""

    work_dir: Path
    epochs: int  # total, both phases
    steps: int  # per epoch
    phase: str = "frozen"
    completed_epochs: int = 0
    history: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    steps_done: int = 0  # in this process, for the ETA

    def eta_seconds(self, epoch_index: int, step: int) -> float | None:
        """Remaining time from the mean time per step so far (validation included)."""
        if self.steps_done == 0:
            return None
        remaining = (self.epochs - epoch_index - 1) * self.steps + (self.steps - step)
        return round((time.monotonic() - self.started) / self.steps_done * remaining, 1)


class SignalWatch:
    """SIGINT/SIGTERM set a flag that the training loop checks after each step.

    A second signal while the first is being honoured raises KeyboardInterrupt at once, for a
    user who does not want to wait for the checkpoint.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> SignalWatch:
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread may set handlers (training from a notebook thread)
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class StopOnSignal(keras.callbacks.Callback):
    def __init__(self, watch: SignalWatch) -> None:
        super().__init__()
        self.watch = watch

    def _check(self, epoch_finished: bool = False) -> None:
        if self.watch.requested:
            raise TrainingInterrupted(epoch_finished)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._check()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Runs after EpochCheckpoint (callback order), so this epoch is already saved.
        self._check(epoch_finished=True)


def per_source_logs(logs: dict) -> dict[str, float]:
    """The per-source validation keys SourceValidation adds (``val_accuracy_<source>``...)."""
    return {
        key: float(value)
        for key, value in logs.items()
        if key.startswith(("val_loss_", "val_accuracy_"))
    }


class SourceValidation(keras.callbacks.Callback):
    """Validation after each epoch, on each source's held-out photos, then overall.

    Keras' own ``validation_data`` takes one dataset; this measures every source with
    ``evaluate`` and writes ``val_loss_<name>`` / ``val_accuracy_<name>`` (with more than one
    source) and the overall ``val_loss`` / ``val_accuracy`` into the epoch's logs, which the
    callbacks after it read. Overall accuracy pools the known pixels of all sources (exactly what
    one evaluation over all of them would give); overall loss weights each source by its images.
    """

    def __init__(self, datasets: dict[str, Any], extra_callbacks: list | None = None) -> None:
        super().__init__()
        self.datasets = datasets
        self.extra_callbacks = extra_callbacks or []
        self._known: dict[str, tuple[int, int]] = {}  # name -> (images, known pixels)

    def _counts(self, name: str) -> tuple[int, int]:
        if name not in self._known:
            images = pixels = 0
            for batch in self.datasets[name]:
                labels = keras.ops.convert_to_numpy(batch[1])
                images += labels.shape[0]
                pixels += int((labels < 3).sum())
            self._known[name] = (images, pixels)
        return self._known[name]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None or not self.datasets:
            return
        results = {}
        for name, dataset in self.datasets.items():
            results[name] = self.model.evaluate(
                dataset, verbose=0, return_dict=True, callbacks=self.extra_callbacks
            )
        if len(results) > 1:
            for name, result in results.items():
                logs[f"val_loss_{name}"] = float(result["loss"])
                logs[f"val_accuracy_{name}"] = float(result["accuracy"])
        counts = {name: self._counts(name) for name in results}
        images = sum(c[0] for c in counts.values()) or 1
        pixels = sum(c[1] for c in counts.values()) or 1
        logs["val_loss"] = sum(results[n]["loss"] * counts[n][0] for n in results) / images
        logs["val_accuracy"] = sum(results[n]["accuracy"] * counts[n][1] for n in results) / pixels


class ProgressEvents(keras.callbacks.Callback):
    """Turns Keras' batch and epoch hooks into the protocol's step and epoch_end events."""

    def __init__(self, reporter: Reporter, run: RunState) -> None:
        super().__init__()
        self.reporter = reporter
        self.run = run
        self.epoch_index = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_index = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.run.steps_done += 1
        self.reporter.emit(
            "step",
            epoch=self.epoch_index + 1,
            epochs=self.run.epochs,
            step=batch + 1,
            steps=self.run.steps,
            loss=float(logs.get("loss", float("nan"))),
            accuracy=float(logs.get("accuracy", float("nan"))),
            eta_seconds=self.run.eta_seconds(self.epoch_index, batch + 1),
            phase=self.run.phase,
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.reporter.emit(
            "epoch_end",
            epoch=epoch + 1,
            epochs=self.run.epochs,
            **{
                key: float(logs[key]) if key in logs else None
                for key in ("loss", "accuracy", "val_loss", "val_accuracy")
            },
            **per_source_logs(logs),
            eta_seconds=self.run.eta_seconds(epoch, self.run.steps),
            phase=self.run.phase,
        )


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: append the history row, save ``epoch-NNN.keras``, update state.json."""

    def __init__(self, reporter: Reporter, run: RunState, keep: int = 0) -> None:
        super().__init__()
        self.reporter = reporter
        self.run = run
        self.keep = keep
        self._epoch_started = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        number = epoch + 1
        row = {k: logs.get(k) for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        row.update(per_source_logs(logs))
        row.update(
            epoch=number,
            phase=self.run.phase,
            learning_rate=float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
            seconds=round(time.monotonic() - self._epoch_started, 2),
        )
        self.run.history = [r for r in self.run.history if r["epoch"] < number] + [row]
        write_history(self.run.work_dir, self.run.history)
        path = epoch_checkpoint_path(self.run.work_dir, number)
        state = CheckpointState(
            epoch=number,
            phase=self.run.phase,
            checkpoint=str(path.relative_to(self.run.work_dir)),
        )
        save_checkpoint(self.model, self.run.work_dir, state)
        self.run.completed_epochs = number
        self.reporter.emit("checkpoint", epoch=number, path=str(path))
        if self.keep > 0:
            # Only the newest `keep` epoch files; state.json never points at a removed one.
            for old in range(1, number - self.keep + 1):
                epoch_checkpoint_path(self.run.work_dir, old).unlink(missing_ok=True)


class TargetAccuracy(keras.callbacks.Callback):
    """The paper's callback: stop once validation accuracy reaches the user's target."""

    def __init__(self, target: float) -> None:
        super().__init__()
        self.target = target
        self.reached = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        accuracy = logs.get("val_accuracy", logs.get("accuracy"))
        if accuracy is not None and float(accuracy) >= self.target:
            self.reached = True
            self.model.stop_training = True
