"""The teach loop with the REAL trainer: corrected pairs written by the app's teach action, the
"Fine-tune the current model" recipe's command, and a tiny model (32 px, random encoder, slim
decoder) so each run is seconds of CPU. The fine-tuned model starts from the current model's
weights (not from scratch or ImageNet) and its prediction moves toward the corrections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from retrain_data import write_ellipse_dataset

from petseg_gui.contract.data_sources import SourceSpec
from petseg_gui.edits import add_to_training_set, count_training_pairs
from petseg_gui.training_recipes import fine_tune_recipe
from petseg_gui.training_request import TrainingRequest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TINY = ("--image-size", "32", "--encoder-weights", "none", "--decoder-filters", "16,8,8,8")


def run(argv: list[str]) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def agreement(model_dir: Path, folder: Path) -> float:
    """Pixel agreement of the model's subject with the folder's masks (32 px, as trained)."""
    import keras

    model = keras.models.load_model(model_dir / "model.keras", compile=False)
    scores = []
    for image in sorted((folder / "images").iterdir()):
        rgb = Image.open(image).convert("RGB").resize((32, 32), Image.Resampling.BILINEAR)
        mask = Image.open(folder / "masks" / f"{image.stem}.png").resize(
            (32, 32), Image.Resampling.NEAREST
        )
        logits = model.predict(np.asarray(rgb, np.float32)[None] / 255.0, verbose=0)[0]
        scores.append(np.mean((logits.argmax(-1) == 0) == (np.asarray(mask) > 127)))
    return float(np.mean(scores))


@pytest.fixture(scope="module")
def fine_tuned(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(current model, fine-tuned model, the personal folder of corrected pairs)."""
    tmp_path = tmp_path_factory.mktemp("fine_tune")
    data = write_ellipse_dataset(tmp_path / "ellipses")
    current = tmp_path / "current"
    run([sys.executable, "-m", "model_training", "train", "--data", str(data), "--output",
         str(current), "--epochs", "3", "--batch-size", "4", *TINY])  # fmt: skip

    personal = tmp_path / "appdata" / "training-data"  # default_training_folder()'s layout
    # The user corrects every photo the same way: the dark part is the subject (the current
    # model says the bright ellipse is), and teaches them through the app's action.
    for image in sorted((data / "images").iterdir()):
        mask = np.asarray(Image.open(data / "masks" / f"{image.stem}.png")) > 127
        add_to_training_set(image, (~mask).astype(np.float32), personal)
    assert count_training_pairs(personal) == 8

    card = json.loads((current / "model.json").read_text(encoding="utf-8"))
    recipe = fine_tune_recipe(current, card)
    assert recipe is not None and recipe.image_size == 32
    tuned = tmp_path / "tuned"
    request = recipe.apply(TrainingRequest(sources=(SourceSpec(str(personal)),), output=tuned))
    # The recipe's command; only faster here: fewer, larger steps than for real photos.
    argv = request.argv() + ["--encoder-weights", "none", "--batch-size", "4", "--epochs", "2",
                             "--fine-tune-epochs", "4", "--fine-tune-learning-rate", "1e-3",
                             "--augment", "none", "--progress", "none"]  # fmt: skip
    assert argv[argv.index("--init-model") + 1] == str(current)
    run(argv)
    return current, tuned, personal


def test_fine_tuning_starts_from_the_model_and_learns_the_corrections(fine_tuned) -> None:
    current, tuned, personal = fine_tuned
    tuned_card = json.loads((tuned / "model.json").read_text(encoding="utf-8"))
    recorded = tuned_card["training"]["init_model"]
    assert str(current) in json.dumps(recorded)
    assert agreement(tuned, personal) > agreement(current, personal) + 0.15

    import keras

    # Started from the current model: its decoder moved a little, not from a random start.
    before = keras.models.load_model(current / "model.keras", compile=False)
    after = keras.models.load_model(tuned / "model.keras", compile=False)
    kernels = [
        (b, a)
        for b, a in zip(before.get_weights(), after.get_weights(), strict=True)
        if b.ndim == 4 and b.shape[-2] in (16, 8)  # decoder Conv2DTranspose kernels
    ]
    assert kernels
    change = sum(np.linalg.norm(a - b) for b, a in kernels) / sum(
        np.linalg.norm(b) for b, _ in kernels
    )
    assert change < 0.5


def test_both_models_are_scored_on_the_users_photos(qtbot, fine_tuned) -> None:
    from petseg_gui.training_comparison import own_photos_line
    from petseg_gui.ui.retrain_own_photos import OwnPhotosScore

    current, tuned, personal = fine_tuned
    score = OwnPhotosScore()
    with qtbot.waitSignal(score.scored, timeout=300_000) as done:
        score.start(personal, tuned, current)
    new, old = done.args
    assert new["pixel_accuracy"] > old["pixel_accuracy"]
    line = own_photos_line(8, new, old, "current")
    assert line.startswith("On your 8 corrected photos: foreground IoU") and "(current)" in line
