"""Exit statuses of ``python -m model_training`` and of ``petseg`` (docs/INTERFACES.md section 2).

The app reads the trainer's status to tell "done" from "stopped" from "failed", so both sides
take the numbers from here.
"""

from __future__ import annotations

EXIT_OK = 0  # done (also when --target-accuracy stopped training early)
EXIT_USER_ERROR = 1  # a user-caused error: one line (an ``error`` event for the trainer)
EXIT_USAGE = 2  # bad command line (argparse's own status)
EXIT_INTERRUPTED = 130  # stopped by SIGINT/SIGTERM (the trainer wrote a checkpoint first)
