"""Training data for the petseg U-Net: sources, checks, splits and the tf.data pipeline.

Typical use (the trainer)::

    splits = load_data("/data/people", image_size=224, seed=0)
    train = make_pipeline(splits.train, batch_size=64, training=True, augment="flip")
    validation = make_pipeline(splits.validation, batch_size=64, training=False)

Nothing here imports TensorFlow at import time.
"""

from __future__ import annotations

from .loading import DataSplits, full_augment_size, load_data
from .masks import CLASS_NAMES
from .pipeline import AUGMENTATIONS, make_pipeline
from .sources import Example, resolve_source, scan_folder

__all__ = [
    "AUGMENTATIONS",
    "CLASS_NAMES",
    "DataSplits",
    "Example",
    "full_augment_size",
    "load_data",
    "make_pipeline",
    "resolve_source",
    "scan_folder",
]
