"""``python -m petseg_gui`` starts the desktop editor (same as ``petseg-gui``)."""

from __future__ import annotations

from petseg_gui.ui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
