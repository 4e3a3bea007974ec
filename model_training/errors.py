"""The training package's one exception type for user-caused problems."""

from __future__ import annotations


class TrainingError(Exception):
    """Bad data, bad folder, missing weights, bad value. ``str(err)`` is one line that names the
    file (or option) and says what to do; the CLI prints it and exits 1, never a traceback."""
