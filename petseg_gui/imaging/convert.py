"""Turn any decoded Pillow image into the one pixel layout petseg works on: RGB uint8 HxWx3.

Decisions (each one tested):
- Alpha (RGBA, LA, palette transparency) is flattened onto white. The output of petseg is an
  opaque photo, and white is what a transparent area looks like in viewers and on paper;
  ``had_alpha`` tells the caller it happened.
- 16-bit samples are scaled to 8 bits by dropping the low byte (``v >> 8``), the same rule
  Pillow applies to 16-bit colour PNG/TIFF, so a grey and a colour 16-bit file agree.
- 32-bit integer images ("I") are read as 16-bit data (how Pillow opens many 16-bit greys);
  float images ("F") are taken as [0, 1] when their maximum is at most 1, else as [0, 255].
- Grey, bilevel, palette, CMYK, YCbCr and LAB are converted with Pillow's conversions.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_SIXTEEN_BIT_GREY = {"I;16", "I;16L", "I;16B", "I;16N"}
# Rows per slice when flattening alpha: bounds the temporaries to a few MB at 24 MP.
_ROWS_PER_SLICE = 256


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel or palette transparency)."""
    return image.mode in _ALPHA_MODES or (
        image.mode in {"P", "L", "RGB"} and "transparency" in image.info
    )


def to_rgb8(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image as a C-contiguous RGB uint8 HxWx3 array (alpha onto white)."""
    mode = image.mode
    if has_alpha(image):
        rgba = image if mode == "RGBA" else image.convert("RGBA")
        return flatten_onto_white(np.asarray(rgba))
    if mode == "RGB":
        return np.array(image, dtype=np.uint8)  # a writable copy, independent of Pillow
    if mode in _SIXTEEN_BIT_GREY or mode == "I":
        grey = np.asarray(image)
        grey8 = (np.clip(grey, 0, 65535).astype(np.uint16) >> 8).astype(np.uint8)
        return grey_to_rgb(grey8)
    if mode == "F":
        grey = np.asarray(image, dtype=np.float32)
        peak = 1.0 if float(np.nanmax(grey, initial=0.0)) <= 1.0 else 255.0
        grey8 = np.clip(np.nan_to_num(grey) * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return grey_to_rgb(grey8)
    if mode in {"L", "1"}:
        return grey_to_rgb(np.asarray(image.convert("L")))
    return np.array(image.convert("RGB"), dtype=np.uint8)


def grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """Replicate a uint8 HxW grey image into three identical channels."""
    return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))


def flatten_onto_white(rgba: np.ndarray) -> np.ndarray:
    """Composite uint8 HxWx4 RGBA over opaque white: ``rgb * a + 255 * (1 - a)``, rounded."""
    height, width = rgba.shape[:2]
    out = np.empty((height, width, 3), np.uint8)
    for top in range(0, height, _ROWS_PER_SLICE):
        block = rgba[top : top + _ROWS_PER_SLICE].astype(np.uint32)
        alpha = block[:, :, 3:4]
        mixed = block[:, :, :3] * alpha + 255 * (255 - alpha)
        out[top : top + _ROWS_PER_SLICE] = (mixed + 127) // 255
    return out
