"""Speed of hand corrections (issue 10), with baselines measured in the same run.

    .venv/bin/python benchmarks/edit_speed.py [--runs 7]

A generated 4000x3000 photo (textured background, an orange subject the model found, a green
one it missed) and a soft matte of the found one. Prints medians of ``--runs`` runs of:
  - live painting: one mouse move (the stroke's last segment) on the 1600x1200 preview, and the
    whole stroke so far on the preview;
  - stroke end: the whole stroke at full resolution (radius 60 px, ~1400 px long);
  - undo of that stroke (patch revert);
  - a click on an object (objects() + keep_object), and the GrabCut grow on a missed one;
  - baselines: a full-frame GaussianBlur of the matte (sigma 8) and a full-frame guided filter
    refine of the matte at full resolution (what segmenting a photo costs after the model).
Goals (issue 10): preview <= 33 ms, stroke end <= 300 ms, GrabCut click <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np


def scene(height: int = 3000, width: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    photo = np.zeros((height, width, 3), np.float32)
    for cell, amplitude in ((4, 20.0), (64, 40.0)):
        small = rng.normal(0, amplitude, (height // cell + 1, width // cell + 1, 3))
        photo += cv2.resize(small.astype(np.float32), (width, height), cv2.INTER_CUBIC)
    photo = np.clip(photo + 120, 0, 255).astype(np.uint8)
    found = np.zeros((height, width), np.uint8)
    cv2.ellipse(found, (1100, 1600), (600, 1100), 0, 0, 360, 1, -1)
    missed = np.zeros((height, width), np.uint8)
    cv2.ellipse(missed, (3000, 1900), (550, 800), 0, 0, 360, 1, -1)
    photo[found > 0] = (photo[found > 0] // 3 + (150, 80, 20)).astype(np.uint8)
    photo[missed > 0] = (photo[missed > 0] // 3 + (20, 120, 40)).astype(np.uint8)
    matte = cv2.GaussianBlur(found.astype(np.float32), (0, 0), 6)
    return photo, matte


def timed(fn: Callable[[int], object], runs: int) -> float:
    walls = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        walls.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(walls)


def real_photo_clicks(grow_object, count: int = 8) -> tuple[list[float], list[float]] | None:
    """ms of a grow click on real photos, in full and its first look (the app's two GrabCuts):
    max-flow costs far more on real textures than on the generated scene. Oxford photos are
    enlarged 8x to ~12 MP (so the work size is the photo's own pixels) and clicked at the pet's
    most interior point with an empty matte (the model missed it)."""
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "oxford-pets-sample"
    names = root / "annotations" / "test.txt"
    if not names.is_file():
        return None
    from petseg_gui.edits.live import QUICK_LONG_SIDE

    walls, looks = [], []
    listed = [line.split()[0] for line in names.read_text().splitlines() if line.strip()]
    present = [name for name in listed if (root / "images" / f"{name}.jpg").is_file()]
    for name in present[:: max(1, len(present) // count)][:count]:
        bgr = cv2.imread(str(root / "images" / f"{name}.jpg"))
        trimap = cv2.imread(str(root / "annotations" / "trimaps" / f"{name}.png"), 0)
        if bgr is None or trimap is None:
            continue
        rgb = np.kron(np.ascontiguousarray(bgr[..., ::-1]), np.ones((8, 8, 1), np.uint8))
        inside = cv2.distanceTransform((trimap == 1).astype(np.uint8), cv2.DIST_L2, 5)
        y, x = np.unravel_index(np.argmax(inside), inside.shape)
        empty = np.zeros(rgb.shape[:2], np.float32)
        start = time.perf_counter()
        grow_object(rgb, empty, (8.0 * x + 4, 8.0 * y + 4))
        walls.append(1000.0 * (time.perf_counter() - start))
        # The first look: GrabCut on the 1600 px preview at QUICK_LONG_SIDE (edits.live).
        preview = cv2.resize(rgb, (1600, 1600 * rgb.shape[0] // rgb.shape[1]), cv2.INTER_AREA)
        scale = 1600 / rgb.shape[1]
        start = time.perf_counter()
        grow_object(
            preview,
            np.zeros(preview.shape[:2], np.float32),
            ((8.0 * x + 4) * scale, (8.0 * y + 4) * scale),
            long_side=QUICK_LONG_SIDE,
        )
        looks.append(1000.0 * (time.perf_counter() - start))
    return (walls, looks) if walls else None


def main() -> None:
    from petseg_gui.edits import (
        Stroke,
        grow_object,
        keep_object,
        objects,
        preview_patch,
        stroke_patch,
    )
    from petseg_gui.inference.matting import (
        RefineParams,
        apply_at_full_resolution,
        downscale,
        guided_coefficients,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs

    photo, matte = scene()
    h, w = matte.shape
    scale = 1600 / w
    preview_rgb = cv2.resize(photo, (1600, 1200), interpolation=cv2.INTER_AREA)
    preview_matte = cv2.resize(matte, (1600, 1200), interpolation=cv2.INTER_AREA)
    # A stroke along the found subject's right edge, ~1400 px, a point every ~20 px (mouse).
    ys = np.linspace(900, 2300, 70)
    points = tuple((1700.0 + 15 * np.sin(y / 150), float(y)) for y in ys)
    stroke = Stroke("add", 60, points)
    print(
        f"photo {w}x{h}, preview 1600x1200, brush radius 60 px, stroke {len(points)} points; "
        f"median of {runs} runs; cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}"
    )

    rows: list[tuple[str, float, str]] = []
    blur = timed(lambda _: cv2.GaussianBlur(matte, (0, 0), 8), runs)
    rows.append(("baseline: GaussianBlur of the 12 MP matte, sigma 8", blur, ""))

    k = 7
    guide = downscale(photo, k).astype(np.float32) / 255.0
    target = downscale(matte, k)
    none = np.zeros(target.shape, np.uint8)

    def refine(_: int) -> None:
        a, b = guided_coefficients(guide, target, 4, 3e-4)
        apply_at_full_resolution(photo, a, b, none, k, RefineParams())

    refine_ms = timed(refine, runs)
    rows.append(("baseline: full-frame guided refine of the matte", refine_ms, ""))

    def ratio(ms: float) -> str:
        return f"{ms / blur:.2f}x blur, {ms / refine_ms:.2f}x refine"

    for n in (2, len(points)):
        part = Stroke("add", 60, points[-n:])
        t = timed(lambda _, s=part: preview_patch(preview_matte, preview_rgb, s, scale), runs)
        label = "one mouse move" if n == 2 else "whole stroke"
        rows.append((f"preview stroke ({label}), goal <= 33", t, ratio(t)))
    patch = None

    def full(_: int) -> None:
        nonlocal patch
        patch = stroke_patch(matte, photo, stroke)

    t = timed(full, max(3, runs // 2))
    rows.append(("stroke end, full resolution, goal <= 300", t, ratio(t)))
    edited = matte.copy()
    patch.apply(edited)
    t = timed(lambda _: patch.revert(edited), runs)
    rows.append((f"undo (revert {patch.after.shape[1]}x{patch.after.shape[0]} patch)", t, ratio(t)))

    def pick(_: int) -> None:
        keep_object(matte, (1100.0, 1600.0), found=objects(matte))

    t = timed(pick, runs)
    rows.append(("object click (objects + keep_object)", t, ratio(t)))
    t = timed(lambda _: grow_object(photo, matte, (3000.0, 1900.0)), max(3, runs // 2))
    rows.append(("GrabCut grow click, goal <= 1000", t, ratio(t)))
    real = real_photo_clicks(grow_object)
    if real:
        walls, looks = real
        rows.append(
            (
                f"GrabCut grow, {len(walls)} real photos at 12 MP: median",
                statistics.median(walls),
                "",
            )
        )
        rows.append(("  the slowest of them", max(walls), ""))
        rows.append(
            ("  its first look (preview, 256 px), goal <= 1000", statistics.median(looks), "")
        )
        rows.append(("  the slowest first look", max(looks), ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'ms':>7}  ratio")
    for name, ms, note in rows:
        print(f"{name:<{width}}  {ms:7.1f}  {note}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
