"""The Retrain dialog's result table, without Qt: the new model's metrics beside the current one's,
and the new model's validation accuracy on each training source."""

from __future__ import annotations

# (label, key under the card's metrics.validation)
METRIC_ROWS = (
    ("Pixel accuracy", "pixel_accuracy"),
    ("Foreground IoU", "foreground_iou"),
    ("Foreground IoU, mean per image", "foreground_iou_per_image_mean"),
    ("Mean IoU (3 classes)", "mean_iou"),
)


def validation_metrics(card: dict) -> dict:
    """The held-out numbers of a card (``validation``, else ``test``: the bundled model may report
    only a test set), or {}."""
    metrics = card.get("metrics") if isinstance(card, dict) else None
    if not isinstance(metrics, dict):
        return {}
    for key in ("validation", "test"):
        if isinstance(metrics.get(key), dict):
            return metrics[key]
    return {}


def percent(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.1%}"
    return "-"


def comparison_rows(new: dict, current: dict) -> list[tuple[str, str, str]]:
    """(label, new model, current model) per metric row; ``new``/``current`` are metric dicts."""
    return [(label, percent(new.get(key)), percent(current.get(key))) for label, key in METRIC_ROWS]


def source_rows(metrics: dict) -> list[tuple[str, str]]:
    """(source name, pixel accuracy) from ``metrics["sources"][name]["validation"]`` of a
    multi-source run's ``done`` event or card; [] for a single-source run."""
    sources = metrics.get("sources") if isinstance(metrics, dict) else None
    if not isinstance(sources, dict) or len(sources) < 2:
        return []
    rows = []
    for name, entry in sources.items():
        validation = entry.get("validation") if isinstance(entry, dict) else None
        value = validation.get("pixel_accuracy") if isinstance(validation, dict) else None
        rows.append((str(name), percent(value)))
    return rows


def own_photos_line(count: int, new: dict, current: dict, current_name: str) -> str:
    """One line comparing the two models on the user's own corrected photos (``new``/``current``:
    ``model_training evaluate``'s ``metrics``), the number the user cares about most."""
    key = (
        "foreground_iou_per_image_mean"
        if "foreground_iou_per_image_mean" in new
        else "foreground_iou"
    )
    return (
        f"On your {count} corrected photo{'s' if count != 1 else ''}: foreground IoU "
        f"{percent(new.get(key))} (new) vs {percent(current.get(key))} ({current_name})"
    )
