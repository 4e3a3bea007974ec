"""What the editing session holds and what its background jobs return (one type per job).

The session (``editor.EditorSession``) holds a ``Photo``, the model's ``Segmentation`` and the
current ``Matte``; every picture of the effect is made from the matte, so a tool that edits the
matte (``EditorSession.set_matte``) makes the panes re-render without touching the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(rgb: np.ndarray) -> QImage:
    """numpy RGB uint8 HxWx3 -> a QImage on the same memory (no copy; PySide6 keeps a reference
    to the array for as long as the image's data lives). Never write into ``rgb`` afterwards.

    Painting it needs one RGB888 -> RGB32 conversion on the GUI thread (QPixmap.fromImage): ~1
    ms for a pane-sized preview; full-resolution pictures use :func:`to_display_qimage`.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb, w, h, rgb.strides[0], QImage.Format.Format_RGB888)


def to_display_qimage(rgb: np.ndarray) -> QImage:
    """numpy RGB uint8 HxWx3 -> a QImage in the screen's own format (RGB32), converted here (on a
    worker thread), so QPixmap.fromImage on the GUI thread shares it instead of converting: for a
    12 MP photo that conversion is a ~75 ms stall of the GUI thread."""
    import cv2

    h, w = rgb.shape[:2]
    # Into a numpy buffer made here: when OpenCV allocates a 12 MP result itself it holds the
    # GIL for ~50 ms, which stalls the GUI thread as surely as running on it.
    bgrx = np.empty((h, w, 4), np.uint8)
    cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA, dst=bgrx)  # 0xffRRGGBB words
    return QImage(bgrx, w, h, bgrx.strides[0], QImage.Format.Format_RGB32)


@dataclass(frozen=True)
class Params:
    """The user's effect settings, as the sliders show them (0-100 integers)."""

    enabled: bool = True
    blur: int = 50
    sharpen: int = 30

    def portrait(self):
        from petseg_gui.effects import PortraitParams

        return PortraitParams(
            enabled=self.enabled, blur=float(self.blur), sharpen=float(self.sharpen)
        )


@dataclass
class Photo:
    """The open photo (the open runner's result)."""

    loaded: Any  # imaging.LoadedImage
    preview: np.ndarray  # RGB uint8, longest side <= preview side
    preview_image: QImage
    full_image: QImage  # the photo's real pixels, converted once on the loading thread

    @property
    def path(self) -> Path:
        return Path(self.loaded.path)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) at full resolution."""
        h, w = self.loaded.pixels.shape[:2]
        return w, h

    @property
    def has_detail(self) -> bool:
        """True when the preview is smaller than the photo (zooming in can show more)."""
        return self.preview.shape[:2] != self.loaded.pixels.shape[:2]

    @property
    def preview_side(self) -> int:
        """Longest side of the preview: every matte of this photo is prepared at this size."""
        return max(self.preview.shape[:2])

    @property
    def preview_scale(self) -> float:
        """View scale (screen pixels per photo pixel) at which the preview is shown 1:1."""
        return max(self.preview.shape[:2]) / max(self.loaded.pixels.shape[:2])


@dataclass
class Matte:
    """The alpha matte the panes show and Save uses, with what the effect prepared from it
    (the matte runner's result). The segmentation's own matte at first; an edit replaces it."""

    alpha: np.ndarray  # float32 HxW in [0, 1], the photo's resolution
    trimap: np.ndarray  # uint8 HxW: 0 subject, 1 background, 2 boundary
    preview_trimap: np.ndarray  # the trimap at the preview's size
    prepared: Any  # effects.prepare(full photo, alpha, max_size=preview side)
    # overlay.trimap_colours(preview_trimap): the opacity slider only blends it over
    # prepared.rgb (same size), so the GUI thread never colours a trimap.
    preview_colours: np.ndarray | None = None
    # effects.prepare at full size: built by the first full-resolution render, then reused;
    # only the full-resolution runner touches it (one job at a time).
    full_prepared: Any = None
    # Who made it, for them to recognise it (the correction tools: (MatteEdit, version)).
    tag: Any = None


@dataclass
class RefittedPreview:
    """The preview runner's result: the open photo's preview remade for the panes' new size,
    and the matte it was made with prepared again at that size."""

    photo: Photo
    preview: np.ndarray
    preview_image: QImage
    source: Matte | None  # the matte it was made from
    matte: Matte | None  # ``source`` prepared at the new size


@dataclass
class Segmented:
    """The segment runner's result: the model's output and the matte made from it."""

    segmentation: Any  # inference.Segmentation
    matte: Matte


@dataclass
class Rendered:
    """A rendered result (preview runner: preview size; full runner: the photo's size)."""

    params: Params
    pixels: np.ndarray
    image: QImage
    seconds: float = 0.0


@dataclass
class FullTrimap:
    """The full-resolution trimap overlay (the full_trimap runner's result)."""

    opacity: int  # 0-100, the slider value it was made for
    image: QImage
    seconds: float = 0.0


@dataclass(frozen=True)
class Saved:
    """The files runner's result for Save."""

    path: Path


@dataclass(frozen=True)
class Exported:
    """The files runner's result for Export trimap / matte."""

    path: Path


# The photo shape the model is made ready for when it loads: a phone's 12 MP landscape photo.
WARM_SHAPE = (3000, 4000)


@dataclass
class ModelHandle:
    """A Segmenter and the one lock that keeps two threads from loading or running it at once."""

    segmenter: Any
    path: Path | None  # None = bundled
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> ModelHandle:
        with self.lock:
            self.segmenter.load()
            self.segmenter.warm_up_for(*WARM_SHAPE)
        return self

    def predict(self, pixels: np.ndarray, cancelled: Callable[[], bool]) -> Any:
        """Segment ``pixels`` (loading first if needed) while holding the lock."""
        with self.lock:
            return self.segmenter.predict(pixels, cancelled=cancelled)

    def close(self) -> None:
        """Stop the segmenter's process (SegmenterProcess), if it has one. Not under the lock:
        a segmentation in flight ends with Cancelled."""
        close = getattr(self.segmenter, "close", None)
        if close is not None:
            close()


def make_matte(
    photo: Photo,
    alpha: np.ndarray,
    trimap: np.ndarray,
    side: int,
    *,
    quick: bool = False,
    tag: Any = None,
) -> Matte:
    """The matte and its slider-independent effect work (on a worker thread).

    ``quick``: prepare the effect from the preview-sized photo (~10 ms instead of ~350 ms for a
    12 MP photo), for the first picture after opening; the exact preparation replaces it.
    ``tag``: who made it (``Matte.tag``).
    """
    from petseg_gui import effects
    from petseg_gui.overlay import trimap_colours
    from petseg_gui.preview import downscale, downscale_labels

    if quick and photo.preview_side == side:
        prepared = effects.prepare(photo.preview, downscale(alpha, side))
    else:
        # From the full-size photo and matte, not the preview: highlights become light before
        # shrinking, so the preview's bokeh is as bright as the saved photo's.
        prepared = effects.prepare(photo.loaded.pixels, alpha, max_size=side)
    labels = downscale_labels(trimap, side)
    return Matte(alpha, trimap, labels, prepared, preview_colours=trimap_colours(labels), tag=tag)
