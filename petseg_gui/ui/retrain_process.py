"""The trainer as a QProcess child: stdout JSON lines in, Qt signals out, never blocking the UI.

All parsing lives in ``petseg_gui.training_progress`` (Qt-free); this class only moves bytes,
splits lines and turns the end of the process into an ``Outcome``.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from petseg_gui.training_progress import EXIT_STOPPED, Outcome, TrainingProgress

LOG_TAIL_LINES = 40


class TrainingProcess(QObject):
    """One trainer run at a time. Signals: ``event(dict)`` per progress event, ``logLine(str)``
    per stderr line (and stray stdout), ``finished(Outcome)`` once the child has exited."""

    event = Signal(dict)
    logLine = Signal(str)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = TrainingProgress()
        self.stderr_tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._process: QProcess | None = None
        self._stdout_buffer = b""
        self._stderr_buffer = b""
        self._stop_requested = False

    def is_running(self) -> bool:
        return self._process is not None

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def start(self, argv: Sequence[str]) -> None:
        """Start the child; returns at once. A start failure arrives as ``finished``."""
        if self._process is not None:
            raise RuntimeError("a training process is already running")
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        # Line-by-line progress needs an unbuffered child; TensorFlow's C++ chatter would bury
        # the trainer's own messages in the log view.
        env.insert("PYTHONUNBUFFERED", "1")
        if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
            env.insert("TF_CPP_MIN_LOG_LEVEL", "2")
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        self._stdout_buffer = self._stderr_buffer = b""
        self._stop_requested = False
        self.stderr_tail.clear()
        self.progress.reset_run()
        self.logLine.emit("$ " + " ".join(_quote(a) for a in argv))
        process.start(argv[0], list(argv[1:]))

    def stop(self) -> None:
        """Ask the child to stop (SIGTERM): it saves a checkpoint and exits 130. Returns at once."""
        if self._process is not None and not self._stop_requested:
            self._stop_requested = True
            self.logLine.emit("Stopping: the trainer saves a checkpoint first...")
            self._process.terminate()

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        """Stop and wait for the child (for app quit only: it blocks). Kills it after the
        timeout. Returns True if it exited by itself (checkpoint written)."""
        process = self._process
        if process is None:
            return True
        self.stop()
        if process.waitForFinished(timeout_ms):
            return True
        process.kill()
        process.waitForFinished(5000)
        return False

    # --- QProcess plumbing -------------------------------------------------------------------

    def _read_stdout(self) -> None:
        if self._process is None:
            return
        self._stdout_buffer += bytes(self._process.readAllStandardOutput())
        *lines, self._stdout_buffer = self._stdout_buffer.split(b"\n")
        for raw in lines:
            self._handle_stdout_line(raw.decode("utf-8", "replace"))

    def _handle_stdout_line(self, line: str) -> None:
        logged = len(self.progress.log)
        event = self.progress.feed(line)
        for message in self.progress.log[logged:]:
            self.logLine.emit(message)
        if event is not None:
            self.event.emit(event)

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        self._stderr_buffer += bytes(self._process.readAllStandardError())
        # Keras progress bars redraw with \r; treat them as line ends so the log stays readable.
        *lines, self._stderr_buffer = self._stderr_buffer.replace(b"\r", b"\n").split(b"\n")
        for raw in lines:
            self._log_stderr(raw.decode("utf-8", "replace"))

    def _log_stderr(self, line: str) -> None:
        if line.strip():
            self.stderr_tail.append(line)
            self.logLine.emit(line)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        # FailedToStart never reaches `finished`; other errors (Crashed...) are followed by it.
        if error == QProcess.ProcessError.FailedToStart and self._process is not None:
            reason = self._process.errorString()
            self._process.deleteLater()
            self._process = None
            self.finished.emit(
                Outcome("crashed", f"The trainer could not start: {reason}", can_resume=False)
            )

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        process = self._process
        if process is None:
            return
        # Drain what is left, including a last line without a newline.
        self._read_stdout()
        self._read_stderr()
        if self._stdout_buffer.strip():
            self._handle_stdout_line(self._stdout_buffer.decode("utf-8", "replace"))
        if self._stderr_buffer.strip():
            self._log_stderr(self._stderr_buffer.decode("utf-8", "replace"))
        self._stdout_buffer = self._stderr_buffer = b""
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        if crashed and self._stop_requested:
            # Killed after the stop timeout, or a platform where terminate is a hard kill: still
            # the user's stop, and the per-epoch checkpoints on disk are what a resume uses.
            code: int | None = EXIT_STOPPED
        else:
            code = None if crashed else exit_code
        self._process = None
        process.deleteLater()
        self.finished.emit(self.progress.outcome(code, list(self.stderr_tail)))


def _quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg
