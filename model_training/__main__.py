"""``python -m model_training``."""

from __future__ import annotations

from model_training.cli import main

raise SystemExit(main())
