"""``python -m model_training`` end to end on a tiny generated images/ + masks/ folder (32 px):
the model folder contract, the JSONL protocol, refusals, one-line errors, signals and resume."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from light_imports import run_main_fresh
from PIL import Image
from tiny_model import synthetic_photo, synthetic_subject_mask

from model_training.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Small and fast: a slim decoder, a random encoder unless the weights are the point.
FAST = ["--image-size", "32", "--batch-size", "2", "--decoder-filters", "8,8,8,8"]
CARD_KEYS = {
    "format",
    "format_version",
    "input_size",
    "classes",
    "sha256",
    "name",
    "created",
    "architecture",
    "training",
    "metrics",
    "versions",
}
EVENT_KEYS = {
    "start": {"epochs", "steps", "train_images", "validation_images", "image_size",
              "batch_size", "work_dir", "output", "initial_epoch"},
    "step": {"epoch", "epochs", "step", "steps", "loss", "accuracy", "eta_seconds", "phase"},
    "epoch_end": {"epoch", "epochs", "loss", "accuracy", "val_loss", "val_accuracy",
                  "eta_seconds", "phase"},
    "checkpoint": {"epoch", "path"},
    "stopped": {"epoch", "checkpoint", "reason"},
    "done": {"output", "metrics"},
    "error": {"message"},
}  # fmt: skip


@pytest.fixture(scope="module")
def mask_folder(tmp_path_factory) -> Path:
    """10 photos (different sizes, masks at half resolution like the real data) + masks."""
    root = tmp_path_factory.mktemp("people")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for i in range(10):
        height, width = 64 + 8 * i, 96
        Image.fromarray(synthetic_photo(height, width, seed=i)).save(root / "images" / f"{i}.png")
        mask = synthetic_subject_mask(height // 2, width // 2).astype(np.uint8) * 255
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    return root


def cli(*args: str, check: int | None = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "model_training", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check is not None:
        assert done.returncode == check, done.stderr[-3000:]
    return done


def json_events(stdout: str) -> list[dict]:
    """Every stdout line must be a JSON object with the protocol's keys for its event."""
    events = [json.loads(line) for line in stdout.splitlines()]
    for event in events:
        assert EVENT_KEYS[event["event"]] <= event.keys(), event
    return events


def test_help_does_not_import_tensorflow() -> None:
    code, output, loaded = run_main_fresh("model_training.cli", ["train", "--help"])
    assert code == 0 and not loaded & {"tensorflow", "keras"}
    assert "--fine-tune-epochs" in output and "default 20" in output


def test_summary_prints_the_papers_parameter_count() -> None:
    done = cli("summary", "--image-size", "224", "--encoder-weights", "none")
    assert "parameters: 6,504,227" in done.stdout


def test_train_writes_a_loadable_model_folder_and_jsonl(mask_folder, tmp_path) -> None:
    import keras

    output = tmp_path / "model"
    done = cli(
        "train", "--data", str(mask_folder), "--output", str(output), "--epochs", "3",
        "--target-accuracy", "0.01", "--boundary-weight", "2",
        "--encoder-weights", "imagenet", "--progress", "jsonl", *FAST,
    )  # fmt: skip
    events = json_events(done.stdout)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert {"step", "epoch_end", "checkpoint"} <= set(kinds)
    start = events[0]
    assert (start["train_images"], start["validation_images"]) == (8, 2)
    assert start["steps"] == 4 and start["initial_epoch"] == 0
    assert events[-1]["output"] == str(output)
    # Any accuracy beats 1%: the paper's callback stops after epoch 1 of 3, exit status 0.
    assert [e["epoch"] for e in events if e["event"] == "epoch_end"] == [1]
    stopped = events[-2]
    assert stopped["event"] == "stopped" and stopped["reason"] == "target_accuracy"

    assert not Path(str(output) + ".partial").exists()
    for name in ("model.keras", "model.json", "history.csv", "curves.png", "metrics.json"):
        assert (output / name).is_file(), name
    assert (output / "checkpoints" / "epoch-001.keras").is_file()

    card = json.loads((output / "model.json").read_text())
    assert CARD_KEYS <= card.keys()
    assert card["sha256"] == hashlib.sha256((output / "model.keras").read_bytes()).hexdigest()
    assert card["input_size"] == 32
    assert card["classes"] == ["subject", "background", "boundary"]
    assert card["training"]["command"][3:] == [
        "train", "--data", str(mask_folder), "--output", str(output), "--epochs", "3",
        "--target-accuracy", "0.01", "--boundary-weight", "2",
        "--encoder-weights", "imagenet", "--progress", "jsonl", *FAST,
    ]  # fmt: skip
    assert card["training"]["epochs"] == 1
    assert card["training"]["stopped_early"] == "target_accuracy"
    assert card["architecture"]["encoder_weights"] == "imagenet"
    validation = card["metrics"]["validation"]
    assert validation["images"] == 2
    assert 0.0 <= validation["pixel_accuracy"] <= 1.0
    assert validation == events[-1]["metrics"]["validation"]
    assert card["training"]["split"]["ids_file"] == "validation_ids.txt"
    assert len((output / "validation_ids.txt").read_text().split()) == 2

    model = keras.models.load_model(output / "model.keras", compile=False)
    logits = model.predict(np.zeros((1, 32, 32, 3), np.float32), verbose=0)
    assert logits.shape == (1, 32, 32, 3) and logits.dtype == np.float32

    # evaluate re-creates the validation split from the card and reports the same numbers.
    report = tmp_path / "eval.json"
    done = cli("evaluate", "--model", str(output), "--data", str(mask_folder),
               "--output", str(report))  # fmt: skip
    measured = json.loads(report.read_text())["metrics"]
    assert measured["pixel_accuracy"] == pytest.approx(validation["pixel_accuracy"], abs=1e-6)
    assert "pixel accuracy" in done.stdout and "confusion" in done.stdout


def test_existing_output_is_refused_without_overwrite(tmp_path, capsys) -> None:
    output = tmp_path / "model"
    output.mkdir()
    (output / "keep.txt").write_text("mine")
    code = main(["train", "--data", str(tmp_path), "--output", str(output), "--progress", "none"])
    err = capsys.readouterr().err
    assert code == 1
    assert "--overwrite" in err and str(output) in err
    assert (output / "keep.txt").read_text() == "mine"

    # An unfinished run is neither restarted over nor resumed without being asked.
    other = tmp_path / "other"
    state = tmp_path / "other.partial" / "checkpoints" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{}")
    code = main(["train", "--data", str(tmp_path), "--output", str(other), "--progress", "none"])
    err = capsys.readouterr().err
    assert code == 1 and "--resume" in err and "--overwrite" in err
    assert state.read_text() == "{}"


def test_bad_data_is_one_line_without_traceback(tmp_path) -> None:
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    (data / "images" / "0.jpg").write_bytes(b"not a jpeg")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(data / "masks" / "0.png")
    done = cli(
        "train", "--data", str(data), "--output", str(tmp_path / "m"), "--progress", "jsonl",
        "--encoder-weights", "none", *FAST, check=1,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    events = json_events(done.stdout)
    assert [e["event"] for e in events] == ["error"]
    assert "\n" not in events[0]["message"] and "0.jpg" in events[0]["message"]
    assert not (tmp_path / "m").exists()


def test_missing_imagenet_weights_is_one_line(tmp_path) -> None:
    env_home = tmp_path / "empty_keras_home"
    env_home.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "model_training", "summary", "--image-size", "32"],
        cwd=ROOT,
        env={**os.environ, "KERAS_HOME": str(env_home), "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "KERAS_HOME" in last and "--encoder-weights" in last


def test_sigint_saves_a_checkpoint_and_resume_finishes(mask_folder, tmp_path) -> None:
    output = tmp_path / "model"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    args = [
        sys.executable, "-m", "model_training", "train", "--data", str(mask_folder),
        "--output", str(output), "--epochs", "2", "--progress", "jsonl",
        "--encoder-weights", "none", *FAST,
    ]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if json.loads(line)["event"] == "step":
            process.send_signal(signal.SIGINT)  # first step seen: stop mid-epoch 1
            break
    rest, _ = process.communicate(timeout=120)
    events = json_events("".join(lines) + rest)
    assert process.returncode == 130
    stopped = events[-1]
    assert stopped["event"] == "stopped" and stopped["reason"] == "signal"
    assert Path(stopped["checkpoint"]).is_file()
    assert not output.exists()

    done = cli("train", "--output", str(output), "--resume", "--progress", "jsonl")
    resumed = json_events(done.stdout)
    assert resumed[0]["initial_epoch"] == stopped["epoch"]
    assert [e["epoch"] for e in resumed if e["event"] == "epoch_end"] == list(
        range(stopped["epoch"] + 1, 3)
    )
    history = (output / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in history[1:]] == ["1", "2"]
    card = json.loads((output / "model.json").read_text())
    assert card["training"]["epochs"] == 2
    assert card["training"]["resumed_with"][0][-3:] == ["--resume", "--progress", "jsonl"]


class SignalAfterFirstCheckpoint:
    """A reporter that records events and sends SIGINT right after epoch 1's checkpoint (the
    run's SignalWatch turns it into a clean stop)."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event: str, **fields) -> None:
        self.events.append({"event": event, **fields})
        if event == "checkpoint" and fields["epoch"] == 1:
            os.kill(os.getpid(), signal.SIGINT)

    def close(self) -> None: ...


def test_resume_continues_after_the_saved_epoch(mask_folder, tmp_path) -> None:
    """Stopped right after epoch 1's checkpoint (deterministically, from the reporter), resume
    runs epoch 2 only and appends to the history."""
    from model_training.train import TrainOptions, run_training

    options = dict(
        data=str(mask_folder),
        output=str(tmp_path / "model"),
        image_size=32,
        epochs=1,
        fine_tune_epochs=1,  # epoch 2 is the fine-tune phase: resume must switch phase
        batch_size=4,
        encoder_weights="none",
        decoder_filters=(8, 8, 8, 8),
    )
    first = SignalAfterFirstCheckpoint()
    result = run_training(TrainOptions(**options), first)
    assert result.status == "stopped" and result.epoch == 1
    assert first.events[-1]["event"] == "stopped"
    assert first.events[-1]["checkpoint"].endswith("epoch-001.keras")

    second = SignalAfterFirstCheckpoint()
    result = run_training(TrainOptions(**options, resume=True), second)
    assert result.status == "done"
    ends = [e for e in second.events if e["event"] == "epoch_end"]
    assert [(e["epoch"], e["phase"]) for e in ends] == [(2, "fine-tune")]
    history = (tmp_path / "model" / "history.csv").read_text().splitlines()
    assert [row.split(",")[:2] for row in history[1:]] == [["1", "frozen"], ["2", "fine-tune"]]
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert card["architecture"]["encoder_trainable"] is True


def test_finish_makes_the_model_folder_from_a_stopped_run(mask_folder, tmp_path) -> None:
    """--resume --finish: no further epoch, the folder from the last checkpoint."""
    from model_training.train import TrainOptions, run_training

    options = dict(
        data=str(mask_folder), output=str(tmp_path / "model"), image_size=32, epochs=3,
        batch_size=4, encoder_weights="none", decoder_filters=(8, 8, 8, 8),
    )  # fmt: skip
    assert run_training(TrainOptions(**options), SignalAfterFirstCheckpoint()).status == "stopped"
    finisher = SignalAfterFirstCheckpoint()
    result = run_training(TrainOptions(**options, resume=True, finish=True), finisher)
    assert result.status == "done" and result.epoch == 1
    assert not [e for e in finisher.events if e["event"] == "epoch_end"]
    assert [e["reason"] for e in finisher.events if e["event"] == "stopped"] == ["finish_requested"]
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert (card["training"]["epochs"], card["training"]["epochs_planned"]) == (1, 3)
    assert card["training"]["stopped_early"] == "finish_requested"
    assert (tmp_path / "model" / "model.tflite").is_file()
