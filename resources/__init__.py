"""Data shipped with petseg: the bundled model folder, icons and sample photos."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
MODEL_DIR = ROOT / "model"
ICONS_DIR = ROOT / "icons"
SAMPLES_DIR = ROOT / "samples"
