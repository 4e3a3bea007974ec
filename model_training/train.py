"""The training run: data -> U-Net -> frozen phase -> optional fine-tune phase -> model folder.

Work happens in ``<output>.partial/`` (checkpoints/, history.csv, run.json); the finished folder
(docs/INTERFACES.md section 1) appears at ``<output>`` with one rename. A signal stops the run
after a checkpoint; ``resume=True`` continues it with the options it was started with.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from model_training.checkpoints import (
    CHECKPOINT_DIR,
    RUN_FILE,
    CheckpointState,
    read_history,
    read_state,
    save_checkpoint,
    write_json_atomic,
)
from model_training.errors import TrainingError
from model_training.export import (
    MODEL_FILE,
    check_output_free,
    export_inference_model,
    finalize,
    partial_dir,
    write_card,
)
from model_training.model import DEFAULT_DECODER_FILTERS, SKIP_LAYERS
from model_training.progress import Reporter

FROZEN, FINE_TUNE = "frozen", "fine-tune"
SCHEDULES = ("constant", "cosine")
VALIDATION_IDS_FILE = "validation_ids.txt"


@dataclass
class TrainOptions:
    """Every option of ``train``; the defaults are the paper's recipe."""

    data: list[str] | str | None  # --data values: SOURCE[,weight=W][,class3=MODE] each
    output: str
    image_size: int = 128
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-3
    fine_tune_epochs: int = 0
    fine_tune_learning_rate: float = 1e-5
    fine_tune_schedule: str = "constant"  # or "cosine": decays to 0 over the fine-tune phase
    target_accuracy: float | None = None
    validation_split: float = 0.2
    seed: int = 0
    encoder_weights: str = "imagenet"
    mixed_precision: bool = False
    augment: str = "flip"
    boundary_width: int | None = None
    boundary_weight: float = 1.0
    skip_bad: bool = False
    decoder_filters: tuple[int, ...] = DEFAULT_DECODER_FILTERS
    strategy: str = "auto"
    keep_checkpoints: int = 0
    name: str | None = None
    data_notes: str | None = None  # JSON file: {source name: {licence, labels, ...}} for the card
    init_model: str | None = None  # a model folder whose weights replace ImageNet's at the start
    description: str | None = None  # one line for people: what the model finds
    command: list[str] = field(default_factory=list)
    resume: bool = False
    overwrite: bool = False
    finish: bool = False  # with resume: no more epochs, make the model folder from the checkpoint

    @property
    def total_epochs(self) -> int:
        return self.epochs + self.fine_tune_epochs

    @property
    def sources(self) -> list:
        """The ``--data`` values as ``SourceSpec``s (TrainingError if one is malformed)."""
        from model_training.data.multi import parse_sources

        return parse_sources(self.data)

    def check(self) -> None:
        if isinstance(self.data, str):  # one source, as older run.json files store it
            self.data = [self.data]
        self.sources  # noqa: B018 - parses every --data value now, before any loading
        if self.epochs < 0 or self.fine_tune_epochs < 0 or self.total_epochs < 1:
            raise TrainingError("--epochs/--fine-tune-epochs: need at least one epoch in total")
        if self.batch_size < 1:
            raise TrainingError(f"--batch-size {self.batch_size}: must be at least 1")
        if not 0.0 <= self.validation_split < 1.0:
            raise TrainingError(f"--validation-split {self.validation_split}: use 0 <= x < 1")
        if self.target_accuracy is not None and not 0.0 < self.target_accuracy <= 1.0:
            raise TrainingError(f"--target-accuracy {self.target_accuracy}: use 0 < A <= 1")
        if self.finish and not self.resume:
            raise TrainingError("--finish: only with --resume (it finishes an unfinished run)")
        if self.fine_tune_schedule not in SCHEDULES:
            raise TrainingError(
                f"--fine-tune-schedule {self.fine_tune_schedule}: use {' or '.join(SCHEDULES)}"
            )
        if self.boundary_weight <= 0:
            raise TrainingError(f"--boundary-weight {self.boundary_weight}: must be > 0")


@dataclass
class TrainResult:
    status: str  # "done" or "stopped" (by a signal; a target-accuracy stop is "done")
    output: Path
    epoch: int
    metrics: dict | None = None


def _saved_options(work_dir: Path, current: TrainOptions) -> TrainOptions:
    """The options of the interrupted run, plus the resume command for the record."""
    path = work_dir / RUN_FILE
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["options"]
    except (OSError, ValueError, KeyError):
        raise TrainingError(
            f"{path}: missing or unreadable, cannot resume; start again with --overwrite"
        ) from None
    known = {f.name for f in fields(TrainOptions)}
    options = TrainOptions(**{k: v for k, v in saved.items() if k in known})
    options.decoder_filters = tuple(options.decoder_filters)
    options.resume = True
    options.overwrite = current.overwrite
    options.finish = current.finish
    return options


def _with_boundary_weight(dataset, weight: float):
    """Per-pixel sample weights: the boundary class counts ``weight`` times in the loss."""
    import tensorflow as tf

    def add_weights(images, masks):
        labels = tf.squeeze(tf.cast(masks, tf.int32), axis=-1)
        weights = tf.where(labels == 2, tf.constant(weight, tf.float32), 1.0)
        return images, masks, weights

    return dataset.map(add_weights, num_parallel_calls=tf.data.AUTOTUNE)


def _steps_per_epoch(dataset, count: int, batch_size: int) -> int:
    known = int(dataset.cardinality())
    return known if known > 0 else max(1, math.ceil(count / batch_size))


def _load_sources(options: TrainOptions) -> list:
    from model_training.data import full_augment_size
    from model_training.data.multi import load_sources

    return load_sources(
        options.sources,
        image_size=options.image_size,
        validation_split=options.validation_split,
        seed=options.seed,
        skip_bad=options.skip_bad,
        boundary_width=options.boundary_width,
        split="train",
        # Random crops need training images larger than the model input to keep detail.
        train_image_size=full_augment_size(options.image_size)
        if options.augment == "full"
        else None,
    )


def _prepare_folders(
    options: TrainOptions, output: Path, chief: bool
) -> tuple[TrainOptions, Path, Path, list[list[str]]]:
    """Check the output, load a resumed run's options; returns (options, shared work folder,
    folder this process writes, resume commands). Only the chief touches the shared folder;
    other workers of a multi-worker run write their (identical) files to a temporary folder."""
    shared_dir = partial_dir(output)
    if chief:
        check_output_free(output, overwrite=options.overwrite, resume=options.resume)
    resume_commands: list[list[str]] = []
    if options.resume:
        resume_command = options.command
        options = _saved_options(shared_dir, options)
        options.check()
        print(
            f"resuming with the options of the original run ({shared_dir / RUN_FILE})",
            file=sys.stderr,
        )
        resume_commands = [*_resume_history(shared_dir), resume_command]
    elif chief and shared_dir.exists():  # --overwrite of an unfinished run
        shutil.rmtree(shared_dir)
    work_dir = shared_dir if chief else Path(tempfile.mkdtemp(prefix="petseg-worker-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    return options, shared_dir, work_dir, resume_commands


@dataclass
class Pipelines:
    train: Any  # batched (image, mask[, weights]); endless when several sources are mixed
    steps: int  # per epoch
    endless: bool  # fit needs steps_per_epoch
    validation: dict[str, Any]  # source name -> batched validation dataset (sources with any)


def _pipelines(options: TrainOptions, sources: list) -> Pipelines:
    """Training stream (every source augmented, mixed by weight, maybe boundary-weighted) and
    one validation dataset per source."""
    from model_training.data import make_pipeline
    from model_training.data.pipeline import mix_sources, prepare_examples

    parts = [
        (
            prepare_examples(
                source.splits.train,
                training=True,
                augment=options.augment,
                seed=options.seed,
                image_size=options.image_size,
            ),
            source.splits.train_count,
            source.spec.weight,
        )
        for source in sources
        if source.splits.train_count
    ]
    train_ds, steps = mix_sources(parts, batch_size=options.batch_size, seed=options.seed)
    if options.boundary_weight != 1.0:
        train_ds = _with_boundary_weight(train_ds, options.boundary_weight)
    validation = {
        source.name: make_pipeline(
            source.splits.validation, batch_size=options.batch_size, training=False, augment="none"
        )
        for source in sources
        if source.splits.validation_count
    }
    if steps is None:
        train_count = sum(source.splits.train_count for source in sources)
        return Pipelines(
            train_ds,
            _steps_per_epoch(train_ds, train_count, options.batch_size),
            False,
            validation,
        )
    return Pipelines(train_ds, steps, True, validation)


def _fit_phases(options, model, strategy, run, state, pipes: Pipelines, reporter, watch):
    """The frozen phase, then the fine-tune phase, from wherever ``run`` stands. Returns
    "target_accuracy" when the paper's callback stopped it, else None; raises
    TrainingInterrupted on a signal."""
    from model_training.callbacks import (
        EpochCheckpoint,
        ProgressEvents,
        SourceValidation,
        StopOnSignal,
        TargetAccuracy,
    )
    from model_training.model import compile_unet, set_encoder_trainable

    phases = [
        (FROZEN, 0, options.epochs, options.learning_rate),
        (FINE_TUNE, options.epochs, options.total_epochs, options.fine_tune_learning_rate),
    ]
    target = TargetAccuracy(options.target_accuracy) if options.target_accuracy else None
    resumed_phase = state.phase if state is not None else None
    for phase, first, last, learning_rate in phases:
        if run.completed_epochs >= last:
            continue
        # A checkpoint carries its phase's optimiser state; any other phase starts afresh.
        if phase != resumed_phase:
            with strategy.scope():
                set_encoder_trainable(model, phase == FINE_TUNE)
                cosine = phase == FINE_TUNE and options.fine_tune_schedule == "cosine"
                compile_unet(model, learning_rate, (last - first) * run.steps if cosine else None)
        resumed_phase = None
        run.phase = phase
        model.fit(
            pipes.train,
            epochs=last,
            initial_epoch=max(first, run.completed_epochs),
            steps_per_epoch=pipes.steps if pipes.endless else None,
            callbacks=[
                # First: the others read the validation results it adds to the epoch's logs.
                SourceValidation(pipes.validation, extra_callbacks=[StopOnSignal(watch)]),
                ProgressEvents(reporter, run),
                EpochCheckpoint(reporter, run, keep=options.keep_checkpoints),
                *([target] if target else []),
                StopOnSignal(watch),  # last: after the epoch's checkpoint is written
            ],
            shuffle=False,  # the pipeline shuffles
            verbose=0,
        )
        if target is not None and target.reached:
            return "target_accuracy"
    return None


def run_training(options: TrainOptions, reporter: Reporter, *, splits: Any = None) -> TrainResult:
    """Train as ``options`` say, reporting to ``reporter``; ``splits`` (a DataSplits, or a list
    of ``LoadedSource``) replaces loading ``options.data`` (tests, notebooks)."""
    from model_training.distribute import is_chief

    output = Path(options.output).absolute()
    options.check()
    chief = is_chief()
    options, shared_dir, work_dir, resume_commands = _prepare_folders(options, output, chief)

    import keras

    import model_training.losses  # noqa: F401 - registers the loss a resumed checkpoint names
    from model_training.callbacks import RunState, SignalWatch, TrainingInterrupted
    from model_training.distribute import choose_strategy, describe_strategy
    from model_training.model import build_unet, check_image_size, encoder_is_trainable

    check_image_size(options.image_size)
    keras.utils.set_random_seed(options.seed)
    keras.mixed_precision.set_global_policy(
        "mixed_float16" if options.mixed_precision else "float32"
    )
    sources = _given_sources(splits, options) if splits is not None else _load_sources(options)
    train_count = sum(source.splits.train_count for source in sources)
    validation_count = sum(source.splits.validation_count for source in sources)
    if train_count == 0:
        raise TrainingError(f"{', '.join(options.data or [])}: no training images; check --data")
    strategy = choose_strategy(options.strategy)
    pipes = _pipelines(options, sources)
    steps = pipes.steps

    state: CheckpointState | None = read_state(shared_dir) if options.resume else None
    with strategy.scope():
        if state is not None:
            model = keras.models.load_model(shared_dir / state.checkpoint)
        else:
            model = build_unet(
                options.image_size,
                encoder_weights=options.encoder_weights,
                decoder_filters=options.decoder_filters,
            )
            if options.init_model:
                init_from_model_folder(model, Path(options.init_model), options)
    run = RunState(
        work_dir=work_dir,
        epochs=options.total_epochs,
        steps=steps,
        phase=state.phase if state else FROZEN,
        completed_epochs=state.epoch if state else 0,
        history=read_history(shared_dir, up_to_epoch=state.epoch) if state else [],
    )
    write_json_atomic(
        work_dir / RUN_FILE,
        {
            "options": _jsonable(asdict(options)),
            "data": [source.splits.description for source in sources],
            "resumed_with": resume_commands,
        },
    )
    reporter.emit(
        "start",
        epochs=options.total_epochs,
        steps=steps,
        train_images=int(train_count),
        validation_images=int(validation_count),
        sources=[
            {
                "name": source.name,
                "train_images": int(source.splits.train_count),
                "validation_images": int(source.splits.validation_count),
                "weight": source.spec.weight,
                "class3": source.spec.class3,
            }
            for source in sources
        ],
        image_size=options.image_size,
        batch_size=options.batch_size,
        work_dir=str(work_dir),
        output=str(output),
        initial_epoch=run.completed_epochs,
    )

    with SignalWatch() as watch:
        try:
            stopped_reason = (
                "finish_requested"
                if options.finish
                else _fit_phases(options, model, strategy, run, state, pipes, reporter, watch)
            )
        except TrainingInterrupted as interrupted:
            if interrupted.epoch_finished:
                saved = work_dir / read_state(work_dir).checkpoint
            else:
                saved = save_checkpoint(
                    model,
                    work_dir,
                    CheckpointState(
                        epoch=run.completed_epochs,
                        phase=run.phase,
                        checkpoint=f"{CHECKPOINT_DIR}/interrupted.keras",
                        interrupted=True,
                    ),
                )
            reporter.emit(
                "stopped", epoch=run.completed_epochs, checkpoint=str(saved), reason="signal"
            )
            if not chief:
                shutil.rmtree(work_dir, ignore_errors=True)
            return TrainResult("stopped", output, run.completed_epochs)

    if stopped_reason:
        reporter.emit(
            "stopped",
            epoch=run.completed_epochs,
            checkpoint=str(work_dir / read_state(work_dir).checkpoint),
            reason=stopped_reason,
        )
    extra = {
        "stopped_early": stopped_reason,
        "resumed_with": resume_commands,
        "encoder_trainable": encoder_is_trainable(model),
        **describe_strategy(strategy),
    }
    metrics = _finish(options, model, run, sources, pipes, output, extra, chief=chief)
    reporter.emit("done", output=str(output), metrics=metrics)
    return TrainResult("done", output, run.completed_epochs, metrics)


def init_from_model_folder(model, folder: Path, options: TrainOptions) -> None:
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


def _resume_history(work_dir: Path) -> list[list[str]]:
    try:
        return json.loads((work_dir / RUN_FILE).read_text(encoding="utf-8"))["resumed_with"]
    except (OSError, ValueError, KeyError):
        return []


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _given_sources(splits: Any, options: TrainOptions) -> list:
    """``run_training(splits=...)``: a list of LoadedSource as is, or one DataSplits wrapped."""
    from model_training.data.multi import LoadedSource
    from petseg_gui.contract.data_sources import SourceSpec

    if isinstance(splits, list):
        return splits
    specs = options.sources
    spec = specs[0] if len(specs) == 1 else SourceSpec("data")
    return [LoadedSource(spec.name, spec, splits)]


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


def _finish(
    options, model, run, sources: list, pipes: Pipelines, output: Path, extra: dict, *, chief=True
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
        metrics=_card_metrics(metrics),
        tflite=tflite,
    )
    if chief:
        print(f"finalising {work_dir} -> {output}", file=sys.stderr)
        finalize(work_dir, output, overwrite=options.overwrite)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return _card_metrics(metrics)


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
