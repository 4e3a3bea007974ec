"""Light: sRGB <-> linear light by tables, and the highlight expansion that lets small lights
bloom into bokeh discs (and its inverse after the blur)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from petseg_gui.effects import compiled

# Highlight expansion (linear light): a pixel whose brightest channel m is above THRESHOLD is
# scaled by a gain rising smoothly to GAIN at m = 1. A clipped sensor value stands for "at least
# this bright"; expanding it lets a small light spread into a bright bokeh disc instead of a dim
# smudge. After the blur the expansion is inverted (compressed_srgb_u8), so an evenly bright
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


# Steps of the brightest channel over [0, HIGHLIGHT_GAIN] in the compression's factor table
# (1.2e-4 apart: the factor changes by < 0.01% from one to the next).
_FACTOR_STEPS = 65536


@lru_cache(maxsize=1)
def _compression_factor_table() -> np.ndarray:
    """float32[_FACTOR_STEPS]: gain^-1(m) / m for brightest-channel values m evenly over
    [0, HIGHLIGHT_GAIN]; 1 up to HIGHLIGHT_THRESHOLD (no expansion there)."""
    m = np.linspace(HIGHLIGHT_THRESHOLD, 1.0, 8192)
    expanded = m * _gain(m)
    grid = np.linspace(0.0, HIGHLIGHT_GAIN, _FACTOR_STEPS)
    lit = grid > HIGHLIGHT_THRESHOLD
    factor = np.ones(_FACTOR_STEPS)
    factor[lit] = np.interp(grid[lit], expanded, m) / grid[lit]
    return factor.astype(np.float32)


def compressed_srgb_u8(planes: list[np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
    """uint8 HxWx3 sRGB of blurred linear colour planes (R, G, B, float32 HxW, not written):
    the highlight expansion inverted, then encoded as linear_to_srgb_u8 does. ``out``: a
    contiguous uint8 HxWx3 to write into (returned), else a new array.

    The inversion scales each pixel so its brightest channel m becomes gain^-1(m) (m > 1 after
    expansion, i.e. brighter than white, ends at 1) and keeps hue: all channels share the
    factor. By tables: the factor looked up on m, then one OpenCV multiply per channel gives
    the plane times the factor, scaled and rounded to the encoding table's 16-bit index. (Until
    issue 12's fifth session the lit pixels were found by index and scaled in place, and each
    plane encoded apart: 1.4 instead of 0.9 ms for half a 640x480 working image with a quarter
    of its pixels lit.)
    """
    import cv2

    red, green, blue = planes
    steps = float(_SRGB_ENCODE_STEPS - 1)
    brightest = cv2.max(cv2.max(red, green), blue)
    if cv2.minMaxLoc(brightest.reshape(brightest.shape[0], -1))[1] > HIGHLIGHT_THRESHOLD:
        at = (_FACTOR_STEPS - 1) / HIGHLIGHT_GAIN
        index = cv2.multiply(brightest, (at, at, at, at), dtype=cv2.CV_16U)
        factor = _compression_factor_table().take(index)
        codes = [cv2.multiply(plane, factor, scale=steps, dtype=cv2.CV_16U) for plane in planes]
    else:  # no highlight: nothing to invert
        codes = [
            cv2.multiply(plane, (steps, steps, steps, steps), dtype=cv2.CV_16U) for plane in planes
        ]
    fused = compiled.fused
    if fused is not None:  # the table read per plane, straight into ``out``: ~4x numpy's take
        if out is None:
            out = np.empty((*red.shape, 3), np.uint8)
        fused.encode_planes(_srgb_encode_table(), *codes, out)
        return out
    index = cv2.merge(codes).reshape(*red.shape, 3)
    if out is None:
        return _srgb_encode_table().take(index)
    return np.take(_srgb_encode_table(), index, out=out, mode="clip")  # "clip": unbuffered


@lru_cache(maxsize=1)
def _first_boosted_code() -> int:
    return int(np.argmax(_highlight_boost_table() > 0))
