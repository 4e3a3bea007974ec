"""The end of a training run: export (Keras and LiteRT), measure per source, chart, card, and
the one rename that makes the model folder (docs/INTERFACES.md section 1); and where a run's
starting weights come from when they are not ImageNet's (``--init-model``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from model_training.checkpoints import write_json_atomic
from model_training.errors import TrainingError
from model_training.export import MODEL_FILE, export_inference_model, finalize, write_card
from model_training.model import SKIP_LAYERS

VALIDATION_IDS_FILE = "validation_ids.txt"


def init_from_model_folder(model, folder: Path, options) -> None:
    """Start from a trained model's weights (fine-tuning it) instead of ImageNet's encoder and
    a random decoder; the folder (or a run's checkpoint ``.keras`` file) must hold the same
    architecture at the same input size."""
    import keras

    from model_training.evaluate import read_card
    from model_training.export import copy_weights

    if folder.is_file() and folder.suffix == ".keras":
        source = keras.models.load_model(folder, compile=False)
        if tuple(source.input_shape[1:3]) != (options.image_size, options.image_size):
            raise TrainingError(
                f"{folder}: that checkpoint is {source.input_shape[1]} px; pass --image-size "
                f"{source.input_shape[1]} to start from it"
            )
        try:
            copy_weights(source, model)
        except ValueError:
            raise TrainingError(
                f"{folder}: another decoder than --decoder-filters "
                f"{','.join(map(str, options.decoder_filters))}; pass the one it was trained with"
            ) from None
        print(f"starting from the weights of the checkpoint {folder}", file=sys.stderr)
        return
    card = read_card(folder)
    filters = tuple((card.get("architecture") or {}).get("decoder_filters") or ())
    if card["input_size"] != options.image_size or filters != tuple(options.decoder_filters):
        raise TrainingError(
            f"{folder}: that model is {card['input_size']} px with decoder "
            f"{','.join(map(str, filters)) or '?'}; pass --image-size {card['input_size']} "
            f"--decoder-filters {','.join(map(str, filters))} to start from it"
        )
    source = keras.models.load_model(folder / MODEL_FILE, compile=False)
    copy_weights(source, model)
    print(f"starting from the weights of {folder} ({card.get('name', '?')})", file=sys.stderr)


def _card_metrics(metrics: dict) -> dict:
    """The metrics without the confusion matrices (they stay in metrics.json)."""
    return {
        key: (
            _card_metrics(value)
            if key == "sources" or (isinstance(value, dict) and "validation" in value)
            else {k: v for k, v in value.items() if k != "confusion_matrix"}
        )
        for key, value in metrics.items()
    }


def _read_data_notes(path: str | None) -> dict:
    if not path:
        return {}
    try:
        notes = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as err:
        raise TrainingError(
            f"{path}: cannot be read ({err.strerror}); check --data-notes"
        ) from None
    except ValueError:
        raise TrainingError(
            f"{path}: not JSON; --data-notes wants {{source name: {{...}}}}"
        ) from None
    if not isinstance(notes, dict):
        raise TrainingError(f"{path}: not a JSON object of {{source name: {{...}}}}")
    return notes


def finish_run(
    options, model, run, sources: list, pipes, output: Path, extra: dict, *, chief=True
) -> dict:
    """Export, measure, chart, card, rename: the model folder of docs/INTERFACES.md."""
    import keras

    from model_training.curves import draw_curves
    from model_training.metrics import evaluate_sources
    from model_training.tflite import write_tflite

    work_dir = run.work_dir
    parameters = export_inference_model(
        model, options.image_size, options.decoder_filters, work_dir / MODEL_FILE
    )
    # Measure the exported file, i.e. exactly what the app will load.
    exported = keras.models.load_model(work_dir / MODEL_FILE, compile=False)
    tflite = write_tflite(exported, work_dir, options.image_size, seed=options.seed)
    metrics = {}
    if pipes.validation:
        metrics = evaluate_sources(exported, pipes.validation)
        if len(sources) == 1:
            del metrics["sources"]  # the one source is the overall figure
    write_json_atomic(work_dir / "metrics.json", metrics)
    draw_curves(run.history, work_dir / "curves.png")
    notes = _read_data_notes(options.data_notes)
    descriptions, ids_files = [], {}
    for source in sources:
        description = dict(getattr(source.splits, "description", {}) or {})
        validation_ids = description.pop("validation_ids", None)
        if validation_ids is not None:
            ids_file = validation_ids_file(source.name, single=len(sources) == 1)
            (work_dir / ids_file).parent.mkdir(parents=True, exist_ok=True)
            (work_dir / ids_file).write_text(
                "".join(f"{i}\n" for i in validation_ids), encoding="utf-8"
            )
            description["validation_ids_file"] = ids_files[source.name] = ids_file
        description.update(notes.get(source.name, {}))
        descriptions.append(description)
    names = "+".join(source.name for source in sources)
    card_metrics = _card_metrics(metrics)
    write_card(
        work_dir,
        image_size=options.image_size,
        name=options.name or f"{names}-{options.image_size}",
        **({"description": options.description} if options.description else {}),
        architecture={
            "encoder": "MobileNetV2 (alpha 1.0)",
            "encoder_weights": str(options.encoder_weights),
            "encoder_taps": list(SKIP_LAYERS),
            "decoder": "4 x (Conv2DTranspose k3 s2 + BatchNorm + ReLU) + skip concat, "
            "Conv2DTranspose(3, k3, s2) logits",
            "decoder_filters": list(options.decoder_filters),
            "parameters": parameters,
            "encoder_trainable": extra.pop("encoder_trainable"),
            "input_range": "float32 RGB [0, 1]; a Rescaling layer maps to [-1, 1] inside",
        },
        training={
            "data": descriptions[0] if len(descriptions) == 1 else {"sources": descriptions},
            "split": {
                "train": sum(int(source.splits.train_count) for source in sources),
                "validation": sum(int(source.splits.validation_count) for source in sources),
                "validation_split": options.validation_split,
                "seed": options.seed,
                "ids_file": next(iter(ids_files.values())) if len(ids_files) == 1 else None,
                "ids_files": ids_files,
                "skipped": sum(len(getattr(s.splits, "skipped", []) or []) for s in sources),
            },
            "command": options.command,
            "seed": options.seed,
            "epochs": run.completed_epochs,
            "epochs_planned": options.total_epochs,
            "fine_tune_epochs": options.fine_tune_epochs,
            "batch_size": options.batch_size,
            "learning_rate": options.learning_rate,
            "fine_tune_learning_rate": options.fine_tune_learning_rate,
            "fine_tune_schedule": options.fine_tune_schedule,
            "optimizer": "Adam(beta_1=0.9, beta_2=0.999, epsilon=1e-8)",
            "loss": "SparseCategoricalCrossentropy(from_logits=True); unknown pixels left out",
            "augmentation": options.augment,
            "boundary_width": options.boundary_width,
            "boundary_weight": options.boundary_weight,
            "mixed_precision": options.mixed_precision,
            "target_accuracy": options.target_accuracy,
            "init_model": _init_model_record(options.init_model),
            "wall_seconds": round(sum(r.get("seconds") or 0 for r in run.history), 1),
            **extra,
        },
        metrics=card_metrics,
        tflite=tflite,
    )
    if chief:
        print(f"finalising {work_dir} -> {output}", file=sys.stderr)
        finalize(work_dir, output, overwrite=options.overwrite)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return card_metrics


def _init_model_record(folder: str | None) -> dict | None:
    if not folder:
        return None
    from model_training.evaluate import read_card

    if Path(folder).is_file():  # a checkpoint file
        from model_training.export import sha256_of

        return {"path": str(folder), "checkpoint": True, "sha256": sha256_of(Path(folder))}

    card = read_card(Path(folder))
    return {"path": str(folder), "name": card.get("name"), "sha256": card.get("sha256")}


def validation_ids_file(name: str, *, single: bool) -> str:
    """Where a source's held-out ids go in the model folder (one source: the historic name)."""
    return VALIDATION_IDS_FILE if single else f"validation_ids/{name}.txt"
