"""petseg: portrait-mode photo editor (U-Net subject segmentation + lens-quality depth effect)."""

from __future__ import annotations

__version__ = "0.1.0"
