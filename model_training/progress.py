"""Training progress reporters: JSON lines for the app, a bar for people, or epoch lines only.

The JSONL protocol is docs/INTERFACES.md section 2: one JSON object per line on standard output,
flushed per line; everything else (logs, TensorFlow's chatter) on standard error. Every reporter
takes the same events, so the training loop does not care who is listening.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import IO, Any, Protocol

PROGRESS_MODES = ("bar", "jsonl", "none")


class Reporter(Protocol):
    def emit(self, event: str, **fields: Any) -> None: ...

    def close(self) -> None: ...


def _json_safe(value: Any) -> Any:
    """NaN/inf are not JSON; numpy scalars are not json-serialisable: make both plain."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonlReporter:
    """Writes each event as one flushed JSON line to ``stream``."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps(_json_safe({"event": event, **fields}), allow_nan=False)
        self.stream.write(line + "\n")
        self.stream.flush()
        if event == "error":  # a person reading the log (stderr) should see it too
            print(f"error: {fields.get('message')}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.stream.flush()


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TextReporter:
    """Human-readable progress on standard error: epoch summaries, optionally a step bar."""

    def __init__(self, stream: IO[str] | None = None, *, bar: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.bar_enabled = bar
        self._bar = None

    def _say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def emit(self, event: str, **f: Any) -> None:
        if event == "start":
            self._say(
                f"training {f['train_images']} images ({f['validation_images']} for validation) "
                f"at {f['image_size']} px, batch {f['batch_size']}, epochs "
                f"{f['initial_epoch'] + 1}..{f['epochs']}, work folder {f['work_dir']}"
            )
        elif event == "step" and self.bar_enabled:
            if self._bar is None or f["step"] == 1:
                self._close_bar()
                from tqdm import tqdm

                self._bar = tqdm(
                    total=f["steps"],
                    desc=f"epoch {f['epoch']}/{f['epochs']} {f['phase']}",
                    file=self.stream,
                    leave=False,
                    dynamic_ncols=True,
                )
            self._bar.set_postfix(loss=f"{f['loss']:.4f}", acc=f"{f['accuracy']:.4f}")
            self._bar.update(f["step"] - self._bar.n)
        elif event == "epoch_end":
            self._close_bar()
            metrics = " ".join(
                f"{k} {_fmt(f[k])}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")
            )
            self._say(
                f"epoch {f['epoch']}/{f['epochs']} ({f['phase']}): {metrics}, "
                f"eta {_duration(f.get('eta_seconds'))}"
            )
        elif event == "stopped":
            self._close_bar()
            why = "interrupted" if f["reason"] == "signal" else "target accuracy reached"
            self._say(f"stopped after epoch {f['epoch']} ({why}); checkpoint {f['checkpoint']}")
        elif event == "done":
            self._close_bar()
            self._say(f"model written to {f['output']}")
        elif event == "error":
            self._close_bar()
            self._say(f"error: {f['message']}")

    def close(self) -> None:
        self._close_bar()


def make_reporter(mode: str | None) -> Reporter:
    """``None`` picks the bar on a terminal and epoch lines otherwise.

    For ``jsonl`` the real standard output is kept for the JSON lines alone and file descriptor 1
    is pointed at standard error, so even a stray print or a C library's output cannot corrupt
    the protocol.
    """
    if mode is None:
        mode = "bar" if sys.stderr.isatty() else "none"
    if mode == "jsonl":
        sys.stdout.flush()
        json_stream = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)
        return JsonlReporter(json_stream)
    return TextReporter(sys.stderr, bar=mode == "bar")
