"""After a Retrain that used the user's own corrected photos: both models scored on them.

Runs ``python -m model_training evaluate --model DIR --data <folder> --split all`` for the new
model and then the current one, each in a QProcess (the app never imports the trainer), and
emits both metric dicts. Every photo of the folder is scored by both models; the new model has
trained on most of them, which the note under the numbers says.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal


class OwnPhotosScore(QObject):
    scored = Signal(dict, dict)  # metrics of the new model, of the current one
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: list[Path] = []
        self._results: list[dict] = []
        self._folder: Path | None = None
        self._work = Path(tempfile.mkdtemp(prefix="petseg-own-score-"))
        self.process: QProcess | None = None

    def start(self, folder: Path, new_model: Path, current_model: Path) -> None:
        self._folder = Path(folder)
        self._queue = [Path(new_model), Path(current_model)]
        self._results = []
        self._next()

    def is_running(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.waitForFinished(5000)

    def _next(self) -> None:
        model = self._queue.pop(0)
        output = self._work / f"score{len(self._results)}.json"
        output.unlink(missing_ok=True)
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.finished.connect(lambda code, _status: self._done(process, code, output))
        self.process = process
        args = ["-m", "model_training", "evaluate", "--model", str(model)]
        args += ["--data", str(self._folder), "--split", "all", "--output", str(output)]
        process.start(sys.executable, args)

    def _done(self, process: QProcess, code: int, output: Path) -> None:
        if process is not self.process:
            return  # stopped
        self.process = None
        try:
            metrics = json.loads(output.read_text(encoding="utf-8"))["metrics"]
        except (OSError, ValueError, KeyError, TypeError):
            tail = bytes(process.readAll()).decode("utf-8", "replace").strip().splitlines()
            self.failed.emit(tail[-1] if tail else f"evaluation exited with status {code}")
            return
        self._results.append(metrics)
        if self._queue:
            self._next()
        else:
            self.scored.emit(self._results[0], self._results[1])
