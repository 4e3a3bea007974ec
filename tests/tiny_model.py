"""A tiny, deterministic model folder that honours the model contract (docs/INTERFACES.md).

It is a real Keras model loaded through the real loading path, with hand-set weights instead of
training: bright pixels score as subject, dark ones as background, so tests on synthetic photos
(a bright subject over a dark background) get a meaningful segmentation in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

TINY_SIZE = 64


def build_tiny_model(size: int = TINY_SIZE):
    import keras

    inputs = keras.Input((size, size, 3), name="image")
    # Luminance-like mean of the channels, centred on 0.5 and scaled: >0 means bright.
    x = keras.layers.Conv2D(3, 1, name="logits")(inputs)
    model = keras.Model(inputs, x, name="tiny_brightness_unet")
    kernel = np.zeros((1, 1, 3, 3), np.float32)
    kernel[0, 0, :, 0] = 20.0 / 3  # subject logit grows with brightness
    kernel[0, 0, :, 1] = -20.0 / 3  # background logit falls with brightness
    bias = np.array([-10.0, 10.0, -4.0], np.float32)  # boundary never wins outright
    model.get_layer("logits").set_weights([kernel, bias])
    return model


def write_tiny_model(folder: Path, size: int = TINY_SIZE) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = build_tiny_model(size)
    model.save(folder / "model.keras")
    digest = hashlib.sha256((folder / "model.keras").read_bytes()).hexdigest()
    card = {
        "format": "petseg-model",
        "format_version": 1,
        "name": "tiny-test-model",
        "input_size": size,
        "classes": ["subject", "background", "boundary"],
        "sha256": digest,
        "training": {"data": "none: hand-set weights for tests (bright = subject)"},
        "metrics": {},
    }
    (folder / "model.json").write_text(json.dumps(card, indent=2))
    return folder


def synthetic_photo(height: int = 240, width: int = 320, seed: int = 0) -> np.ndarray:
    """A bright elliptical 'subject' over a dark, textured background (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    # Dark background with fine texture (so blur has detail to remove).
    background = 40 + 30 * ((xx // 4 + yy // 4) % 2) + rng.integers(0, 20, (height, width))
    photo = np.repeat(background[..., None], 3, axis=2).astype(np.float32)
    photo[..., 2] += 25  # bluish background
    cy, cx = height / 2, width / 2
    inside = ((yy - cy) / (height * 0.3)) ** 2 + ((xx - cx) / (width * 0.2)) ** 2 <= 1.0
    subject = np.stack([220 + 0 * xx, 180 + 20 * ((xx // 3) % 2), 120 + 0 * xx], axis=2)
    photo[inside] = subject[inside]
    return np.clip(photo, 0, 255).astype(np.uint8)


def synthetic_subject_mask(height: int = 240, width: int = 320) -> np.ndarray:
    """The boolean subject mask that ``synthetic_photo`` draws."""
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = height / 2, width / 2
    return ((yy - cy) / (height * 0.3)) ** 2 + ((xx - cx) / (width * 0.2)) ** 2 <= 1.0
