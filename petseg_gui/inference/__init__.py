"""Model folder -> full-resolution soft alpha matte + trimap (Qt-free; TensorFlow loaded lazily).

    seg = Segmenter(model_dir).predict(rgb)   # seg.alpha, seg.trimap, seg.probabilities

See docs/INTERFACES.md section 3 for the contract and docs/INFERENCE.md for the measurements.
"""

from __future__ import annotations

from petseg_gui.inference.matting import RefineParams
from petseg_gui.inference.model_folder import read_card
from petseg_gui.inference.segmenter import (
    STRATEGIES,
    Cancelled,
    Segmentation,
    Segmenter,
    bundled_model_dir,
)

__all__ = [
    "STRATEGIES",
    "Cancelled",
    "RefineParams",
    "Segmentation",
    "Segmenter",
    "bundled_model_dir",
    "read_card",
]
