"""Retrain and the user's corrections: the personal training folder offered as a source, and
the "Fine-tune the current model" recipe (the model in use's weights, input size and decoder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tiny_model import synthetic_photo, synthetic_subject_mask

from petseg_gui.edits import add_to_training_set, default_training_folder
from petseg_gui.training_recipes import FINE_TUNE_KEY, fine_tune_recipe
from petseg_gui.training_request import TrainingRequest
from petseg_gui.ui.retrain_dialog import RetrainDialog
from resources import MODEL_DIR

BUNDLED = Path(MODEL_DIR)


@pytest.fixture(autouse=True)
def app_data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "appdata"))
    return tmp_path / "appdata"


def bundled_card() -> dict:
    return json.loads((BUNDLED / "model.json").read_text(encoding="utf-8"))


def test_the_fine_tune_recipe_starts_from_the_model_at_its_own_size() -> None:
    recipe = fine_tune_recipe(BUNDLED, bundled_card())
    assert recipe is not None and recipe.key == FINE_TUNE_KEY
    argv = recipe.apply(TrainingRequest(sources=(), output=Path("out"))).argv()
    assert argv[argv.index("--init-model") + 1] == str(BUNDLED)
    assert argv[argv.index("--image-size") + 1] == "288"
    assert argv[argv.index("--decoder-filters") + 1] == "192,96,48,32"
    assert float(argv[argv.index("--fine-tune-learning-rate") + 1]) <= 1e-5
    assert int(argv[argv.index("--epochs") + 1]) <= 3  # a few epochs, not a new training
    # A card that does not say its decoder cannot be fine-tuned from (the trainer would refuse).
    assert fine_tune_recipe(BUNDLED, {"input_size": 288}) is None
    assert "--init-model" not in TrainingRequest(sources=(), output=Path("o")).argv()


def test_the_dialog_offers_the_personal_folder_and_fine_tuning(qtbot, tmp_path) -> None:
    photo = tmp_path / "mine.png"
    Image.fromarray(synthetic_photo()).save(photo)
    for _ in range(4):  # the fewest the app's data check accepts (training + validation)
        add_to_training_set(photo, synthetic_subject_mask().astype(np.float32))
    dialog = RetrainDialog(current_model_dir=BUNDLED)
    qtbot.addWidget(dialog)
    form = dialog.form
    assert str(default_training_folder()) in [s.location for s in form.sources.sources()]
    index = form.recipe_combo.findData(FINE_TUNE_KEY)
    assert index >= 0 and "Fine-tune the current model" in form.recipe_combo.itemText(index)
    form.recipe_combo.setCurrentIndex(index)
    request = form.request()
    assert request.init_model == BUNDLED and request.image_size == 288
    assert request.decoder_filters == (192, 96, 48, 32) and request.fine_tune_epochs > 0
    form.recipe_combo.setCurrentIndex(0)  # another recipe: from ImageNet again
    assert form.request().init_model is None
    qtbot.waitUntil(lambda: "being checked" not in (form.data_problem() or ""), timeout=30_000)
    assert form.data_problem() is None  # the app's own check accepts the folder


def test_no_pairs_no_personal_source(qtbot) -> None:
    dialog = RetrainDialog(current_model_dir=None)
    qtbot.addWidget(dialog)
    assert dialog.form.sources.sources() == []
    assert dialog.form.recipe_combo.findData(FINE_TUNE_KEY) == -1
