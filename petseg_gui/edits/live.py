"""The matte being edited in the app, at full and at preview size (Qt-free; the UI's tools
drive it, so ui/ holds no image maths).

``MatteEdit`` owns the full-resolution matte and trimap, and a preview-sized copy that live
painting writes into (``paint``). A finished stroke or a click is a :class:`MattePatch` at full
resolution; ``apply``/``undo``/``redo`` write it (and the trimap of its rectangle) exactly, or
for a large click or Reset swap in whole arrays made in the worker (SWAP_PIXELS), and every
change bumps ``version`` so a result computed in the background from an older matte is noticed.

Only the GUI thread writes the full-resolution matte; workers read it in place instead of the GUI
thread copying 48 MB first (a 12 MP copy is 10 to 150 ms: a dropped frame or several). A reader
checks afterwards that no write overlapped its read: ``version`` on the GUI thread when the result
arrives (a write is finished by then), or ``consistent`` inside the worker (a write counter that
is odd while a write is under way, as a seqlock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from petseg_gui.edits.brush import BrushParams, Stroke, preview_patch, stroke_patch
from petseg_gui.edits.patch import MattePatch
from petseg_gui.edits.subject_pick import (
    Objects,
    click_grows,
    click_subject,
    grow_object,
    objects,
)
from petseg_gui.inference.matting import trimap_from_alpha

TRIMAP_LOW, TRIMAP_HIGH = 0.1, 0.9  # an edited matte's trimap (the model's own uses the same)
# A patch up to this many photo pixels brings the preview copy up to date at once (a few ms); a
# larger one (a click, Reset, their undo) leaves it to the next matte the session prepares in a
# worker, whose preview-sized alpha is the same downscale (``adopt_preview``).
SYNC_NOW_PIXELS = 2_000_000
# A click's or Reset's patch of at least this many photo pixels is applied, undone and redone
# by swapping whole arrays made in its worker, not by writing its rectangle on the GUI thread:
# a 12 MP matte and trimap took 8-16 ms to write there (benchmarks/gui_latency.py, Subject
# click). The arrays are the live ones at each step (undo and redo come strictly last in,
# first out, so later edits are undone in place before a swap back), so an undo step holds
# one whole matte and trimap instead of the rectangle's values before and after.
SWAP_PIXELS = 2_000_000
# GrabCut's working size for the first look at a grow click: ~0.2 s where the full click takes 1
# to 2 s on real photos (edit_speed.py), at the price of coarser edges until the full one lands.
QUICK_LONG_SIDE = 256


def edited_trimap(alpha: np.ndarray) -> np.ndarray:
    """uint8 trimap of an edited matte (no model boundary: the alpha alone decides)."""
    return trimap_from_alpha(np.ascontiguousarray(alpha), None, TRIMAP_LOW, TRIMAP_HIGH)


def resized_preview(alpha: np.ndarray, preview_rgb: np.ndarray) -> np.ndarray:
    """``alpha`` area-averaged to ``preview_rgb``'s size (a MatteEdit's preview copy)."""
    import cv2

    h, w = preview_rgb.shape[:2]
    if (h, w) == alpha.shape:
        return alpha.copy()
    return cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True, eq=False)
class AppliedPatch:
    """What undo and redo of one patch write: the patch with the trimap of its rectangle before
    and after (undo restores both exactly); or, for a patch of SWAP_PIXELS or more, the whole
    (matte, trimap) arrays before and after, which undo and redo swap in instead."""

    patch: MattePatch | None
    trimap_before: np.ndarray | None
    trimap_after: np.ndarray | None
    whole_before: tuple[np.ndarray, np.ndarray] | None = None
    whole_after: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True, eq=False)
class PreparedPatch:
    """A patch with the trimap of its new values, both made in a worker; for a patch of
    SWAP_PIXELS or more, the whole matte and trimap with the patch written (``whole``), also
    made there, so that the GUI thread applies it by swapping arrays instead of writing them."""

    patch: MattePatch
    trimap: np.ndarray
    whole: tuple[np.ndarray, np.ndarray] | None = None


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
        found: dict | None = None,
    ) -> None:
        """Builds the preview copy (a 12 MP downscale): construct it in a worker."""
        self.rgb = rgb
        self.preview_rgb = preview_rgb
        self.alpha = np.array(alpha, np.float32)
        self.trimap = np.array(trimap, np.uint8)
        self.model_alpha = model_alpha
        self.probabilities = probabilities
        self.version = 0
        self.writes = 0  # odd while the GUI thread writes the full-size matte (``consistent``)
        self._preview_stale = False
        # objects(model_alpha), computed by the first click (in its worker) and shared with a
        # MatteEdit made from this one for the same model matte.
        self._found: dict[str, Objects] = {} if found is None else found
        self.set_preview(preview_rgb, resized_preview(self.alpha, preview_rgb))

    def restarted(self, alpha: np.ndarray) -> MatteEdit:
        """A new MatteEdit of the same photo and model starting from ``alpha`` (a sidecar's
        matte, a kept edit after a new model): for a worker, like the constructor."""
        return MatteEdit(
            self.rgb,
            self.preview_rgb,
            alpha,
            edited_trimap(alpha),
            self.model_alpha,
            self.probabilities,
            self._found,
        )

    def consistent(self, read):
        """``read()`` (in a worker, reading ``alpha``/``trimap`` in place), or None when the GUI
        thread wrote the matte meanwhile (then read again later)."""
        before = self.writes
        if before % 2:
            return None
        value = read()
        return value if self.writes == before else None

    @property
    def scale(self) -> float:
        """Preview pixels per photo pixel."""
        return self.preview_rgb.shape[1] / self.rgb.shape[1]

    def sync_preview(self) -> None:
        """Make the preview copy the downscaled full matte again (after a full-size change)."""
        self.set_preview(self.preview_rgb, resized_preview(self.alpha, self.preview_rgb))

    def adopt_preview(self, preview_alpha: np.ndarray) -> bool:
        """Take ``preview_alpha`` (the session's matte at the preview size, made in a worker from
        this edit's current matte) as the preview copy; False when its size differs."""
        if preview_alpha.shape != self.preview_alpha.shape:
            return False
        self.set_preview(self.preview_rgb, preview_alpha)
        return True

    def set_preview(self, preview_rgb: np.ndarray, preview_alpha: np.ndarray) -> None:
        """The preview copy: ``preview_alpha`` (copied) is the full matte at ``preview_rgb``'s
        size (``resized_preview``, or the session's matte at the preview size); a new size when
        the panes were resized."""
        self.preview_rgb = preview_rgb
        self.preview_alpha = np.array(preview_alpha, np.float32)
        self.preview_trimap = edited_trimap(self.preview_alpha)
        self._preview_stale = False

    @property
    def preview_stale(self) -> bool:
        return self._preview_stale

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

    def click(self, point: tuple[float, float], *, add: bool = False) -> PreparedPatch | None:
        """The Subject tool's click (keep the object there, or grow one with GrabCut), with the
        trimap of its rectangle. Meant for a worker: it reads the matte in place, so the result
        holds only if ``version`` is unchanged when it arrives (the GUI thread checks)."""
        patch = click_subject(
            self.rgb,
            self.model_alpha,
            self.alpha,
            point,
            add=add,
            probabilities=self.probabilities,
            found=self._objects(),
        )
        return None if patch is None else self._prepared(patch)

    def _prepared(self, patch: MattePatch) -> PreparedPatch:
        """``patch`` with its trimap, and the whole arrays for a large one (in a worker)."""
        trimap = edited_trimap(patch.after)
        if patch.after.size < SWAP_PIXELS:
            return PreparedPatch(patch, trimap)
        # Copies of the matte as read in place: if the GUI thread wrote meanwhile, the version
        # has moved and the GUI thread drops this patch.
        y0, x0, y1, x1 = patch.bounds
        alpha, whole_trimap = self.alpha.copy(), self.trimap.copy()
        alpha[y0:y1, x0:x1] = patch.after
        whole_trimap[y0:y1, x0:x1] = trimap
        return PreparedPatch(patch, trimap, (alpha, whole_trimap))

    def quick_click(self, point: tuple[float, float], *, add: bool = False) -> np.ndarray | None:
        """A first look at a Subject click that grows a subject: GrabCut on the preview copy at
        a small working size; the preview-sized alpha it gives, or None when the click does not
        grow one (it keeps an object, which is quick anyway). For a worker, beside ``click``."""
        if not click_grows(self._objects(), self.alpha, point):
            return None
        preview, scale = self.preview_alpha.copy(), self.scale
        patch = grow_object(
            self.preview_rgb,
            preview,
            (point[0] * scale, point[1] * scale),
            self.probabilities,
            union=add,
            long_side=QUICK_LONG_SIDE,
        )
        if patch is not None:
            patch.apply(preview)
        return preview

    def _objects(self) -> Objects:
        """objects(model_alpha), computed once (by the first click, in its worker)."""
        found = self._found.get("objects")
        if found is None:
            found = self._found["objects"] = objects(self.model_alpha)
        return found

    def reset_patch(self) -> MattePatch | None:
        """The patch that puts the model's matte back ("Reset to model")."""
        return MattePatch.between(self.alpha, self.model_alpha)

    def prepared_reset(self) -> PreparedPatch | None:
        """reset_patch with its trimap (and whole arrays when large): for a worker, like
        ``click``; the result holds only if ``version`` is unchanged when it arrives."""
        patch = self.reset_patch()
        return None if patch is None else self._prepared(patch)

    def apply(self, patch: MattePatch | PreparedPatch) -> AppliedPatch:
        """Write ``patch`` (do): matte and trimap of its rectangle; bumps ``version``. A
        ``PreparedPatch`` brings its trimap (computed in the worker, not here)."""
        trimap_after = None
        if isinstance(patch, PreparedPatch) and patch.whole is not None:
            applied = AppliedPatch(None, None, None, (self.alpha, self.trimap), patch.whole)
            self.redo(applied)
            return applied
        if isinstance(patch, PreparedPatch):
            patch, trimap_after = patch.patch, patch.trimap
        y0, x0, y1, x1 = patch.bounds
        before = self.trimap[y0:y1, x0:x1].copy()
        after = edited_trimap(patch.after) if trimap_after is None else trimap_after
        applied = AppliedPatch(patch, before, after)
        self.redo(applied)
        return applied

    def redo(self, applied: AppliedPatch) -> None:
        if applied.whole_after is not None:
            self._swap(applied.whole_after)
        else:
            self._write(applied.patch, applied.patch.after, applied.trimap_after)

    def undo(self, applied: AppliedPatch) -> None:
        if applied.whole_before is not None:
            self._swap(applied.whole_before)
        else:
            self._write(applied.patch, applied.patch.before, applied.trimap_before)

    def _write(self, patch: MattePatch, values: np.ndarray, trimap: np.ndarray) -> None:
        y0, x0, y1, x1 = patch.bounds
        self.writes += 1  # odd: a reader in a worker knows its read may be torn
        self.alpha[y0:y1, x0:x1] = values
        self.trimap[y0:y1, x0:x1] = trimap
        self.writes += 1
        self.version += 1
        if patch.after.size <= SYNC_NOW_PIXELS:
            self._sync_preview_rect(patch.bounds)
        else:
            self._preview_stale = True

    def _swap(self, arrays: tuple[np.ndarray, np.ndarray]) -> None:
        """Make ``arrays`` (matte, trimap) the live ones (a large patch): a reader that holds
        the old arrays goes on reading them whole, and sees the version move."""
        self.writes += 1
        self.alpha, self.trimap = arrays
        self.writes += 1
        self.version += 1
        self._preview_stale = True

    def _sync_preview_rect(self, bounds: tuple[int, int, int, int]) -> None:
        """Bring the preview pixels that cover ``bounds`` (photo pixels) up to date: the area
        average of the full matte over each preview pixel's footprint, as ``sync_preview``."""
        import cv2

        ph, pw = self.preview_alpha.shape
        h, w = self.alpha.shape
        if (ph, pw) == (h, w):
            y0, x0, y1, x1 = bounds
            self.preview_alpha[y0:y1, x0:x1] = self.alpha[y0:y1, x0:x1]
        else:
            sy, sx = ph / h, pw / w
            py0, px0 = math.floor(bounds[0] * sy), math.floor(bounds[1] * sx)
            py1, px1 = min(ph, math.ceil(bounds[2] * sy)), min(pw, math.ceil(bounds[3] * sx))
            fy0, fx0 = math.floor(py0 / sy), math.floor(px0 / sx)
            fy1, fx1 = min(h, math.ceil(py1 / sy)), min(w, math.ceil(px1 / sx))
            self.preview_alpha[py0:py1, px0:px1] = cv2.resize(
                self.alpha[fy0:fy1, fx0:fx1], (px1 - px0, py1 - py0), interpolation=cv2.INTER_AREA
            )
            y0, x0, y1, x1 = py0, px0, py1, px1
        self.preview_trimap[y0:y1, x0:x1] = edited_trimap(self.preview_alpha[y0:y1, x0:x1])
