"""The ``petseg`` command's terminal side: Ctrl-C handling, the progress line, one-line failure
messages, and keeping TensorFlow's native start-up chatter off the user's terminal."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from petseg_gui.errors import PetsegError


class StopFlag:
    """Set by the first Ctrl-C: finish the photo in progress, then stop. The second Ctrl-C
    interrupts at once (atomic saving means no partial output either way)."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self.requested = False
        self._report = report

    def handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._report("stopping after the current photo (Ctrl-C again to stop now)")

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = signal.signal(signal.SIGINT, self.handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class Progress:
    """Feedback on stderr: a redrawn bar on a terminal, else one plain line per photo."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self._bar_shown = False

    def start(self, index: int, source: Path) -> None:
        if not self.tty:
            return
        columns = shutil.get_terminal_size((80, 20)).columns
        width = max(10, min(30, columns - 40))
        filled = width * index // self.total
        name = source.name[: max(10, columns - width - 20)]
        bar = "#" * filled + "-" * (width - filled)
        self._draw(f"[{bar}] {index}/{self.total} {name}", columns)

    def written(self, index: int, source: Path, target: Path) -> None:
        if not self.tty:
            self.line(f"[{index + 1}/{self.total}] {source} -> {target}")

    def line(self, text: str) -> None:
        self._clear()
        print(f"petseg: {text}", file=self.stream, flush=True)

    def finish(self) -> None:
        self._clear()

    def _draw(self, text: str, columns: int) -> None:
        self.stream.write("\r" + text[: columns - 1].ljust(columns - 1))
        self.stream.flush()
        self._bar_shown = True

    def _clear(self) -> None:
        if self._bar_shown:
            columns = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (columns - 1) + "\r")
            self._bar_shown = False


def failure_text(source: Path, error: BaseException) -> str:
    if isinstance(error, MemoryError):
        message = "not enough memory for this photo; close other programs or use a smaller copy"
    else:
        message = " ".join(str(error).split()) or type(error).__name__
    return message if message.startswith(str(source)) else f"{source}: {message}"


@contextmanager
def native_stderr_captured(stderr: TextIO) -> Iterator[None]:
    """Keep TensorFlow's start-up chatter (C++ logs written straight to file descriptor 2,
    which TF_CPP_MIN_LOG_LEVEL does not silence) off the user's terminal. What was written
    is shown after all if loading fails with something other than a PetsegError, or with
    PETSEG_DEBUG set."""
    if os.environ.get("PETSEG_DEBUG") or stderr is not sys.__stderr__:
        yield
        return
    import tempfile

    try:
        fd = sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (embedded, pythonw)
        yield
        return
    sys.__stderr__.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        failed = True
        try:
            yield
            failed = False
        except PetsegError:
            failed = False
            raise
        finally:
            sys.__stderr__.flush()
            os.dup2(saved, fd)
            os.close(saved)
            if failed:
                capture.seek(0)
                sys.__stderr__.write(capture.read().decode(errors="replace"))
                sys.__stderr__.flush()
