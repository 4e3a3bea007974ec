"""One bad file found while reading training data, before it becomes a user-facing error."""

from __future__ import annotations

from pathlib import Path

from model_training.errors import TrainingError


class BadFile(Exception):
    """A file that cannot be used: ``reason`` says what is wrong and what to do, without the
    path, so the same text serves the error message and the skipped list."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def as_pair(self) -> tuple[str, str]:
        return self.path, self.reason

    def to_error(self) -> TrainingError:
        hint = " (or pass --skip-bad to leave such files out)"
        return TrainingError(f"{self.path}: {self.reason}{hint}")
