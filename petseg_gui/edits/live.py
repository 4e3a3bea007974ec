"""The matte being edited in the app, at full and at preview size (Qt-free; the UI's tools
drive it, so ui/ holds no image maths).

``MatteEdit`` owns the full-resolution matte and trimap, and a preview-sized copy that live
painting writes into (``paint``). A finished stroke or a click is a :class:`MattePatch` at full
resolution; ``apply``/``revert`` write it (and the trimap of its rectangle) exactly, and every
change bumps ``version`` so a result computed in the background from an older matte is noticed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from petseg_gui.edits.brush import BrushParams, Stroke, preview_patch, stroke_patch
from petseg_gui.edits.patch import MattePatch
from petseg_gui.edits.subject_pick import Objects, click_subject, objects
from petseg_gui.inference.matting import trimap_from_alpha

TRIMAP_LOW, TRIMAP_HIGH = 0.1, 0.9  # an edited matte's trimap (the model's own uses the same)


def edited_trimap(alpha: np.ndarray) -> np.ndarray:
    """uint8 trimap of an edited matte (no model boundary: the alpha alone decides)."""
    return trimap_from_alpha(np.ascontiguousarray(alpha), None, TRIMAP_LOW, TRIMAP_HIGH)


@dataclass(frozen=True, eq=False)
class AppliedPatch:
    """A patch with the trimap of its rectangle before and after: undo restores both exactly."""

    patch: MattePatch
    trimap_before: np.ndarray
    trimap_after: np.ndarray


@dataclass(frozen=True, eq=False)
class StrokeJob:
    """What a finished stroke needs to be computed off the GUI thread: a private crop of the
    matte and photo around it (so later edits cannot change it underneath), and the version
    of the matte it was taken from."""

    matte: np.ndarray
    rgb: np.ndarray
    stroke: Stroke  # in the crop's pixels
    y0: int
    x0: int
    version: int
    params: BrushParams | None = None

    def run(self) -> MattePatch | None:
        patch = stroke_patch(self.matte, self.rgb, self.stroke, self.params)
        if patch is None:
            return None
        return MattePatch(patch.y0 + self.y0, patch.x0 + self.x0, patch.before, patch.after)


class MatteEdit:
    """One photo's matte under correction. ``rgb``/``preview_rgb``: the photo at full and
    preview size; ``alpha``/``trimap``: the matte to start from (copied); ``model_alpha``: the
    model's own matte (what the Subject tool picks objects from and Reset goes back to)."""

    def __init__(
        self,
        rgb: np.ndarray,
        preview_rgb: np.ndarray,
        alpha: np.ndarray,
        trimap: np.ndarray,
        model_alpha: np.ndarray,
        probabilities: np.ndarray | None = None,
    ) -> None:
        self.rgb = rgb
        self.preview_rgb = preview_rgb
        self.alpha = np.array(alpha, np.float32)
        self.trimap = np.array(trimap, np.uint8)
        self.model_alpha = model_alpha
        self.probabilities = probabilities
        self.version = 0
        self._preview_stale = False
        self._found: Objects | None = None
        self.preview_alpha = np.empty(preview_rgb.shape[:2], np.float32)
        self.preview_trimap = np.empty(preview_rgb.shape[:2], np.uint8)
        self.sync_preview()

    @property
    def scale(self) -> float:
        """Preview pixels per photo pixel."""
        return self.preview_rgb.shape[1] / self.rgb.shape[1]

    def sync_preview(self) -> None:
        """Make the preview copy the downscaled full matte again (after a full-size change)."""
        import cv2

        h, w = self.preview_alpha.shape
        if (h, w) == self.alpha.shape:
            self.preview_alpha[...] = self.alpha
        else:
            cv2.resize(self.alpha, (w, h), dst=self.preview_alpha, interpolation=cv2.INTER_AREA)
        self.preview_trimap[...] = edited_trimap(self.preview_alpha)
        self._preview_stale = False

    def begin_stroke(self) -> None:
        """Before live painting: bring the preview copy up to date with the full matte."""
        if self._preview_stale:
            self.sync_preview()

    # -- live painting (preview size) ------------------------------------------------------
    def paint(
        self, stroke: Stroke, params: BrushParams | None = None
    ) -> tuple[int, int, int, int] | None:
        """Paint what the last mouse move added (``stroke.tail()``) into the preview copy;
        the preview rectangle (y0, x0, y1, x1) it changed, or None."""
        patch = preview_patch(self.preview_alpha, self.preview_rgb, stroke, self.scale, params)
        if patch is None:
            return None
        patch.apply(self.preview_alpha)
        y0, x0, y1, x1 = patch.bounds
        self.preview_trimap[y0:y1, x0:x1] = edited_trimap(patch.after)
        return patch.bounds

    def preview_overlay(self, bounds: tuple[int, int, int, int], opacity: float) -> np.ndarray:
        """The trimap pane's picture of a painted preview rectangle (uint8 h x w x 3)."""
        from petseg_gui.overlay import trimap_overlay

        y0, x0, y1, x1 = bounds
        return trimap_overlay(
            self.preview_rgb[y0:y1, x0:x1], self.preview_trimap[y0:y1, x0:x1], opacity
        )

    # -- full resolution -------------------------------------------------------------------
    def stroke_job(self, stroke: Stroke, params: BrushParams | None = None) -> StrokeJob:
        """A private crop around ``stroke`` (photo pixels), large enough that the result equals
        ``stroke_patch`` on the whole matte (integer offsets: the same boxes and fits)."""
        height, width = self.alpha.shape
        pts = np.asarray(stroke.points, np.float64).reshape(-1, 2)
        pad = 2.5 * stroke.radius + 8
        x0 = max(0, math.floor(pts[:, 0].min() - pad))
        y0 = max(0, math.floor(pts[:, 1].min() - pad))
        x1 = min(width, math.ceil(pts[:, 0].max() + pad) + 1)
        y1 = min(height, math.ceil(pts[:, 1].max() + pad) + 1)
        x0, y0 = min(x0, max(0, x1 - 1)), min(y0, max(0, y1 - 1))
        local = Stroke(stroke.mode, stroke.radius, tuple((x - x0, y - y0) for x, y in pts))
        return StrokeJob(
            self.alpha[y0:y1, x0:x1].copy(),
            self.rgb[y0:y1, x0:x1],  # the photo never changes
            local,
            y0,
            x0,
            self.version,
            params,
        )

    def stroke_now(self, stroke: Stroke, params: BrushParams | None = None) -> MattePatch | None:
        """``stroke_patch`` on the current matte (when a background result came back stale)."""
        return stroke_patch(self.alpha, self.rgb, stroke, params)

    def click(self, point: tuple[float, float], *, add: bool = False) -> MattePatch | None:
        """The Subject tool's click (keep the object there, or grow one with GrabCut). Reads the
        matte: call it on a snapshot (``snapshot``) when running in the background."""
        if self._found is None:
            self._found = objects(self.model_alpha)
        return click_subject(
            self.rgb,
            self.model_alpha,
            self.alpha,
            point,
            add=add,
            probabilities=self.probabilities,
            found=self._found,
        )

    def snapshot(self) -> MatteEdit:
        """A copy sharing the photo and model (read-only) with its own matte: for a click run
        off the GUI thread. Its ``version`` is this one's."""
        copy = object.__new__(MatteEdit)
        copy.__dict__.update(self.__dict__)
        copy.alpha = self.alpha.copy()
        if self._found is None:
            self._found = objects(self.model_alpha)
        copy._found = self._found
        return copy

    def reset_patch(self) -> MattePatch | None:
        """The patch that puts the model's matte back ("Reset to model")."""
        return MattePatch.between(self.alpha, self.model_alpha)

    def apply(self, patch: MattePatch) -> AppliedPatch:
        """Write ``patch`` (do): matte and trimap of its rectangle; bumps ``version``."""
        y0, x0, y1, x1 = patch.bounds
        before = self.trimap[y0:y1, x0:x1].copy()
        patch.apply(self.alpha)
        after = edited_trimap(patch.after)
        self.trimap[y0:y1, x0:x1] = after
        self.version += 1
        self._preview_stale = True
        return AppliedPatch(patch, before, after)

    def redo(self, applied: AppliedPatch) -> None:
        y0, x0, y1, x1 = applied.patch.bounds
        applied.patch.apply(self.alpha)
        self.trimap[y0:y1, x0:x1] = applied.trimap_after
        self.version += 1
        self._preview_stale = True

    def undo(self, applied: AppliedPatch) -> None:
        y0, x0, y1, x1 = applied.patch.bounds
        applied.patch.revert(self.alpha)
        self.trimap[y0:y1, x0:x1] = applied.trimap_before
        self.version += 1
        self._preview_stale = True
