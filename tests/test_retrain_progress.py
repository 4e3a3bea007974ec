"""The Qt-free side of a training run: the command line and the JSONL progress state machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from petseg_gui.contract.data_sources import SourceSpec
from petseg_gui.training_progress import TrainingProgress, format_duration, read_history_csv
from petseg_gui.training_recipes import PAPER_RECIPE, PETSEG_RECIPE
from petseg_gui.training_request import OXFORD_PETS, TrainingRequest


def line(**event) -> str:
    return json.dumps(event)


def start(initial_epoch: int = 0) -> str:
    return line(event="start", epochs=4, steps=10, train_images=80, validation_images=20,
                image_size=128, batch_size=8, work_dir="/w", output="/o",
                initial_epoch=initial_epoch)  # fmt: skip


START = start()


def step(epoch: int, n: int, eta: float | None = 30.0, epochs: int = 4) -> str:
    return line(event="step", epoch=epoch, epochs=epochs, step=n, steps=10, loss=0.5,
                accuracy=0.8, eta_seconds=eta, phase="frozen")  # fmt: skip


def epoch_end(epoch: int, phase: str = "frozen", epochs: int = 4) -> str:
    return line(event="epoch_end", epoch=epoch, epochs=epochs, loss=1 / epoch, accuracy=0.7,
                val_loss=1.5 / epoch, val_accuracy=0.65, eta_seconds=10.0, phase=phase)  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_fraction_follows_epochs_and_steps():
    p = TrainingProgress()
    assert p.fraction == 0.0
    p.feed(START)
    assert (p.epochs, p.steps, p.train_images) == (4, 10, 80)
    p.feed(step(1, 5))
    assert p.epoch_fraction == pytest.approx(0.5)
    assert p.fraction == pytest.approx(0.5 / 4)
    p.feed(epoch_end(1))
    assert p.fraction == pytest.approx(1 / 4)
    p.feed(step(2, 2))
    assert p.fraction == pytest.approx(1.2 / 4)
    assert p.eta_seconds() == 30.0  # the trainer's own estimate wins


def test_eta_from_pace_when_the_trainer_gives_none():
    clock = FakeClock()
    p = TrainingProgress(clock=clock)
    p.feed(START)
    p.feed(step(1, 1, eta=None))
    assert p.eta_seconds() is not None  # 1/40 done
    clock.now += 10.0  # 10 s later: half of epoch 1 done = 1/8 of the run
    p.feed(step(1, 5, eta=None))
    # 10 s for 1/8 of the run -> 7/8 left takes 70 s
    assert p.eta_seconds() == pytest.approx(70.0)


def test_history_keeps_one_point_per_epoch_in_order():
    p = TrainingProgress()
    p.feed(START)
    for e in (1, 2):
        p.feed(epoch_end(e))
    p.feed(epoch_end(2))  # repeated: replaced, not duplicated
    assert [pt.epoch for pt in p.history] == [1, 2]
    assert p.history[1].val_loss == pytest.approx(0.75)


def test_resume_continues_curves_and_progress():
    p = TrainingProgress()
    p.feed(START)
    for e in (1, 2, 3):
        p.feed(epoch_end(e))
    p.reset_run()  # the dialog starts the resumed process
    p.feed(start(initial_epoch=2))
    # epoch 3 is redone after the resume; epochs 1-2 stay on the chart
    assert [pt.epoch for pt in p.history] == [1, 2]
    assert p.fraction == pytest.approx(2 / 4)
    p.feed(step(3, 5))
    assert p.fraction == pytest.approx(2.5 / 4)


def test_malformed_lines_are_tolerated_and_logged():
    p = TrainingProgress()
    assert p.feed("Epoch 1/20 - some stray print") is None
    assert p.feed("[1, 2, 3]") is None
    assert p.feed(line(event="step", epoch="x")) is None  # bad values in a known event
    assert p.feed("   ") is None  # blank: nothing to log
    assert len(p.log) == 3 and "stray print" in p.log[0]
    assert p.feed(line(event="future_event", x=1)) == {"event": "future_event", "x": 1}
    p.feed(START)
    assert p.epochs == 4  # still works after the noise


def test_outcome_done():
    p = TrainingProgress()
    p.feed(START)
    p.feed(line(event="done", output="/models/m", metrics={"validation": {"pixel_accuracy": 0.9}}))
    out = p.outcome(0)
    assert out.kind == "done" and out.output == Path("/models/m")
    assert out.metrics["validation"]["pixel_accuracy"] == 0.9
    assert p.fraction == 1.0 and p.eta_seconds() == 0.0


def test_outcome_stopped_by_signal_is_resumable():
    p = TrainingProgress()
    p.feed(START)
    p.feed(epoch_end(1))
    p.feed(line(event="checkpoint", epoch=1, path="/o.partial/checkpoints/epoch-001.keras"))
    p.feed(line(event="stopped", epoch=1, checkpoint="/o.partial/x", reason="signal"))
    out = p.outcome(130)
    assert out.kind == "stopped" and out.can_resume and "epoch 1" in out.message


def test_outcome_error_event_shows_its_message():
    p = TrainingProgress()
    p.feed(line(event="error", message="oxford_iiit_pet: no network;\n use --data DIR"))
    out = p.outcome(1)
    assert out.kind == "error"
    assert out.message == "oxford_iiit_pet: no network; use --data DIR"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(3, "exit status 3"), (None, "crashed"), (0, "without writing a model")],
)
def test_outcome_crash_gives_reason_and_last_log_line(code, reason):
    p = TrainingProgress()
    p.feed(START)
    out = p.outcome(code, ["Traceback ...", "MemoryError: out of memory", ""])
    assert out.kind == "crashed"
    assert reason in out.message and "MemoryError: out of memory" in out.message


def test_request_argv_is_the_exact_trainer_command(tmp_path):
    request = TrainingRequest(
        sources=(SourceSpec(str(tmp_path / "photos")),),
        output=tmp_path / "models" / "photos-128",
        image_size=128,
        epochs=5,
        batch_size=16,
        fine_tune_epochs=2,
        target_accuracy=0.9,
        extra_args=("--encoder-weights", "none"),
    )
    argv = request.argv(program=["py", "-m", "model_training"])
    assert argv == [
        "py", "-m", "model_training", "train",
        "--data", str(tmp_path / "photos"),
        "--output", str(tmp_path / "models" / "photos-128"),
        "--name", "photos-128",
        "--image-size", "128", "--epochs", "5", "--batch-size", "16",
        "--augment", "flip", "--decoder-filters", "512,256,128,64",
        "--boundary-weight", "1",
        "--progress", "jsonl",
        "--fine-tune-epochs", "2", "--fine-tune-learning-rate", "1e-05",
        "--target-accuracy", "0.9",
        "--encoder-weights", "none",
    ]  # fmt: skip
    assert request.argv(resume=True)[-3] == "--resume"
    assert "--overwrite" in request.argv(overwrite=True)
    assert request.total_epochs == 7
    oxford = TrainingRequest(sources=(SourceSpec(OXFORD_PETS),), output=tmp_path / "m").argv()
    assert "--fine-tune-epochs" not in oxford and "--target-accuracy" not in oxford
    assert "--fine-tune-learning-rate" not in oxford  # meaningless without a fine-tune phase


def _flags(argv: list[str], start: str) -> dict[str, str]:
    """The trainer options of ``argv`` after ``start`` as {flag: value}."""
    options = argv[argv.index(start) :]
    return dict(zip(options[::2], options[1::2], strict=True))


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        (
            PETSEG_RECIPE,
            {
                "--image-size": "288", "--epochs": "15", "--batch-size": "16",
                "--augment": "full", "--decoder-filters": "192,96,48,32",
                "--boundary-weight": "3", "--progress": "jsonl",
                "--fine-tune-epochs": "35", "--fine-tune-learning-rate": "0.0001",
            },
        ),
        (
            PAPER_RECIPE,
            {
                "--image-size": "224", "--epochs": "20", "--batch-size": "64",
                "--augment": "flip", "--decoder-filters": "512,256,128,64",
                "--boundary-weight": "1", "--progress": "jsonl",
            },
        ),
    ],
)  # fmt: skip
def test_each_recipe_gives_its_trainer_flags(tmp_path, recipe, expected):
    base = TrainingRequest(
        sources=(SourceSpec("photos"),), output=tmp_path / "m", target_accuracy=0.95
    )
    request = recipe.apply(base)
    assert _flags(request.argv(), "--image-size") == expected | {"--target-accuracy": "0.95"}
    assert request.sources == base.sources and request.output == tmp_path / "m"  # kept
    assert request.total_epochs == {PETSEG_RECIPE: 50, PAPER_RECIPE: 20}[recipe]


def test_the_petseg_recipe_is_the_bundled_models_command():
    """docs/MODEL.md "Reproduce": the recipe must stay the command that made the bundled model."""
    doc = (Path(__file__).parents[1] / "docs" / "MODEL.md").read_text(encoding="utf-8")
    reproduce = " ".join(doc.split("## Reproduce", 1)[1].split("```")[1].split()).replace("\\ ", "")
    argv = PETSEG_RECIPE.apply(TrainingRequest(sources=(SourceSpec("d"),), output=Path("o"))).argv()
    for flag in ("--image-size", "--decoder-filters", "--augment", "--epochs",
                 "--fine-tune-epochs", "--batch-size", "--boundary-weight"):  # fmt: skip
        assert f"{flag} {argv[argv.index(flag) + 1]} " in reproduce + " ", flag
    rate = float(reproduce.split("--fine-tune-learning-rate ")[1].split()[0])
    assert float(argv[argv.index("--fine-tune-learning-rate") + 1]) == rate


def test_request_can_resume_only_with_a_checkpoint_state(tmp_path):
    request = TrainingRequest(sources=(SourceSpec("d"),), output=tmp_path / "m")
    assert not request.can_resume()
    (tmp_path / "m.partial" / "checkpoints").mkdir(parents=True)
    assert not request.can_resume()
    (tmp_path / "m.partial" / "checkpoints" / "state.json").write_text("{}")
    assert request.can_resume()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (float("inf"), ""),
        (4.4, "4 s"),
        (65, "1 min 05 s"),
        (3 * 3600 + 120, "3 h 02 min"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_read_history_csv_tolerates_bad_rows(tmp_path):
    csv_path = tmp_path / "history.csv"
    csv_path.write_text(
        "epoch,phase,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
        "1,frozen,0.9,0.6,1.0,0.55,0.001,3.2\n"
        "2,frozen,oops,0.7,0.8,0.65,0.001,3.1\n"
        "3,fine-tune,0.5,0.8,,0.75,1e-05,3.0\n"
    )
    points = read_history_csv(csv_path)
    assert [p.epoch for p in points] == [1, 3]
    assert points[1].val_loss is None and points[1].phase == "fine-tune"
    assert read_history_csv(tmp_path / "missing.csv") == []


def test_several_sources_give_repeated_data_options(tmp_path):
    """One --data per source, each spelled by the contract (weight and class 3 only when set)."""
    sources = (
        SourceSpec(str(tmp_path / "people")),
        SourceSpec(str(tmp_path / "pseudo"), weight=0.5, class3="unknown"),
        SourceSpec(OXFORD_PETS, weight=2),
    )
    argv = TrainingRequest(sources=sources, output=tmp_path / "m").argv(program=["t"])
    assert argv[:8] == [
        "t", "train",
        "--data", str(tmp_path / "people"),
        "--data", f"{tmp_path / 'pseudo'},weight=0.5,class3=unknown",
        "--data", f"{OXFORD_PETS},weight=2",
    ]  # fmt: skip
    request = TrainingRequest(sources=sources, output=tmp_path / "m")
    assert request.folders == [tmp_path / "people", tmp_path / "pseudo"]
    assert request.source_names == ["people", "pseudo", "oxford_iiit_pet"]


def test_comparison_rows_and_per_source_accuracy():
    from petseg_gui.training_comparison import comparison_rows, source_rows, validation_metrics

    card = {"metrics": {"test": {"pixel_accuracy": 0.9}}}
    rows = comparison_rows({"pixel_accuracy": 0.875}, validation_metrics(card))
    assert rows[0] == ("Pixel accuracy", "87.5%", "90.0%") and rows[1][1:] == ("-", "-")
    metrics = {
        "validation": {"pixel_accuracy": 0.9},
        "sources": {
            "people": {"validation": {"pixel_accuracy": 0.91}},
            "pets": {"validation": {"pixel_accuracy": 0.88}},
        },
    }
    assert source_rows(metrics) == [("people", "91.0%"), ("pets", "88.0%")]
    assert source_rows({"validation": {}}) == []
