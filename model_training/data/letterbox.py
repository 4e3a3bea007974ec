"""Fit a photo (or its mask) into the model's square without distorting it.

The rule is the app's (``petseg_gui.contract.geometry``, shared code, not a copy): a model
trained on squashed photos would see subjects stretched by the photo's aspect ratio, unlike the
undistorted ones the app shows it.
"""

from __future__ import annotations

from petseg_gui.contract.geometry import letterbox

__all__ = ["letterbox"]
