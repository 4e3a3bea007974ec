"""The "Subject" tool: click an object the model found to keep it (and send the others to the
background), or click where it found nothing to grow a subject there with GrabCut.

Objects are the connected parts of matte > 0.5, found at a reduced size (~512 px long side:
a click needs the object's identity, not its edge). Each pixel belongs to the nearest object
within a margin, so an object's soft edge (alpha < 0.5) goes with it. Everything returns a
:class:`MattePatch`, so a click is undone like a stroke.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from petseg_gui.contract.geometry import resize
from petseg_gui.edits.patch import MattePatch
from petseg_gui.inference.matting import (
    RefineParams,
    alpha_from_probabilities,
    apply_at_full_resolution,
    downscale,
    guided_coefficients,
)

WORK_LONG_SIDE = 512  # reduced size for objects and GrabCut
SOFT_EDGE_MARGIN = 8  # reduced pixels around an object that still belong to it (~60 px at 12 MP)
CLICK_TOLERANCE = 3  # reduced pixels: a click just beside a thin object still picks it


@dataclass(frozen=True, eq=False)
class Objects:
    """``labels``: int32 h x w at the reduced size (H // k, W // k), 0 = nothing, 1..count;
    ``owner``: int32 h x w, the object each pixel's soft edge belongs to (0 beyond the margin)."""

    labels: np.ndarray
    owner: np.ndarray
    count: int
    k: int

    def at(self, point: tuple[float, float]) -> int:
        """The object under ``point`` ((x, y) photo pixels), or the nearest within a few reduced
        pixels; 0 when there is none."""
        h, w = self.labels.shape
        x = int(np.clip(round((point[0] + 0.5) / self.k - 0.5), 0, w - 1))
        y = int(np.clip(round((point[1] + 0.5) / self.k - 0.5), 0, h - 1))
        if self.labels[y, x]:
            return int(self.labels[y, x])
        t = CLICK_TOLERANCE
        y0, x0 = max(0, y - t), max(0, x - t)
        window = self.labels[y0 : y + t + 1, x0 : x + t + 1]
        ys, xs = np.nonzero(window)
        if ys.size == 0:
            return 0
        nearest = np.argmin((ys + y0 - y) ** 2 + (xs + x0 - x) ** 2)
        return int(window[ys[nearest], xs[nearest]])


def objects(matte: np.ndarray, long_side: int = WORK_LONG_SIDE) -> Objects:
    """The objects of ``matte`` (float32 H x W in [0, 1]); compute once per model matte."""
    k = max(1, round(max(matte.shape) / long_side))
    small = downscale(matte, k)
    found = (small > 0.5).astype(np.uint8)
    count, labels = cv2.connectedComponents(found, connectivity=8, ltype=cv2.CV_32S)
    if count <= 1:
        return Objects(labels, np.zeros_like(labels), 0, k)
    # Nearest object for every pixel: each object pixel is its own seed (DIST_LABEL_PIXEL), and a
    # lookup table turns the seed number into the object's label.
    dist, seeds = cv2.distanceTransformWithLabels(
        1 - found, cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    lut = np.zeros(int(seeds.max()) + 1, np.int32)
    lut[seeds[found > 0]] = labels[found > 0]
    owner = lut[seeds]
    owner[dist > SOFT_EDGE_MARGIN] = 0
    return Objects(labels, owner, count - 1, k)


def keep_object(
    model_matte: np.ndarray,
    point: tuple[float, float],
    *,
    add: bool = False,
    current: np.ndarray | None = None,
    found: Objects | None = None,
) -> MattePatch | None:
    """Keep the object of ``model_matte`` under ``point`` as the subject, soft edge included:
    alone (others -> 0), or with ``add`` added to ``current`` (the matte being edited, default
    ``model_matte``). The patch goes from ``current`` to the result; None when the click hit no
    object (then ``grow_object``) or changed nothing. ``found``: ``objects(model_matte)``,
    cached by the caller."""
    found = found or objects(model_matte)
    label = found.at(point)
    if label == 0:
        return None
    base = model_matte if current is None else current
    keep = _upsampled(found.owner == label, model_matte.shape)
    new = model_matte * keep
    if add:
        np.maximum(new, base, out=new)
    return MattePatch.between(base, new)


def grow_object(
    rgb: np.ndarray,
    matte: np.ndarray,
    point: tuple[float, float],
    probabilities: np.ndarray | None = None,
    *,
    union: bool = True,
    long_side: int = WORK_LONG_SIDE,
    iterations: int = 3,
) -> MattePatch | None:
    """A subject grown around ``point`` from the photo's colours and edges (GrabCut at a reduced
    size, refined at full resolution with the matte's guided filter), united with ``matte``
    (``union=False``: it alone becomes the subject).

    ``rgb``: uint8 H x W x 3; ``matte``: float32 H x W; ``probabilities``: the model's h x w x 3
    output (any size), optional: where the model half-saw something (alpha >= 0.3) GrabCut
    starts from "probably subject". Seeds: a disc at the click is certainly subject, a disc of
    12% of the long side around it probably subject, the existing subject and everything else
    probably background.
    """
    height, width = matte.shape
    k = max(1, round(max(height, width) / long_side))
    small = np.ascontiguousarray(downscale(rgb, k))
    h, w = small.shape[:2]
    x = int(np.clip(round((point[0] + 0.5) / k - 0.5), 0, w - 1))
    y = int(np.clip(round((point[1] + 0.5) / k - 0.5), 0, h - 1))

    seeds = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    cv2.circle(seeds, (x, y), max(4, round(0.12 * max(h, w))), cv2.GC_PR_FGD, -1)
    if probabilities is not None:
        hint = resize(alpha_from_probabilities(probabilities), h, w)
        seeds[hint >= 0.3] = cv2.GC_PR_FGD
    seeds[downscale(matte, k) > 0.5] = cv2.GC_PR_BGD  # already the subject: the union keeps it
    cv2.circle(seeds, (x, y), max(2, round(0.015 * max(h, w))), cv2.GC_FGD, -1)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut's colour models start from k-means with OpenCV's RNG: seed it (per thread), so
    # the same click on the same photo gives the same subject (and undo/redo/tests agree).
    cv2.setRNGSeed(0)
    cv2.grabCut(small, seeds, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    grown = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    # Only the part connected to the click: GrabCut also takes look-alike patches far away.
    _, parts = cv2.connectedComponents(grown, connectivity=8)
    grown = (parts == parts[y, x]).astype(np.float32)

    # Edge refinement as for the model's matte (window ~2 reduced pixels), then gated to near
    # the grown object so nothing far away changes by a rounding error.
    guide = small.astype(np.float32) * np.float32(1.0 / 255.0)
    params = RefineParams()
    mean_a, mean_b = guided_coefficients(guide, grown, 2, params.eps)
    guide_alpha = np.einsum("hwc,hwc->hw", mean_a.reshape(h, w, -1), guide) + mean_b
    np.clip(guide_alpha, 0.0, 1.0, out=guide_alpha)
    near = cv2.dilate(grown.astype(np.uint8), np.ones((7, 7), np.uint8))
    # Full resolution only in the box around the grown object: the rest cannot change. The box
    # has a margin of 2 reduced pixels, more than the one the upsampling reads, so the box gives
    # the same values as the whole photo would where ``near`` lets them through.
    ys, xs = np.nonzero(near)
    g0, g1 = max(0, int(ys.min()) - 2), min(h, int(ys.max()) + 3)
    c0, c1 = max(0, int(xs.min()) - 2), min(w, int(xs.max()) + 3)
    y0, y1 = g0 * k, (height if g1 == h else g1 * k)
    x0, x1 = c0 * k, (width if c1 == w else c1 * k)
    box = (slice(g0, g1), slice(c0, c1))
    alpha, _ = apply_at_full_resolution(
        rgb[y0:y1, x0:x1],
        np.ascontiguousarray(mean_a[box]),
        np.ascontiguousarray(mean_b[box]),
        np.zeros((g1 - g0, c1 - c0), np.uint8),
        k,
        params,
        guide_alpha=guide_alpha[box],
    )
    alpha *= _upsampled(near > 0, (height, width))[y0:y1, x0:x1]
    if union:
        np.maximum(alpha, matte[y0:y1, x0:x1], out=alpha)
        return MattePatch.between(matte[y0:y1, x0:x1], alpha, y0, x0, owned=True)
    new = np.zeros_like(matte)
    new[y0:y1, x0:x1] = alpha
    return MattePatch.between(matte, new, owned=True)


def click_subject(
    rgb: np.ndarray,
    model_matte: np.ndarray,
    current: np.ndarray,
    point: tuple[float, float],
    *,
    add: bool = False,
    probabilities: np.ndarray | None = None,
    found: Objects | None = None,
) -> MattePatch | None:
    """What a click of the Subject tool does: keep the object under the click (``add``: as
    well as the current subject), or, where the model found nothing, grow one there. A plain
    click makes the clicked thing the only subject in both cases; ``add`` (the modifier) adds
    it. A click on what an earlier edit made subject keeps that part (``add``: nothing to do).
    The patch goes from ``current``."""
    found = found or objects(model_matte)
    if found.at(point):
        return keep_object(model_matte, point, add=add, current=current, found=found)
    if _is_subject(current, point):
        # Subject already, by an earlier edit: a plain click keeps that part alone; with the
        # modifier there is nothing to add (GrabCut would only grow into the background).
        return None if add else keep_object(current, point, current=current)
    return grow_object(rgb, current, point, probabilities, union=add)


def click_grows(found: Objects, current: np.ndarray, point: tuple[float, float]) -> bool:
    """True when a Subject click at ``point`` grows a new subject (GrabCut in
    ``click_subject``): no object of the model there, and no earlier edit made it subject."""
    return not found.at(point) and not _is_subject(current, point)


def _is_subject(matte: np.ndarray, point: tuple[float, float]) -> bool:
    height, width = matte.shape
    x = min(width - 1, max(0, int(point[0])))
    y = min(height - 1, max(0, int(point[1])))
    return bool(matte[y, x] > 0.5)


def _upsampled(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """float32 weight at full resolution from a reduced bool mask: bilinear, so the boundary
    between two objects' regions is a short ramp instead of a k-pixel staircase."""
    return resize(mask.astype(np.float32), shape[0], shape[1])
