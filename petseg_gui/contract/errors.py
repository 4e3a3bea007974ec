"""The contract's one exception type; each side wraps it in its own (PetsegError, TrainingError)."""

from __future__ import annotations


class ContractError(ValueError):
    """A file or value that breaks the shared contract. ``str(err)`` is one line that names the
    file (or option) and says what to do, ready for the CLI, a dialog or the trainer's error
    event."""
