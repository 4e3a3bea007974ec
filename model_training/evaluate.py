"""``evaluate``: measure a model folder on a data source (metrics defined in metrics.py)."""

from __future__ import annotations

from pathlib import Path

from model_training.checkpoints import write_json_atomic
from model_training.errors import TrainingError
from model_training.export import MODEL_FILE
from petseg_gui.contract import card as card_contract
from petseg_gui.contract.errors import ContractError

SPLITS = ("validation", "test", "train", "all")


def read_card(model_dir: Path) -> dict:
    """The checked card (the app's validator, from the contract) of a model folder whose
    ``model.keras`` matches it."""
    try:
        card = card_contract.read_card(model_dir)
        card_contract.check_model_hash(model_dir, card)
    except ContractError as err:
        raise TrainingError(str(err)) from None
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
