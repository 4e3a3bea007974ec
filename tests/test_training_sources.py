"""Several training sources in one run: the --data spec, weighted mixing, class 3 as unknown
(left out of loss and metrics), per-source validation in the stream, metrics.json, card and
evaluate; the Oxford layout loader on the real Oxford-IIIT Pet sample."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import SHARED_OXFORD
from test_training_cli import FAST, cli, json_events
from test_training_data import make_mask_folder, make_oxford_folder

from petseg_gui.contract.data_sources import (
    SourceSpec,
    SourceSpecError,
    parse_source_spec,
    unique_names,
)

# ---- the spec ------------------------------------------------------------------------------


def test_source_spec_reads_options_from_the_end_and_round_trips() -> None:
    spec = parse_source_spec("/data/pets,weight=2,class3=unknown")
    assert spec == SourceSpec("/data/pets", 2.0, "unknown")
    assert parse_source_spec(spec.to_text()) == spec
    assert parse_source_spec("/data/people") == SourceSpec("/data/people")
    assert SourceSpec("/data/people").to_text() == "/data/people"
    # A comma that is not followed by a known option belongs to the folder's name.
    assert parse_source_spec("/data/cats,dogs").location == "/data/cats,dogs"
    assert parse_source_spec("/data/cats,dogs,weight=0.5").location == "/data/cats,dogs"
    assert SourceSpec("/data/pets/").name == "pets"
    assert SourceSpec("tfds:oxford_iiit_pet").name == "oxford_iiit_pet"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("/d,weight=0", "above 0"),
        ("/d,weight=lots", "not a number"),
        ("/d,class3=maybe", "class3=boundary"),
        ("/d,weight=1,weight=2", "twice"),
        (",weight=2", "empty source"),
    ],
)
def test_bad_source_spec_says_what_to_write(text: str, said: str) -> None:
    with pytest.raises(SourceSpecError, match=said):
        parse_source_spec(text)


def test_unique_names_tell_two_folders_of_the_same_name_apart() -> None:
    specs = [SourceSpec("/a/pets"), SourceSpec("/b/pets"), SourceSpec("/c/people")]
    assert unique_names(specs) == ["pets", "pets-2", "people"]


# ---- mixing --------------------------------------------------------------------------------


def test_weights_set_how_often_each_source_is_drawn() -> None:
    import tensorflow as tf

    from model_training.data.pipeline import mix_sources

    def constant(value: int, count: int):
        images = tf.zeros((count, 2, 2, 3))
        masks = tf.fill((count, 2, 2, 1), tf.constant(value, tf.uint8))
        return tf.data.Dataset.from_tensor_slices((images, masks))

    # 10 photos at weight 1 against 20 photos at weight 4: drawn 10 : 80.
    mixed, steps = mix_sources(
        [(constant(0, 10), 10, 1.0), (constant(1, 20), 20, 4.0)], batch_size=5, seed=3
    )
    assert steps == 18  # (10 x 1 + 20 x 4) / 5
    labels = np.concatenate([m.numpy()[:, 0, 0, 0] for _, m in mixed.take(steps * 4)])
    assert 0.82 < labels.mean() < 0.96  # expected 80/90 = 0.89

    single, none = mix_sources([(constant(0, 7), 7, 3.0)], batch_size=5)
    assert none is None and sum(1 for _ in single) == 2  # one source: one finite pass


# ---- class 3 as unknown --------------------------------------------------------------------


def _tiny_compiled_model():
    import keras

    from model_training.model import build_unet, compile_unet

    keras.utils.set_random_seed(0)
    model = build_unet(32, encoder_weights=None, decoder_filters=(8, 8, 8, 8))
    compile_unet(model, 1e-2)
    return model


def _trainable_after_one_step(labels_value: int) -> tuple[list, list]:
    model = _tiny_compiled_model()
    before = [w.numpy().copy() for w in model.trainable_weights]
    images = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    labels = np.full((2, 32, 32, 1), labels_value, np.uint8)
    model.train_on_batch(images, labels)
    return before, [w.numpy() for w in model.trainable_weights]


def test_a_source_of_only_unknown_pixels_teaches_nothing() -> None:
    before, after = _trainable_after_one_step(3)
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))
    # The same step on known labels does move the weights: the check above can fail.
    before, after = _trainable_after_one_step(0)
    assert not all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def test_class3_unknown_turns_the_band_into_label_3(tmp_path: Path) -> None:
    from model_training.data import load_data

    root = make_oxford_folder(tmp_path / "pets", train=2, test=1)
    learned = load_data(str(root), image_size=32)
    unknown = load_data(str(root), image_size=32, class3="unknown")
    band = [m.numpy() for _, m in learned.train]
    marked = [m.numpy() for _, m in unknown.train]
    for learn, mark in zip(band, marked, strict=True):
        assert (learn == 2).any() and not (mark == 2).any()
        assert np.array_equal(mark == 3, learn == 2)
        assert np.array_equal(mark[mark != 3], learn[learn != 2])


# ---- a run with two sources ----------------------------------------------------------------


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sources")
    return make_mask_folder(root / "people", count=6), make_oxford_folder(root / "pets", 4, 3)


def test_two_sources_in_one_run_are_validated_and_carded_each(two_sources, tmp_path) -> None:
    people, pets = two_sources
    notes = tmp_path / "notes.json"
    notes.write_text(json.dumps({"pets": {"licence": "CC BY-SA 4.0"}}))
    output = tmp_path / "model"
    done = cli(
        "train", "--data", str(people), "--data", f"{pets},weight=2,class3=unknown",
        "--output", str(output), "--epochs", "2", "--encoder-weights", "none",
        "--data-notes", str(notes), "--progress", "jsonl", *FAST,
    )  # fmt: skip
    events = json_events(done.stdout)
    start = events[0]
    assert [(s["name"], s["train_images"], s["validation_images"]) for s in start["sources"]] == [
        ("people", 5, 1),
        ("pets", 4, 3),
    ]
    assert start["steps"] == 7  # (5 x 1 + 4 x 2) / batch 2, rounded up
    for end in (e for e in events if e["event"] == "epoch_end"):
        assert {"val_accuracy_people", "val_accuracy_pets", "val_loss_pets"} <= end.keys()
        # Overall accuracy pools the two sources' pixels: it lies between them.
        low, high = sorted((end["val_accuracy_people"], end["val_accuracy_pets"]))
        assert low - 1e-6 <= end["val_accuracy"] <= high + 1e-6

    metrics = json.loads((output / "metrics.json").read_text())
    assert set(metrics["sources"]) == {"people", "pets"}
    per_source = [metrics["sources"][n]["validation"]["images"] for n in ("people", "pets")]
    assert per_source == [1, 3] and metrics["validation"]["images"] == 4
    # class3=unknown: the pets' band pixels are counted nowhere.
    pets_pixels = metrics["sources"]["pets"]["validation"]["pixels"]
    assert pets_pixels < 3 * 32 * 32

    card = json.loads((output / "model.json").read_text())
    sources = card["training"]["data"]["sources"]
    assert [s["name"] for s in sources] == ["people", "pets"]
    assert [s["train_count"] for s in sources] == [5, 4]
    assert sources[1]["class3"] == "unknown" and sources[1]["weight"] == 2.0
    assert "unknown" in sources[1]["labels"] and sources[1]["licence"] == "CC BY-SA 4.0"
    assert "binary masks" in sources[0]["labels"]
    assert set(card["metrics"]["sources"]) == {"people", "pets"}
    assert "confusion_matrix" not in card["metrics"]["sources"]["pets"]["validation"]
    for name, count in (("people", 1), ("pets", 3)):
        ids = (output / card["training"]["split"]["ids_files"][name]).read_text().split()
        assert len(ids) == count

    # evaluate with the same two sources reports each and the total, as training measured.
    report = tmp_path / "eval.json"
    done = cli("evaluate", "--model", str(output), "--data", str(people),
               "--data", f"{pets},class3=unknown", "--output", str(report))  # fmt: skip
    measured = json.loads(report.read_text())
    assert set(measured["sources"]) == {"people", "pets"}
    assert measured["sources"]["pets"]["pixels"] == pets_pixels
    assert measured["metrics"]["pixel_accuracy"] == pytest.approx(
        metrics["validation"]["pixel_accuracy"], abs=1e-6
    )
    assert "on people" in done.stdout and "on pets" in done.stdout


def test_bad_source_option_is_one_line(two_sources, tmp_path) -> None:
    people, _ = two_sources
    done = cli("train", "--data", f"{people},weight=-1", "--output", str(tmp_path / "m"),
               *FAST, check=1)  # fmt: skip
    assert "weight -1" in done.stderr and "Traceback" not in done.stderr


def test_init_model_must_match_the_architecture(two_sources, tmp_path) -> None:
    people, _ = two_sources
    first = tmp_path / "first"
    cli("train", "--data", str(people), "--output", str(first), "--epochs", "1",
        "--encoder-weights", "none", *FAST)  # fmt: skip
    done = cli("train", "--data", str(people), "--output", str(tmp_path / "second"),
               "--init-model", str(first), "--image-size", "64", "--batch-size", "2",
               "--decoder-filters", "8,8,8,8", "--encoder-weights", "none", check=1)  # fmt: skip
    assert "--image-size 32" in done.stderr


# ---- the real Oxford-IIIT Pet sample -------------------------------------------------------


def _listed(name: str) -> list[str]:
    lines = (SHARED_OXFORD / "annotations" / name).read_text().splitlines()
    return [ln.split()[0] for ln in lines if ln.strip() and not ln.startswith("#")]


@pytest.mark.skipif(not SHARED_OXFORD.is_dir(), reason="needs ../shared/data/oxford-pets-sample")
def test_real_oxford_sample_loads_by_its_official_lists() -> None:
    from model_training.data import load_data

    train_ids, test_ids = _listed("trainval.txt"), _listed("test.txt")
    splits = load_data(str(SHARED_OXFORD), image_size=32)
    assert (splits.train_count, splits.validation_count) == (len(train_ids), len(test_ids))
    assert splits.description["validation_ids"] == test_ids
    assert not set(train_ids) & set(test_ids)
    labels = np.concatenate([m.numpy().ravel() for _, m in splits.validation.take(20)])
    assert set(np.unique(labels).tolist()) == {0, 1, 2}  # pet, background, the band
    # One trimap checked against its file: the -1 shift of the official values.
    trimap = cv2.imread(str(SHARED_OXFORD / "annotations" / "trimaps" / f"{test_ids[0]}.png"), 0)
    assert set(np.unique(trimap).tolist()) <= {1, 2, 3}


def test_cosine_fine_tune_and_a_checkpoint_as_the_start(two_sources, tmp_path) -> None:
    import csv

    people, _ = two_sources
    first = tmp_path / "first"
    cli("train", "--data", str(people), "--output", str(first), "--epochs", "0",
        "--fine-tune-epochs", "3", "--fine-tune-learning-rate", "1e-3",
        "--fine-tune-schedule", "cosine", "--encoder-weights", "none", *FAST)  # fmt: skip
    rates = [float(r["learning_rate"]) for r in csv.DictReader(open(first / "history.csv"))]
    assert rates[0] < 1e-3 and rates == sorted(rates, reverse=True) and rates[-1] < 1e-6
    card = json.loads((first / "model.json").read_text())
    assert card["training"]["fine_tune_schedule"] == "cosine"

    checkpoint = first / "checkpoints" / "epoch-002.keras"
    second = tmp_path / "second"
    done = cli("train", "--data", str(people), "--output", str(second), "--epochs", "1",
               "--init-model", str(checkpoint), "--encoder-weights", "none", *FAST)  # fmt: skip
    assert "starting from the weights of the checkpoint" in done.stderr
    record = json.loads((second / "model.json").read_text())["training"]["init_model"]
    assert record["checkpoint"] is True and record["path"] == str(checkpoint)
