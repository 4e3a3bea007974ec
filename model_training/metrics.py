"""Segmentation metrics from a streaming confusion matrix (numpy; docs/INTERFACES.md section 5).

Feed batches of ground-truth labels and model logits; nothing but two small count tables and one
list of per-image IoUs is kept, so any number of images can be measured.

- pixel accuracy, per-class IoU and mean IoU come from the 3x3 confusion matrix of
  argmax(logits) against the labels (rows = truth, columns = prediction);
- foreground IoU uses the contract's alpha = p_subject + 0.5 * p_boundary, foreground where
  alpha > 0.5; ground-truth subject = foreground, background = background, boundary pixels are
  left out (the Oxford "unclassified" band). Pooled over all pixels and as a mean over images.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

CLASS_NAMES: tuple[str, ...] = ("subject", "background", "boundary")
SUBJECT, BACKGROUND, BOUNDARY = 0, 1, 2
UNKNOWN = 3  # a source's "nobody knows" pixels (data_sources class3=unknown): never counted


def softmax(logits: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    shifted = logits.astype(np.float32) - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _iou(intersection: float, union: float) -> float | None:
    return float(intersection / union) if union else None


@dataclass
class SegmentationMetrics:
    """Accumulates ``update(labels, logits)``; ``result()`` gives the card's metrics dict."""

    confusion: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((3, 3), np.int64))
    # Pooled foreground counts: [[tn, fp], [fn, tp]] over truth x prediction.
    foreground: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((2, 2), np.int64))
    image_ious: list[float] = field(default_factory=list)

    def update(self, labels: npt.ArrayLike, logits: npt.ArrayLike) -> None:
        """labels: int (N, H, W) or (N, H, W, 1) in {0, 1, 2, 3}; logits: float (N, H, W, 3).

        Label 3 (unknown) is left out of every count."""
        logits = np.asarray(logits, np.float32)
        labels = np.asarray(labels).reshape(logits.shape[:-1]).astype(np.int64)
        if labels.min(initial=0) < 0 or labels.max(initial=0) > UNKNOWN:
            raise ValueError("labels must be 0 subject, 1 background, 2 boundary, 3 unknown")
        predicted = logits.argmax(axis=-1)
        known = labels != UNKNOWN
        cells = (labels * 3 + predicted)[known]
        self.confusion += np.bincount(cells, minlength=9).reshape(3, 3)

        probabilities = softmax(logits)
        alpha = probabilities[..., SUBJECT] + 0.5 * probabilities[..., BOUNDARY]
        predicted_fg = alpha > 0.5
        counted = (labels == SUBJECT) | (labels == BACKGROUND)
        truth_fg = labels == SUBJECT
        for image in range(labels.shape[0]):
            keep = counted[image]
            truth = truth_fg[image][keep]
            pred = predicted_fg[image][keep]
            counts = np.bincount(truth.astype(np.int64) * 2 + pred, minlength=4).reshape(2, 2)
            self.foreground += counts
            union = counts[1, 1] + counts[0, 1] + counts[1, 0]
            # Nothing to find and nothing found is perfect agreement, not an undefined image.
            self.image_ious.append(float(counts[1, 1] / union) if union else 1.0)

    def merge(self, other: SegmentationMetrics) -> None:
        """Add another accumulator's counts (per-source metrics -> overall)."""
        self.confusion += other.confusion
        self.foreground += other.foreground
        self.image_ious.extend(other.image_ious)

    def result(self) -> dict:
        cm = self.confusion.astype(np.float64)
        total = cm.sum()
        true_positive = np.diag(cm)
        unions = cm.sum(axis=0) + cm.sum(axis=1) - true_positive
        per_class = {name: _iou(true_positive[i], unions[i]) for i, name in enumerate(CLASS_NAMES)}
        defined = [v for v in per_class.values() if v is not None]
        fg = self.foreground
        return {
            "pixel_accuracy": float(true_positive.sum() / total) if total else None,
            "mean_iou": float(np.mean(defined)) if defined else None,
            "per_class_iou": per_class,
            "foreground_iou": _iou(fg[1, 1], fg[1, 1] + fg[0, 1] + fg[1, 0]),
            "foreground_iou_per_image_mean": (
                float(np.mean(self.image_ious)) if self.image_ious else None
            ),
            "images": len(self.image_ious),
            "pixels": int(total),
            "confusion_matrix": self.confusion.tolist(),
        }


def accumulate_dataset(model, dataset) -> SegmentationMetrics:
    """The counts of ``model`` over a batched dataset of (image, mask) pairs (or with weights)."""
    metrics = SegmentationMetrics()
    for batch in dataset:
        images, labels = batch[0], batch[1]
        logits = model(images, training=False)
        metrics.update(np.asarray(labels), np.asarray(logits))
    return metrics


def evaluate_dataset(model, dataset) -> dict:
    """Metrics of ``model`` over a batched dataset of (image, mask) pairs (or with weights)."""
    return accumulate_dataset(model, dataset).result()


def evaluate_sources(model, datasets: dict[str, object]) -> dict:
    """``{"validation": overall, "sources": {name: {"validation": metrics}}}`` for named
    batched datasets; overall pools every source's pixels and images."""
    overall = SegmentationMetrics()
    per_source = {}
    for name, dataset in datasets.items():
        counts = accumulate_dataset(model, dataset)
        per_source[name] = {"validation": counts.result()}
        overall.merge(counts)
    return {"validation": overall.result(), "sources": per_source}


def format_table(metrics: dict) -> str:
    """A plain-text table of a metrics dict, for the terminal."""

    def pct(value: float | None) -> str:
        return "   n/a" if value is None else f"{100 * value:6.2f}%"

    lines = [
        f"images            {metrics['images']}",
        f"pixel accuracy    {pct(metrics['pixel_accuracy'])}",
        f"mean IoU          {pct(metrics['mean_iou'])}",
        f"foreground IoU    {pct(metrics['foreground_iou'])} pooled, "
        f"{pct(metrics['foreground_iou_per_image_mean'])} mean per image",
    ]
    lines += [f"  IoU {name:<12}{pct(v)}" for name, v in metrics["per_class_iou"].items()]
    lines.append("confusion, pixels (rows truth, columns predicted):")
    lines.append(" " * 14 + "".join(f"{name:>12}" for name in CLASS_NAMES))
    for name, row in zip(CLASS_NAMES, metrics["confusion_matrix"], strict=True):
        lines.append(f"  {name:<12}" + "".join(f"{n:>12d}" for n in row))
    return "\n".join(lines)
