"""Tiny generated training folders for the retraining tests (images/ + masks/ layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_ellipse_dataset(root: Path, count: int = 8, size: int = 48) -> Path:
    """``count`` photos of a bright ellipse on a dark noisy background, with 0/255 masks."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(count):
        cy, cx = rng.uniform(0.35, 0.65, 2) * size
        ry, rx = rng.uniform(0.15, 0.3, 2) * size
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        photo = rng.integers(0, 60, (size, size, 3))
        photo[inside] = rng.integers(180, 255, 3)
        Image.fromarray(photo.astype(np.uint8)).save(root / "images" / f"{i:03d}.png")
        Image.fromarray((inside * 255).astype(np.uint8)).save(root / "masks" / f"{i:03d}.png")
    return root
