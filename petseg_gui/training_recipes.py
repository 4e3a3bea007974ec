"""Named sets of training settings the Retrain dialog offers (Qt-free).

A recipe only fills in a ``TrainingRequest``'s knobs; the dialog's fields stay the truth, so a
user can start from a recipe and change any value. The numbers come from docs/MODEL.md: the
"petseg" recipe made the bundled model (0.905 foreground IoU per photo on held-out photos of
people); the paper's recipe is kept for comparison and reaches 0.62 to 0.73 there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from petseg_gui.training_request import (
    PAPER_DECODER_FILTERS,
    TRAINER_FINE_TUNE_LEARNING_RATE,
    TrainingRequest,
)

SLIM_DECODER_FILTERS = (192, 96, 48, 32)  # the bundled model's decoder: 13.6 MB instead of 26.6


@dataclass(frozen=True)
class TrainingRecipe:
    """The settings a recipe fills in; data, output and the stop-at-accuracy choice stay the
    user's."""

    key: str
    label: str
    summary: str  # one line under the recipe choice: what it does and what it reached
    image_size: int
    epochs: int
    batch_size: int
    fine_tune_epochs: int
    fine_tune_learning_rate: float
    augment: str
    decoder_filters: tuple[int, ...]
    boundary_weight: float
    init_model: Path | None = None  # fine-tuning: the model folder whose weights it starts from

    def apply(self, request: TrainingRequest) -> TrainingRequest:
        """``request`` with this recipe's settings."""
        return dataclasses.replace(
            request,
            image_size=self.image_size,
            epochs=self.epochs,
            batch_size=self.batch_size,
            fine_tune_epochs=self.fine_tune_epochs,
            fine_tune_learning_rate=self.fine_tune_learning_rate,
            augment=self.augment,
            decoder_filters=self.decoder_filters,
            boundary_weight=self.boundary_weight,
            init_model=self.init_model,
        )


PETSEG_RECIPE = TrainingRecipe(
    key="petseg",
    label="petseg (recommended)",
    summary=(
        "The bundled model's recipe from ImageNet: slim decoder, crops and colour changes, small "
        "batches, edges weighted 3x, then the encoder fine-tuned. 0.905 foreground IoU on "
        "held-out photos of people, trained on people alone in 13 minutes of CPU."
    ),
    image_size=288,
    epochs=15,
    batch_size=16,
    fine_tune_epochs=35,
    fine_tune_learning_rate=1e-4,
    augment="full",
    decoder_filters=SLIM_DECODER_FILTERS,
    boundary_weight=3.0,
)

PAPER_RECIPE = TrainingRecipe(
    key="paper",
    label="Paper (Oxford-IIIT Pet, 2 x 20 epochs at 128 or 224 px)",
    summary=(
        "The paper's recipe: flips only, batch 64, encoder kept frozen. "
        "88.6% pixel accuracy at 224 px from 270 Oxford-IIIT Pet photos (the paper: 90.3% "
        "from 3,680)."
    ),
    image_size=224,  # the better of the paper's two sizes; 128 is one choice away
    epochs=20,
    batch_size=64,
    fine_tune_epochs=0,
    fine_tune_learning_rate=TRAINER_FINE_TUNE_LEARNING_RATE,
    boundary_weight=1.0,
    augment="flip",
    decoder_filters=PAPER_DECODER_FILTERS,
)

RECIPES = (PETSEG_RECIPE, PAPER_RECIPE)  # the first is a new dialog's default


FINE_TUNE_KEY = "fine-tune"


def fine_tune_recipe(model_dir: str | Path, card: dict) -> TrainingRecipe | None:
    """ "Fine-tune the current model": start from ``model_dir``'s weights at its own input size
    and decoder (``card``: its model.json; the trainer refuses any other), a few epochs at a low
    learning rate with the encoder fine-tuned, so a few dozen corrected photos teach it what
    this user photographs without forgetting the rest. None when the card lacks what it needs
    (a model trained before cards recorded the decoder)."""
    architecture = card.get("architecture") if isinstance(card, dict) else None
    filters = (
        (architecture or {}).get("decoder_filters") if isinstance(architecture, dict) else None
    )
    size = card.get("input_size") if isinstance(card, dict) else None
    if not filters or not isinstance(size, int):
        return None
    name = str(card.get("name") or Path(model_dir).name)
    return TrainingRecipe(
        key=FINE_TUNE_KEY,
        label=f"Fine-tune the current model ({name})",
        summary=(
            f"Starts from {name}'s weights ({size} px), then 2 epochs for the decoder and 6 with "
            "the encoder at a low learning rate (1e-5): for a few dozen corrected photos."
        ),
        image_size=size,
        epochs=2,
        batch_size=8,
        fine_tune_epochs=6,
        fine_tune_learning_rate=1e-5,
        augment="full",
        decoder_filters=tuple(int(n) for n in filters),
        boundary_weight=3.0,
        init_model=Path(model_dir),
    )
