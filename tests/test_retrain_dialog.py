"""Model > Retrain... driven through a fake trainer that speaks the real JSONL protocol.

The fake (tests/fake_trainer.py) is a real child process, so these tests exercise the QProcess
plumbing, the signal handling and the folders on disk; only TensorFlow is left out.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from retrain_data import write_ellipse_dataset

from petseg_gui import model_registry
from petseg_gui.contract.data_sources import SourceSpec
from petseg_gui.model_registry import list_models, user_models_dir
from petseg_gui.training_recipes import PETSEG_RECIPE, RECIPES
from petseg_gui.training_request import OXFORD_PETS, TrainingRequest
from petseg_gui.ui.retrain_dialog import RetrainDialog

FAKE_TRAINER = [sys.executable, str(Path(__file__).with_name("fake_trainer.py"))]
RUN_TIMEOUT_MS = 60_000  # two busy shared cores: generous, never a sleep


@pytest.fixture
def app_data(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setattr(model_registry, "_bundled_model_dir", lambda: None)
    return tmp_path / "appdata"


@pytest.fixture
def make_dialog(qtbot, app_data):
    made: list[RetrainDialog] = []

    def make(*extra_args: str, current: Path | None = None) -> RetrainDialog:
        dialog = RetrainDialog(
            current_model_dir=current, trainer_program=FAKE_TRAINER, extra_train_args=extra_args
        )
        # pytest-qt closes added widgets before fixtures tear down: a run still going then
        # would open the "stop training?" question and block; answer it yes by default.
        dialog._confirm_stop = lambda: True
        # These tests count epochs; the default recipe's 35 fine-tune epochs would add to them.
        dialog.form.fine_tune_check.setChecked(False)
        qtbot.addWidget(dialog)
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:  # never leave a child process behind
        dialog.stop_and_wait(10_000)


@pytest.fixture
def data(tmp_path) -> Path:
    return write_ellipse_dataset(tmp_path / "ellipses")


def use_folder(qtbot, dialog: RetrainDialog, folder: Path) -> None:
    """Choose one data folder and wait for its check, which runs off the UI thread."""
    dialog.set_data_folder(folder)
    qtbot.waitUntil(lambda: not dialog.form.checking(), timeout=RUN_TIMEOUT_MS)


def run_to_end(qtbot, dialog: RetrainDialog, button):
    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS) as blocker:
        button.click()
    return blocker.args[0]


def test_a_run_shows_progress_and_offers_the_new_model(qtbot, make_dialog, data, tiny_model_dir):
    dialog = make_dialog(current=tiny_model_dir)
    use_folder(qtbot, dialog, data)
    dialog.form.epochs_spin.setValue(3)
    output = Path(dialog.form.output_edit.text())
    assert output.parent == user_models_dir() and output.name.startswith("ellipses-288-")
    assert dialog.start_button.isEnabled()
    run_values: list[int] = []
    step_values: list[int] = []
    dialog.panel.run_bar.valueChanged.connect(run_values.append)
    dialog.panel.epoch_bar.valueChanged.connect(step_values.append)

    outcome = run_to_end(qtbot, dialog, dialog.start_button)

    assert outcome.kind == "done", outcome.message
    assert len(set(run_values)) >= 4 and run_values[-1] == 1000
    assert set(step_values) >= {1, 2, 3, 4}
    assert dialog.panel.chart.point_count() == 3 * 4  # 3 epochs x (loss, acc, val_loss, val_acc)
    assert [e.path for e in list_models()] == [output]
    assert dialog.panel.results_box.isVisible()
    assert dialog.panel.metrics_table.item(0, 0).text() == "87.0%"  # the new card's pixel accuracy
    assert dialog.panel.metrics_table.item(0, 1).text() == "-"  # the tiny model has no metrics
    assert "tiny-test-model" in dialog.panel.metrics_table.horizontalHeaderItem(1).text()
    assert "--name " + output.name in dialog.panel.log_view.toPlainText()
    assert "--augment full --decoder-filters 192,96,48,32" in dialog.panel.log_view.toPlainText()
    with qtbot.waitSignal(dialog.useModelRequested) as used:
        dialog.panel.use_button.click()
    assert used.args == [str(output)]


def test_a_new_dialog_starts_from_the_recommended_recipe(qtbot, app_data):
    dialog = RetrainDialog()
    qtbot.addWidget(dialog)
    assert dialog.form.recipe_combo.currentText() == PETSEG_RECIPE.label
    fields = dataclasses.replace(dialog.request(), output=Path("o"))
    assert fields == PETSEG_RECIPE.apply(TrainingRequest(sources=(), output=Path("o")))
    assert "0.90" in dialog.form.recipe_note.text()


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.key for r in RECIPES])
def test_choosing_a_recipe_fills_the_fields(qtbot, make_dialog, data, recipe):
    dialog = make_dialog()
    use_folder(qtbot, dialog, data)
    other = next(r for r in RECIPES if r is not recipe)
    dialog.form.recipe_combo.setCurrentIndex(RECIPES.index(other))  # start from the other one

    dialog.form.recipe_combo.setCurrentIndex(RECIPES.index(recipe))  # what the user does

    assert dialog.form.size_combo.currentData() == recipe.image_size
    assert dialog.form.epochs_spin.value() == recipe.epochs
    assert dialog.form.batch_spin.value() == recipe.batch_size
    assert dialog.form.fine_tune_check.isChecked() == (recipe.fine_tune_epochs > 0)
    assert dialog.form.fine_tune_rate_combo.isEnabled() == (recipe.fine_tune_epochs > 0)
    assert recipe.summary == dialog.form.recipe_note.text()
    request = dialog.request()
    assert request == recipe.apply(request)  # every knob the recipe sets, as it set it
    assert request.sources == (SourceSpec(str(data)),)
    assert f"-{recipe.image_size}-" in request.output.name  # the suggested folder follows
    argv = request.argv()
    assert argv[argv.index("--decoder-filters") + 1] == ",".join(map(str, recipe.decoder_filters))
    assert argv[argv.index("--augment") + 1] == recipe.augment


def test_fields_edited_after_a_recipe_are_what_runs(qtbot, make_dialog, data):
    dialog = make_dialog()
    use_folder(qtbot, dialog, data)
    dialog.apply_recipe(PETSEG_RECIPE)
    dialog.form.size_combo.setCurrentIndex(dialog.form.size_combo.findData(128))
    dialog.form.augment_combo.setCurrentIndex(dialog.form.augment_combo.findData("flip"))
    dialog.form.fine_tune_rate_combo.setCurrentIndex(
        dialog.form.fine_tune_rate_combo.findData(3e-5)
    )

    argv = dialog.request().argv()

    assert dialog.form.recipe_combo.currentText() == PETSEG_RECIPE.label  # no silent switch
    assert argv[argv.index("--image-size") + 1] == "128"
    assert argv[argv.index("--augment") + 1] == "flip"
    assert argv[argv.index("--fine-tune-learning-rate") + 1] == "3e-05"
    assert argv[argv.index("--decoder-filters") + 1] == "192,96,48,32"  # untouched: the recipe's


def test_cancel_keeps_a_checkpoint_that_resume_continues(qtbot, make_dialog, data):
    dialog = make_dialog("--fake-mode", "hang", "--hang-after", "2")
    use_folder(qtbot, dialog, data)
    dialog.form.epochs_spin.setValue(4)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.process.progress.checkpoint_epoch == 2, timeout=RUN_TIMEOUT_MS)
    assert dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()

    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS) as stopped:
        dialog.cancel_button.click()
    assert stopped.args[0].kind == "stopped"
    assert "Resume" in dialog.panel.status_label.text()
    assert dialog.resume_button.isEnabled()
    partial = Path(dialog.form.output_edit.text() + ".partial")
    assert (partial / "checkpoints" / "epoch-002.keras").is_file()
    assert list_models() == []  # an unfinished run is not a model

    started_at: list[int] = []
    dialog.process.event.connect(
        lambda e: started_at.append(e["initial_epoch"]) if e["event"] == "start" else None
    )
    outcome = run_to_end(qtbot, dialog, dialog.resume_button)

    assert outcome.kind == "done", outcome.message
    assert started_at == [2]  # continued after epoch 2, not restarted
    assert [p.epoch for p in dialog.process.progress.history] == [1, 2, 3, 4]
    assert "--resume" in dialog.panel.log_view.toPlainText()
    assert len(list_models()) == 1


def test_an_invalid_folder_is_refused_before_start(qtbot, make_dialog, tmp_path):
    bad = tmp_path / "bad"
    (bad / "images").mkdir(parents=True)
    (bad / "masks").mkdir()
    for i in range(5):
        (bad / "images" / f"{i}.jpg").write_bytes(b"not a jpeg")
        (bad / "masks" / f"{i}.png").write_bytes(b"not a png")
    dialog = make_dialog()
    use_folder(qtbot, dialog, bad)

    assert not dialog.start_button.isEnabled()
    assert "0.jpg: is not a readable image" in dialog.form.check_label.text()
    dialog.start()  # even when called directly, nothing starts
    assert not dialog.is_running()
    assert "problems" in dialog.panel.status_label.text()


def test_the_folder_check_runs_off_the_ui_thread(qtbot, make_dialog, data):
    dialog = make_dialog()
    dialog.set_data_folder(data)
    # Returns at once: the headers are read on a worker thread, Start waits for the answer.
    assert dialog.form.checking() and not dialog.start_button.isEnabled()
    assert "checking" in dialog.form.check_label.text()
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=RUN_TIMEOUT_MS)
    assert "8 image/mask pairs" in dialog.form.check_label.text()


def test_the_sources_table_gives_one_data_option_per_source(qtbot, make_dialog, data, tmp_path):
    people = write_ellipse_dataset(tmp_path / "people", count=5)
    dialog = make_dialog()
    use_folder(qtbot, dialog, data)
    table = dialog.form.sources
    table.add(SourceSpec(str(people)))
    table.add_oxford_button.click()
    table.table.cellWidget(1, 1).setValue(0.5)  # people drawn half as often
    table.table.cellWidget(1, 2).setChecked(True)  # people: pseudo-labels, class 3 = unknown
    qtbot.waitUntil(lambda: not dialog.form.checking(), timeout=RUN_TIMEOUT_MS)
    assert "people: 5 image/mask pairs" in dialog.form.check_label.text()

    argv = dialog.request().argv()
    data_values = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--data"]
    assert data_values == [str(data), f"{people},weight=0.5,class3=unknown", OXFORD_PETS]
    assert dialog.start_button.isEnabled()
    assert dialog.request().source_names == ["ellipses", "people", "oxford_iiit_pet"]

    table.table.selectRow(0)
    table.remove_button.click()
    assert [s.location for s in dialog.request().sources] == [str(people), OXFORD_PETS]
    again = TrainingRequest(sources=dialog.request().sources, output=Path("o"))
    dialog.form.set_request(again)  # the form maps back from a request
    assert dialog.request().sources == again.sources


def test_no_network_error_is_shown_and_points_to_a_local_folder(qtbot, make_dialog):
    dialog = make_dialog("--fake-mode", "error")
    dialog.form.sources.add_oxford_button.click()
    assert dialog.start_button.isEnabled()
    assert "800 MB" in dialog.form.sources.table.item(0, 0).text()

    outcome = run_to_end(qtbot, dialog, dialog.start_button)

    assert outcome.kind == "error"
    assert "no network" in dialog.panel.status_label.text()
    assert "folder on this computer" in dialog.panel.status_label.text()


def test_a_crash_shows_reason_and_log_tail(qtbot, make_dialog, data):
    dialog = make_dialog("--fake-mode", "crash")
    use_folder(qtbot, dialog, data)

    outcome = run_to_end(qtbot, dialog, dialog.start_button)

    assert outcome.kind == "crashed"
    status = dialog.panel.status_label.text()
    assert "exit status 3" in status and "fake trainer crashed on purpose" in status
    assert "Traceback" in dialog.panel.log_view.toPlainText()
    assert dialog.start_button.isEnabled() and not dialog.is_running()


def test_stray_stdout_is_logged_and_the_run_still_finishes(qtbot, make_dialog, data):
    dialog = make_dialog("--fake-mode", "garbage")
    use_folder(qtbot, dialog, data)
    dialog.form.epochs_spin.setValue(1)
    assert run_to_end(qtbot, dialog, dialog.start_button).kind == "done"
    assert "(not a progress line) this is not json" in dialog.panel.log_view.toPlainText()


def test_an_unwritable_output_is_refused_before_start(qtbot, make_dialog, data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    dialog = make_dialog()
    use_folder(qtbot, dialog, data)
    dialog.set_output(blocker / "model")
    dialog.start_button.click()
    assert not dialog.is_running()
    assert "cannot write there" in dialog.panel.status_label.text()


def start_hanging_run(qtbot, make_dialog, data) -> RetrainDialog:
    """A run that has written its first checkpoint and then waits for a signal."""
    dialog = make_dialog("--fake-mode", "hang")
    use_folder(qtbot, dialog, data)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.process.progress.checkpoint_epoch == 1, timeout=RUN_TIMEOUT_MS)
    return dialog


def test_closing_during_training_asks_then_stops_cleanly(qtbot, make_dialog, data, monkeypatch):
    dialog = start_hanging_run(qtbot, make_dialog, data)

    monkeypatch.setattr(dialog, "_confirm_stop", lambda: False)
    dialog.close()
    assert dialog.isVisible() and dialog.is_running()  # the user said no

    monkeypatch.setattr(dialog, "_confirm_stop", lambda: True)
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=RUN_TIMEOUT_MS)
    assert not dialog.is_running()
    assert dialog.request().can_resume()


def test_quit_stops_and_waits(qtbot, make_dialog, data, monkeypatch):
    dialog = start_hanging_run(qtbot, make_dialog, data)
    monkeypatch.setattr(dialog, "_confirm_stop", lambda: True)

    assert dialog.confirm_quit()

    assert not dialog.is_running()
    assert dialog.request().can_resume()


def test_a_new_dialog_resumes_a_stopped_run_with_its_whole_curve(qtbot, make_dialog, data):
    first = make_dialog("--fake-mode", "hang", "--hang-after", "2")
    use_folder(qtbot, first, data)
    first.form.epochs_spin.setValue(4)
    output = first.form.output_edit.text()
    first.start_button.click()
    qtbot.waitUntil(lambda: first.process.progress.checkpoint_epoch == 2, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(first.process.finished, timeout=RUN_TIMEOUT_MS):
        first.cancel_button.click()

    later = make_dialog()  # e.g. after restarting the app
    use_folder(qtbot, later, data)
    assert not later.resume_button.isEnabled()  # a new output folder is suggested
    later.set_output(output)
    assert later.resume_button.isEnabled()

    assert run_to_end(qtbot, later, later.resume_button).kind == "done"
    assert [p.epoch for p in later.process.progress.history] == [1, 2, 3, 4]
    assert later.panel.chart.point_count() == 4 * 4


def test_start_over_a_stopped_run_asks_before_discarding_it(qtbot, make_dialog, data, monkeypatch):
    dialog = make_dialog("--fake-mode", "hang", "--hang-after", "1")
    use_folder(qtbot, dialog, data)
    dialog.form.epochs_spin.setValue(2)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.process.progress.checkpoint_epoch == 1, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS):
        dialog.cancel_button.click()

    monkeypatch.setattr(dialog, "_confirm_discard", lambda request: False)
    dialog.start_button.click()
    assert not dialog.is_running()  # the user kept the stopped run

    monkeypatch.setattr(dialog, "_confirm_discard", lambda request: True)
    dialog._extra_args = ()  # this time, run to the end
    assert run_to_end(qtbot, dialog, dialog.start_button).kind == "done"
    commands = [
        ln for ln in dialog.panel.log_view.toPlainText().splitlines() if ln.startswith("$ ")
    ]
    assert len(commands) == 2 and "--overwrite" in commands[1]
