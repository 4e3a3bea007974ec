"""Light: sRGB <-> linear light by tables, and the highlight expansion that lets small lights
bloom into bokeh discs (and its inverse after the blur)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# Highlight expansion (linear light): a pixel whose brightest channel m is above THRESHOLD is
# scaled by a gain rising smoothly to GAIN at m = 1. A clipped sensor value stands for "at least
# this bright"; expanding it lets a small light spread into a bright bokeh disc instead of a dim
# smudge. After the blur the expansion is inverted (compress_highlights), so an evenly bright
# area (sky, water, a white wall) comes back at its own brightness instead of blowing out:
# only highlights brighter than their surroundings gain energy.
HIGHLIGHT_THRESHOLD = 0.6
HIGHLIGHT_GAIN = 8.0


@lru_cache(maxsize=1)
def _srgb_to_linear_table() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


def linear_to_srgb_u8(linear: np.ndarray) -> np.ndarray:
    """Linear light (float32 array; clipped to [0, 1]) -> sRGB uint8, of the same shape.

    Values must stay below 32768 (OpenCV's rounding to int overflows beyond); the blur's stay
    below the highlight gain, 8, and are compressed to [0, 1] before this.

    By a table of 65536 entries indexed on the value itself: OpenCV rounds, clips and converts
    it to a 16-bit index in one pass, and numpy's take reads the table (64 KB, cache-resident).
    Within 1 code of the exact conversion (a step is 0.025 codes at the steepest, near black)
    and exact for every sRGB code's own light. (Until issue 12: a 4096-entry table indexed on
    sqrt(x) after numpy's clip, sqrt, scale and cast: 6 passes instead of 2, ~5x slower.)
    """
    import cv2

    flat = np.ascontiguousarray(linear, np.float32)
    rows = flat.reshape(flat.shape[0], -1) if flat.ndim > 1 else flat.reshape(1, -1)
    steps = float(_SRGB_ENCODE_STEPS - 1)
    index = cv2.multiply(rows, (steps, steps, steps, steps), dtype=cv2.CV_16U)
    return _srgb_encode_table().take(index).reshape(flat.shape)


_SRGB_ENCODE_STEPS = 65536


@lru_cache(maxsize=1)
def _srgb_encode_table() -> np.ndarray:
    x = np.arange(_SRGB_ENCODE_STEPS, dtype=np.float64) / (_SRGB_ENCODE_STEPS - 1)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.round(srgb * 255.0).astype(np.uint8)


def _gain(m: np.ndarray) -> np.ndarray:
    """Expansion factor for brightest-channel values ``m`` (linear, float64)."""
    t = np.clip((m - HIGHLIGHT_THRESHOLD) / (1.0 - HIGHLIGHT_THRESHOLD), 0.0, 1.0)
    return 1.0 + (HIGHLIGHT_GAIN - 1.0) * t * t * (3 - 2 * t)  # smoothstep: no visible onset


@lru_cache(maxsize=1)
def _highlight_boost_table() -> np.ndarray:
    """float32[256]: extra gain (factor - 1) by the sRGB code of a pixel's brightest channel."""
    return (_gain(_srgb_to_linear_table().astype(np.float64)) - 1.0).astype(np.float32)


_COMPRESSION_STEPS = 4096


@lru_cache(maxsize=1)
def _compression_table() -> np.ndarray:
    """float32[_COMPRESSION_STEPS]: gain^-1 sampled evenly over the expanded range
    [THRESHOLD, GAIN]; a table lookup is ~4x faster than np.interp on a preview frame."""
    m = np.linspace(HIGHLIGHT_THRESHOLD, 1.0, 8192)
    expanded = m * _gain(m)
    even = np.linspace(HIGHLIGHT_THRESHOLD, HIGHLIGHT_GAIN, _COMPRESSION_STEPS)
    return np.interp(even, expanded, m).astype(np.float32)


def compress_highlights(planes: list[np.ndarray]) -> list[np.ndarray]:
    """Invert the highlight expansion on blurred linear colour planes (R, G, B; in place).

    Scales each pixel so its brightest channel m becomes gain^-1(m) (m > 1 after expansion,
    i.e. brighter than white, ends at 1). Keeps hue: all channels share the factor.
    """
    import cv2

    red, green, blue = planes
    brightest = cv2.max(cv2.max(red, green), blue).reshape(-1)
    lit = np.flatnonzero(brightest > HIGHLIGHT_THRESHOLD)
    if lit.size:
        m = brightest[lit]
        step = (_COMPRESSION_STEPS - 1) / (HIGHLIGHT_GAIN - HIGHLIGHT_THRESHOLD)
        index = np.minimum((m - HIGHLIGHT_THRESHOLD) * step + 0.5, _COMPRESSION_STEPS - 1)
        factor = _compression_table()[index.astype(np.intp)] / m
        for plane in planes:
            plane.reshape(-1)[lit] *= factor
    return planes


@lru_cache(maxsize=1)
def _first_boosted_code() -> int:
    return int(np.argmax(_highlight_boost_table() > 0))
