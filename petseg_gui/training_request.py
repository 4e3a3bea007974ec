"""What the user asked the trainer to do, as one typed value (Qt-free).

The Retrain dialog's form maps to and from a ``TrainingRequest``; ``argv()`` is the exact trainer
command. Each training source is a ``SourceSpec`` of the contract (folder or tensorflow-datasets,
a weight, what class 3 means), written as one ``--data`` option each, so the app and the trainer
spell sources alike.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from petseg_gui.contract.data_sources import SourceSpec, unique_names
from petseg_gui.contract.workdir import has_checkpoint, partial_dir

OXFORD_PETS = "tfds:oxford_iiit_pet"  # what the trainer accepts for --data (docs/TRAINING.md)
# The trainer's own defaults (docs/TRAINING.md), which are the paper's recipe.
PAPER_DECODER_FILTERS = (512, 256, 128, 64)
TRAINER_FINE_TUNE_LEARNING_RATE = 1e-5


def is_folder(spec: SourceSpec) -> bool:
    """A folder on this computer (checked by the app), not a tensorflow-datasets name."""
    return not (spec.location.startswith("tfds:") or spec.location == "oxford_iiit_pet")


@dataclass(frozen=True)
class TrainingRequest:
    """What the user asked for in the dialog; ``argv()`` is the exact trainer command."""

    sources: tuple[SourceSpec, ...]  # one --data each, in this order
    output: Path
    image_size: int = 224
    epochs: int = 20
    batch_size: int = 64
    fine_tune_epochs: int = 0  # 0 = keep the encoder frozen (the seed)
    target_accuracy: float | None = None  # a fraction in (0, 1); None = train all epochs
    fine_tune_learning_rate: float = TRAINER_FINE_TUNE_LEARNING_RATE
    augment: str = "flip"  # "none", "flip" or "full"
    decoder_filters: tuple[int, ...] = PAPER_DECODER_FILTERS
    boundary_weight: float = 1.0  # loss weight of the thin boundary class (1 = the paper)
    init_model: Path | None = None  # start from this model folder's weights (not ImageNet's)
    # Appended last so they win in argparse (tests: a tiny --image-size, --encoder-weights none).
    extra_args: tuple[str, ...] = ()

    def argv(
        self,
        *,
        resume: bool = False,
        overwrite: bool = False,
        program: Sequence[str] | None = None,
    ) -> list[str]:
        """The child's command line. ``resume`` continues the stopped run in ``output``'s work
        folder; ``overwrite`` discards it. ``program`` replaces ``python -m model_training``."""
        args = list(program) if program else [sys.executable, "-m", "model_training"]
        args.append("train")
        for spec in self.sources:
            args += ["--data", spec.to_text()]
        args += [
            "--output",
            str(self.output),
            "--name",
            self.output.name,  # the card's name matches the folder the Model menu shows
            "--image-size",
            str(self.image_size),
            "--epochs",
            str(self.epochs),
            "--batch-size",
            str(self.batch_size),
            # Always spelled out, even at the trainer's defaults: the card records this exact
            # command, and a change of the trainer's defaults must not change a recipe.
            "--augment",
            self.augment,
            "--decoder-filters",
            ",".join(str(n) for n in self.decoder_filters),
            "--boundary-weight",
            f"{self.boundary_weight:g}",
            "--progress",
            "jsonl",
        ]
        if self.fine_tune_epochs > 0:
            args += ["--fine-tune-epochs", str(self.fine_tune_epochs)]
            args += ["--fine-tune-learning-rate", f"{self.fine_tune_learning_rate:g}"]
        if self.target_accuracy is not None:
            args += ["--target-accuracy", f"{self.target_accuracy:g}"]
        if self.init_model is not None:
            args += ["--init-model", str(self.init_model)]
        if resume:
            args.append("--resume")
        elif overwrite:
            args.append("--overwrite")
        return args + list(self.extra_args)

    @property
    def folders(self) -> list[Path]:
        """The local folders among the sources (what the app checks before a start)."""
        return [Path(spec.location) for spec in self.sources if is_folder(spec)]

    @property
    def source_names(self) -> list[str]:
        """The trainer's per-source metric names (``val_accuracy_<name>``), in order."""
        return unique_names(list(self.sources))

    @property
    def label(self) -> str:
        """A short name of the data for a suggested output folder."""
        if not self.sources:
            return "model"
        first = self.sources[0]
        return "pets" if not is_folder(first) else (first.name or "model")

    @property
    def total_epochs(self) -> int:
        return self.epochs + max(0, self.fine_tune_epochs)

    @property
    def partial_dir(self) -> Path:
        """Where the trainer keeps checkpoints until the model is complete."""
        return partial_dir(self.output)

    def can_resume(self) -> bool:
        """True when a previous run of this request left a checkpoint to continue from."""
        return has_checkpoint(self.partial_dir)
