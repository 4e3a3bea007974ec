"""curves.png: loss and accuracy per epoch, training and validation, in two panels (like the
paper's Fig. 14/15). Drawn with OpenCV, which the project already needs, instead of adding
matplotlib as a dependency for one small chart."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

PANEL_W, PANEL_H, MARGIN = 520, 360, 56
TRAIN_COLOUR = (200, 90, 30)  # BGR: blue
VALIDATION_COLOUR = (40, 130, 240)  # BGR: orange
INK = (40, 40, 40)


def _values(history: list[dict], key: str) -> list[tuple[int, float]]:
    return [
        (int(r["epoch"]), float(r[key]))
        for r in history
        if r.get(key) is not None and math.isfinite(float(r[key]))
    ]


def _panel(history: list[dict], key: str, title: str) -> np.ndarray:
    import cv2

    image = np.full((PANEL_H, PANEL_W, 3), 255, np.uint8)
    series = [
        (_values(history, key), TRAIN_COLOUR),
        (_values(history, f"val_{key}"), VALIDATION_COLOUR),
    ]
    points = [p for s, _ in series for p in s]
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, title, (MARGIN, 28), font, 0.6, INK, 1, cv2.LINE_AA)
    left, top, right, bottom = MARGIN, 44, PANEL_W - 20, PANEL_H - 44
    cv2.rectangle(image, (left, top), (right, bottom), INK, 1)
    if not points:
        return image
    epochs = [e for e, _ in points]
    values = [v for _, v in points]
    e0, e1 = min(epochs), max(max(epochs), min(epochs) + 1)
    v0, v1 = min(values), max(values)
    pad = (v1 - v0) * 0.08 or 0.05
    v0, v1 = v0 - pad, v1 + pad

    def xy(epoch: float, value: float) -> tuple[int, int]:
        x = left + (epoch - e0) / (e1 - e0) * (right - left)
        y = bottom - (value - v0) / (v1 - v0) * (bottom - top)
        return int(round(x)), int(round(y))

    def text(label: str, x: int, y: int, scale: float = 0.4, colour=INK, centred=False) -> None:
        if centred:
            x -= cv2.getTextSize(label, font, scale, 1)[0][0] // 2
        cv2.putText(image, label, (x, y), font, scale, colour, 1, cv2.LINE_AA)

    for fraction in (0.0, 0.5, 1.0):
        value = v0 + fraction * (v1 - v0)
        text(f"{value:.3f}", 4, xy(e0, value)[1] + 4, 0.38)
    for epoch in sorted({e0, e1, (e0 + e1) // 2}):
        text(str(epoch), xy(epoch, v0)[0], bottom + 16, centred=True)
    text("epoch", (left + right) // 2, PANEL_H - 8, 0.45, centred=True)
    # A grey line where the fine-tune phase begins.
    fine_tune = [int(r["epoch"]) for r in history if r.get("phase") == "fine-tune"]
    if fine_tune and min(fine_tune) > e0:
        x = xy(min(fine_tune) - 0.5, v0)[0]
        cv2.line(image, (x, top), (x, bottom), (170, 170, 170), 1, cv2.LINE_AA)
        text("fine-tune", x + 4, bottom - 6, colour=(150, 150, 150))
    for (data, colour), label, row in zip(series, ("training", "validation"), (0, 1), strict=True):
        pts = [xy(e, v) for e, v in data]
        if len(pts) > 1:
            cv2.polylines(image, [np.array(pts, np.int32)], False, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(image, p, 3, colour, -1, cv2.LINE_AA)
        # The legend sits in the title row, outside the plot, so it never hides a curve.
        text(label, right - 190 + 90 * row, 28, 0.45, colour)
    return image


def draw_curves(history: list[dict], path: Path) -> None:
    """Write the two-panel chart (loss left, accuracy right) to ``path`` (PNG)."""
    import cv2

    chart = np.hstack(
        [_panel(history, "loss", "loss"), _panel(history, "accuracy", "pixel accuracy")]
    )
    ok, encoded = cv2.imencode(".png", chart)
    if not ok:  # pragma: no cover - only on a broken OpenCV build
        raise RuntimeError("could not encode curves.png")
    Path(path).write_bytes(encoded.tobytes())
