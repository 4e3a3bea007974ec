"""``evaluate``: measure a model folder on a data source (metrics defined in metrics.py)."""

from __future__ import annotations

import json
from pathlib import Path

from model_training.checkpoints import write_json_atomic
from model_training.errors import TrainingError
from model_training.export import CARD_FILE, MODEL_FILE, sha256_of

SPLITS = ("validation", "test", "train", "all")


def read_card(model_dir: Path) -> dict:
    card_path = model_dir / CARD_FILE
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        size = int(card["input_size"])
    except FileNotFoundError:
        raise TrainingError(f"{card_path}: not found; --model must be a model folder") from None
    except (ValueError, KeyError, TypeError):
        raise TrainingError(
            f"{card_path}: not a petseg model card (needs input_size); re-export the model"
        ) from None
    if not (model_dir / MODEL_FILE).is_file():
        raise TrainingError(f"{model_dir / MODEL_FILE}: not found; --model must be a model folder")
    if card.get("sha256") and card["sha256"] != sha256_of(model_dir / MODEL_FILE):
        raise TrainingError(
            f"{model_dir / MODEL_FILE}: does not match the sha256 in {CARD_FILE}; the file was "
            "changed or damaged, copy the model folder again"
        )
    card["input_size"] = size
    return card


def evaluate_model(
    model_dir: str | Path,
    data: str | list[str],
    *,
    split: str = "validation",
    batch_size: int = 16,
    output: str | Path | None = None,
    boundary_width: int | None = None,
    skip_bad: bool = False,
) -> dict:
    """Metrics of the model folder on ``data`` (one source spec or several: per source and
    overall); the validation split is the one the model was trained with (seed and fraction
    from the card). Written to ``output`` (JSON) if given."""
    if split not in SPLITS:
        raise TrainingError(f"--split {split}: use one of {', '.join(SPLITS)}")
    model_dir = Path(model_dir)
    card = read_card(model_dir)
    training = card.get("training") or {}
    split_info = training.get("split") or {}

    from model_training.data import make_pipeline
    from model_training.data.multi import load_sources, parse_sources

    specs = parse_sources(data)
    if boundary_width is None:
        # Measure with the band the model was trained with (binary-mask folders only).
        boundary_width = training.get("boundary_width")
    if boundary_width is not None and not _any_mask_folder(specs):
        boundary_width = None
    sources = load_sources(
        specs,
        image_size=card["input_size"],
        validation_split=float(split_info.get("validation_split", 0.2)),
        seed=int(split_info.get("seed", training.get("seed", 0))),
        skip_bad=skip_bad,
        boundary_width=boundary_width,
        split=split,
    )
    empty = [s.spec.location for s in sources if not s.splits.validation_count]
    if empty:
        raise TrainingError(f"{empty[0]}: no images in the {split} split; try --split all")

    import keras

    from model_training.metrics import evaluate_sources

    datasets = {
        source.name: make_pipeline(
            source.splits.validation, batch_size=batch_size, training=False, augment="none"
        )
        for source in sources
    }
    model = keras.models.load_model(model_dir / MODEL_FILE, compile=False)
    measured = evaluate_sources(model, datasets)
    result = {
        "model": str(model_dir),
        "data": [spec.to_text() for spec in specs],
        "split": split,
        "input_size": card["input_size"],
        "metrics": measured["validation"],
    }
    if len(sources) > 1:
        result["sources"] = {name: m["validation"] for name, m in measured["sources"].items()}
    if output is not None:
        write_json_atomic(Path(output), result)
    return result


def _any_mask_folder(specs) -> bool:
    from model_training.data import resolve_source

    return any(resolve_source(spec.location) == "mask_folder" for spec in specs)
