""" "Add to subject" / "Remove from subject" brush strokes that snap to the photo's edges.

A stroke is a polyline of brush centres (photo pixels) with a radius. Around it:

- the **core** (distance <= ``core`` x radius) is certain: alpha becomes 1 (add) or 0 (remove);
- **outside** the brush circle (distance > radius) the old matte is trusted as it is;
- the **ring** between them is unknown: its alpha comes from the colours, through the same
  guided filter the matte is refined with (inference/matting.py), fitted with confidence weights
  (core and outside trusted, ring not). A rough stroke along fur therefore adds the fur-coloured
  part of the ring and not the background-coloured part, with a soft edge at the colour edge
  instead of a hard disc at the brush's circle. In a flat area the ring becomes a smooth ramp.

The result is blended with the old matte by a footprint weight (1 inside the circle, fading to 0
at ``(1 + feather)`` x radius), and an add stroke never lowers alpha (a remove never raises it).
Nothing at distance >= (1 + feather) x radius changes, bit for bit. The fit runs at a reduced
scale inside the stroke's padded bounding box only, then is applied at full resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

from petseg_gui.edits.patch import MattePatch
from petseg_gui.inference.matting import (
    RefineParams,
    apply_at_full_resolution,
    downscale,
    guided_coefficients,
)

Mode = Literal["add", "remove"]
_UNKNOWN_WEIGHT = 0.05  # the ring counts a little: enough that a window seeing only core colours
# does not extrapolate to the ring's other colours (1e-3 left 0.3 alpha past a colour edge)
_SUBPIXEL_BITS = 3  # cv2.polylines fixed-point: brush centres to 1/8 pixel


@dataclass(frozen=True)
class Stroke:
    """One brush stroke (one undo step). ``points``: brush centres as (x, y) in the matte's
    pixel coordinates (the photo's, or the preview's after ``scaled``); ``radius`` in the same
    pixels."""

    mode: Mode
    radius: float
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if self.mode not in ("add", "remove"):
            raise ValueError(f"stroke mode must be 'add' or 'remove', got {self.mode!r}")
        if not self.radius > 0:
            raise ValueError(f"brush radius must be positive, got {self.radius}")
        if not self.points:
            raise ValueError("a stroke needs at least one point")

    def scaled(self, factor: float) -> Stroke:
        """The same stroke on an image ``factor`` times the size (photo -> preview: < 1).
        Pixel centres map as (p + 0.5) * factor - 0.5."""
        pts = tuple(((x + 0.5) * factor - 0.5, (y + 0.5) * factor - 0.5) for x, y in self.points)
        return Stroke(self.mode, self.radius * factor, pts)

    def tail(self, count: int = 2) -> Stroke:
        """The last ``count`` points: what a mouse move added (live preview paints only that)."""
        return replace(self, points=self.points[-count:])

    def with_point(self, x: float, y: float) -> Stroke:
        return replace(self, points=(*self.points, (float(x), float(y))))


@dataclass(frozen=True)
class BrushParams:
    """Knobs of the stroke (fractions of the brush radius, the guided filter's eps)."""

    core: float = 0.5  # certain part of the brush: add -> 1, remove -> 0
    feather: float = 0.25  # beyond the circle, the change fades out over this much
    eps: float = 3e-4  # as RefineParams: colour steps below ~sqrt(eps) are texture
    guide_window: int = 8  # window radius in guide pixels: bigger brushes fit at lower scale
    edge_aware: bool = True  # False: plain soft brush (no colour fit)


def stroke_patch(
    matte: np.ndarray,
    rgb: np.ndarray,
    stroke: Stroke,
    params: BrushParams | None = None,
) -> MattePatch | None:
    """The change ``stroke`` makes to ``matte`` (float32 H x W in [0, 1]) given the photo
    ``rgb`` (uint8 H x W x 3, same size). Does not modify ``matte``; ``patch.apply(matte)`` does.

    Only the stroke's padded bounding box is computed. Returns None when the stroke lies
    entirely outside the image or changes nothing.
    """
    params = params or BrushParams()
    height, width = matte.shape
    if rgb.shape[:2] != (height, width):
        raise ValueError(f"photo {rgb.shape[:2]} and matte {matte.shape} differ in size")
    radius = float(stroke.radius)
    reach = radius * (1.0 + params.feather)  # nothing changes at this distance or beyond
    window = max(1, math.ceil(radius * (1.0 - params.core)))  # must see core and outside
    pts = np.asarray(stroke.points, np.float64).reshape(-1, 2)

    foot = _box_around(pts, reach + 1.0, height, width)
    if foot is None:
        return None
    # The colour fit needs to see past the footprint (outside is what it learns "old" from).
    ctx = _box_around(pts, reach + 2 * window + 2, height, width)
    assert ctx is not None
    cy0, cx0, cy1, cx1 = ctx
    old = matte[cy0:cy1, cx0:cx1]
    dist = _distance_to_path(pts, ctx)

    target = 1.0 if stroke.mode == "add" else 0.0
    core = dist <= radius * params.core
    if params.edge_aware:
        value = _edge_aware(old, rgb[cy0:cy1, cx0:cx1], dist, core, target, radius, window, params)
    else:
        value = np.float32(target)
    # Footprint: 1 inside the circle, linear to 0 at ``reach``; exactly 0 (old kept) beyond.
    fade = max(reach - radius, 1e-6)
    weight = np.clip((reach - dist) / fade, 0.0, 1.0).astype(np.float32)
    new = old + weight * (value - old)
    new = np.maximum(old, new) if stroke.mode == "add" else np.minimum(old, new)

    fy0, fx0, fy1, fx1 = foot
    inner = (slice(fy0 - cy0, fy1 - cy0), slice(fx0 - cx0, fx1 - cx0))
    return MattePatch.between(old[inner], new[inner].astype(np.float32), fy0, fx0)


def preview_patch(
    preview_matte: np.ndarray,
    preview_rgb: np.ndarray,
    stroke: Stroke,
    scale: float,
    params: BrushParams | None = None,
) -> MattePatch | None:
    """Live painting: ``stroke`` (photo coordinates) on the preview-sized matte and photo,
    ``scale`` = preview size / photo size. Call it on ``stroke.tail()`` for every mouse move
    and run ``stroke_patch`` on the whole stroke at full resolution when the stroke ends. Same
    algorithm as the full-resolution stroke (what you paint is what you get), on ~6x fewer
    pixels."""
    return stroke_patch(preview_matte, preview_rgb, stroke.scaled(scale), params)


def _edge_aware(
    old: np.ndarray,
    rgb: np.ndarray,
    dist: np.ndarray,
    core: np.ndarray,
    target: float,
    radius: float,
    window: int,
    params: BrushParams,
) -> np.ndarray:
    """Alpha from a confidence-weighted guided filter: core -> target, outside -> old."""
    known = core | (dist > radius)
    fit_target = np.where(core, np.float32(target), old).astype(np.float32)
    weights = np.where(known, np.float32(1.0), np.float32(_UNKNOWN_WEIGHT))
    h, w = old.shape
    # Fit at a reduced integer scale (as the matte does): the window is then ~guide_window
    # guide pixels whatever the brush size, so a big brush costs about what a small one does.
    k = max(1, min(window // params.guide_window, h, w))
    guide = downscale(rgb, k).astype(np.float32) * np.float32(1.0 / 255.0)
    small_target = downscale(fit_target, k)
    small_weights = downscale(weights, k)
    win = max(1, round(window / k))
    mean_a, mean_b = guided_coefficients(guide, small_target, win, params.eps, small_weights)
    none = np.zeros(mean_b.shape, np.uint8)
    value, _ = apply_at_full_resolution(rgb, mean_a, mean_b, none, k, RefineParams())
    value[core] = target  # the core is certain, whatever the fit says
    return value


def _box_around(
    pts: np.ndarray, pad: float, height: int, width: int
) -> tuple[int, int, int, int] | None:
    """(y0, x0, y1, x1) of the points' bounding box grown by ``pad``, clipped to the image."""
    x0 = max(0, math.floor(pts[:, 0].min() - pad))
    y0 = max(0, math.floor(pts[:, 1].min() - pad))
    x1 = min(width, math.ceil(pts[:, 0].max() + pad) + 1)
    y1 = min(height, math.ceil(pts[:, 1].max() + pad) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return y0, x0, y1, x1


def _distance_to_path(pts: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """float32 distance of every pixel of ``box`` (y0, x0, y1, x1) to the stroke's polyline.

    Drawn on a canvas that also holds every point, so a stroke that runs off the photo still
    measures from where the brush really was."""
    y0, x0, y1, x1 = box
    oy = min(y0, math.floor(pts[:, 1].min()) - 1)
    ox = min(x0, math.floor(pts[:, 0].min()) - 1)
    height = max(y1, math.ceil(pts[:, 1].max()) + 2) - oy
    width = max(x1, math.ceil(pts[:, 0].max()) + 2) - ox
    canvas = np.full((height, width), 255, np.uint8)
    local = (pts - (ox, oy)) * (1 << _SUBPIXEL_BITS)
    fixed = np.round(local).astype(np.int32).reshape(-1, 1, 2)
    if len(pts) == 1:
        cv2.circle(canvas, tuple(int(v) for v in fixed[0, 0]), 0, 0, -1, shift=_SUBPIXEL_BITS)
    else:
        cv2.polylines(canvas, [fixed], False, 0, 1, cv2.LINE_8, shift=_SUBPIXEL_BITS)
    dist = cv2.distanceTransform(canvas, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
