"""The one exception type for errors a user can cause (bad file, bad folder, bad value)."""

from __future__ import annotations


class PetsegError(Exception):
    """A user-caused problem. ``str(err)`` is one line that names the file and says what to do.

    The CLI prints it on one line and exits non-zero; the GUI shows it in a dialog.
    """
