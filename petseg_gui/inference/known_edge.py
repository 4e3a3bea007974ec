"""Photos whose true alpha is known, for measuring upsampling + edge refinement.

A real matte needs a hand-made ground truth; these scenes are composited from a known
fractional-coverage alpha instead (drawn 4x supersampled, so edge pixels and thin hair strands
get partial alpha like a real lens makes): photo = alpha * foreground + (1 - alpha) * background.
``ideal_probabilities`` plays a perfect model that sees the scene at low resolution, so what
remains is exactly the error of getting from the model's resolution back to the photo's.
Used by tests/test_inference.py and benchmarks/inference_speed.py.
"""

from __future__ import annotations

import cv2
import numpy as np

SUPERSAMPLE = 4


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    coarse = rng.random((max(2, height // cell), max(2, width // cell), 3), dtype=np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def hair_scene(
    height: int = 480, width: int = 640, *, seed: int = 0, strands: int = 120
) -> tuple[np.ndarray, np.ndarray]:
    """(photo uint8 H x W x 3, true alpha float32 H x W): a head-and-shoulders subject with
    hair strands against a textured background of similar brightness but different hue."""
    rng = np.random.default_rng(seed)
    s = SUPERSAMPLE
    big = np.zeros((height * s, width * s), np.uint8)
    cx, cy = width * s // 2, int(height * s * 0.45)
    head = (int(width * s * 0.16), int(height * s * 0.24))
    cv2.ellipse(big, (cx, cy), head, 0, 0, 360, 255, -1, cv2.LINE_AA)
    shoulders = (int(width * s * 0.36), int(height * s * 0.3))
    cv2.ellipse(big, (cx, height * s), shoulders, 0, 180, 360, 255, -1, cv2.LINE_AA)
    # Hair: thin curved strands leaving the top half of the head (1-2 px wide at photo scale).
    for _ in range(strands):
        angle = rng.uniform(np.pi * 1.05, np.pi * 1.95)
        start = np.array([cx + head[0] * np.cos(angle), cy + head[1] * np.sin(angle)])
        length = rng.uniform(0.05, 0.14) * height * s
        bend = rng.uniform(-0.6, 0.6)
        ts = np.linspace(0.0, 1.0, 12)[:, None]
        direction = np.array([np.cos(angle + bend * ts[:, 0]), np.sin(angle + bend * ts[:, 0])]).T
        points = start + direction * ts * length
        thickness = int(rng.integers(1, 3)) * s // 2 + 1
        cv2.polylines(big, [points.astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
    alpha = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha /= 255.0

    # Foreground: warm hair/skin tones; background: cool greens/blues of similar luminance.
    fg = np.empty((height, width, 3), np.float32)
    fg[...] = (0.62, 0.42, 0.25)
    fg += 0.12 * (_smooth_noise(rng, height, width, 24) - 0.5)
    bg = np.empty((height, width, 3), np.float32)
    bg[...] = (0.25, 0.48, 0.50)
    bg += 0.25 * (_smooth_noise(rng, height, width, 40) - 0.5)
    bg += 0.08 * (_smooth_noise(rng, height, width, 3) - 0.5)  # fine texture (foliage, walls)
    photo = alpha[..., None] * fg + (1.0 - alpha[..., None]) * bg
    photo = np.clip(photo * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return photo, alpha


def ideal_probabilities(
    alpha: np.ndarray, height: int, width: int, *, blur: float = 0.0
) -> np.ndarray:
    """float32 (height, width, 3) probabilities of a perfect low-resolution model: the true
    alpha area-averaged to (height, width) as p_subject, optionally blurred by ``blur`` model
    pixels (a less certain model), no boundary class."""
    small = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_AREA)
    if blur > 0:
        small = cv2.GaussianBlur(small, (0, 0), blur)
    probs = np.zeros((height, width, 3), np.float32)
    probs[..., 0] = small
    probs[..., 1] = 1.0 - small
    return probs
