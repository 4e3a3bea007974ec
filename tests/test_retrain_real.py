"""Model > Retrain... end to end with the REAL trainer (`python -m model_training train`).

A tiny data set (8 photos of 48x48) and a tiny network (32 px, random encoder weights, a slim
decoder) keep a run to seconds of CPU; the dialog, the child process, the JSONL protocol, the
checkpoints and the model folder are all the real ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from retrain_data import write_ellipse_dataset

from petseg_gui import model_registry
from petseg_gui.model_registry import list_models
from petseg_gui.ui.retrain_dialog import RetrainDialog

pytestmark = pytest.mark.slow

TINY_TRAINING = (
    "--image-size", "32", "--encoder-weights", "none", "--decoder-filters", "16,8,8,8",
)  # fmt: skip
RUN_TIMEOUT_MS = 240_000  # TensorFlow start-up plus training on two shared, busy cores


@pytest.fixture
def dialog(qtbot, tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv("PETSEG_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setattr(model_registry, "_bundled_model_dir", lambda: None)
    dialog = RetrainDialog(current_model_dir=tiny_model_dir, extra_train_args=TINY_TRAINING)
    dialog._confirm_stop = lambda: True  # pytest-qt closes widgets before fixtures end
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_data_folder(write_ellipse_dataset(tmp_path / "ellipses"))
    qtbot.waitUntil(lambda: not dialog.form.checking(), timeout=RUN_TIMEOUT_MS)
    dialog.form.batch_spin.setValue(4)
    yield dialog
    dialog.stop_and_wait(30_000)


def test_real_training_run_makes_a_usable_model(qtbot, dialog):
    # The recommended recipe's flags (full augmentation, a fine-tune phase at its own rate)
    # through the real trainer, in one epoch of each phase.
    assert (
        dialog.form.augment_combo.currentData() == "full"
        and dialog.form.fine_tune_check.isChecked()
    )
    dialog.form.epochs_spin.setValue(1)
    dialog.form.fine_tune_spin.setValue(1)
    output = Path(dialog.form.output_edit.text())
    steps: list[int] = []
    dialog.panel.epoch_bar.valueChanged.connect(steps.append)

    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS) as finished:
        dialog.start_button.click()

    outcome = finished.args[0]
    assert outcome.kind == "done", (
        outcome.message + "\n" + dialog.panel.log_view.toPlainText()[-2000:]
    )
    assert steps and dialog.panel.run_bar.value() == 1000
    assert dialog.panel.chart.point_count() == 2 * 4
    entry = next(e for e in list_models() if e.path == output)
    assert entry.card["input_size"] == 32 and entry.card["name"] == output.name
    assert dialog.panel.metrics_table.item(0, 0).text().endswith("%")
    with qtbot.waitSignal(dialog.useModelRequested) as used:
        dialog.panel.use_button.click()
    assert used.args == [str(output)]


def test_real_cancel_then_resume_continues_the_epochs(qtbot, dialog):
    dialog.form.epochs_spin.setValue(20)
    dialog.form.fine_tune_check.setChecked(False)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.process.progress.checkpoint_epoch >= 1, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS) as stopped:
        dialog.cancel_button.click()
    assert stopped.args[0].kind == "stopped", stopped.args[0].message
    assert dialog.resume_button.isEnabled()
    done_before = len(dialog.process.progress.history)
    assert 1 <= done_before < 20

    first_events: list[dict] = []
    dialog.process.event.connect(
        lambda e: first_events.append(e) if e["event"] in ("start", "step") else None
    )
    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_TIMEOUT_MS) as finished:
        dialog.resume_button.click()

    assert finished.args[0].kind == "done", finished.args[0].message
    start, first_step = first_events[0], first_events[1]
    assert start["event"] == "start" and start["initial_epoch"] >= done_before
    assert first_step["epoch"] == start["initial_epoch"] + 1  # continued, not restarted
    assert [p.epoch for p in dialog.process.progress.history] == list(range(1, 21))
