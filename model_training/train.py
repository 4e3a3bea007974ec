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
from dataclasses import asdict, dataclass
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
    check_output_free,
    partial_dir,
)
from model_training.finish import finish_run, init_from_model_folder
from model_training.options import FINE_TUNE, FROZEN, TrainOptions, saved_options
from model_training.progress import Reporter


@dataclass
class TrainResult:
    status: str  # "done" or "stopped" (by a signal; a target-accuracy stop is "done")
    output: Path
    epoch: int
    metrics: dict | None = None


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
        options = saved_options(shared_dir, options)
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
    metrics = finish_run(options, model, run, sources, pipes, output, extra, chief=chief)
    reporter.emit("done", output=str(output), metrics=metrics)
    return TrainResult("done", output, run.completed_epochs, metrics)


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
