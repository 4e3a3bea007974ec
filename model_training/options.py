"""``TrainOptions``: every option of ``train`` in one typed plan (the defaults are the paper's
recipe), checked once; and the options of an interrupted run, read back for ``--resume``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from model_training.checkpoints import RUN_FILE
from model_training.errors import TrainingError
from model_training.model import DEFAULT_DECODER_FILTERS

FROZEN, FINE_TUNE = "frozen", "fine-tune"
SCHEDULES = ("constant", "cosine")


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


def saved_options(work_dir: Path, current: TrainOptions) -> TrainOptions:
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
