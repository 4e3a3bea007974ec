"""Model > Retrain...: train a new segmentation model from the app and switch to it.

The trainer runs as a child process (``python -m model_training train ... --progress jsonl``,
see docs/INTERFACES.md section 2), so the window stays responsive and a crash of TensorFlow
cannot take the editor down. The dialog joins three parts: the form (``retrain_form``: settings
to and from a ``TrainingRequest``, data checks off the UI thread), the progress panel
(``retrain_panel``) and the trainer process (``retrain_process``); it decides when a run may
start, stops and resumes runs, and compares the new model with the current one
(``training_comparison``, Qt-free).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from petseg_gui import model_registry
from petseg_gui.contract.workdir import history_path
from petseg_gui.errors import PetsegError
from petseg_gui.training_comparison import (
    comparison_rows,
    own_photos_line,
    source_rows,
    validation_metrics,
)
from petseg_gui.training_progress import Outcome, read_history_csv
from petseg_gui.training_recipes import TrainingRecipe
from petseg_gui.training_request import TrainingRequest
from petseg_gui.ui.retrain_form import RetrainForm
from petseg_gui.ui.retrain_own_photos import OwnPhotosScore
from petseg_gui.ui.retrain_panel import ProgressPanel
from petseg_gui.ui.retrain_process import TrainingProcess

CHECK_WAIT_MS = 2000  # on quit, how long a data check still reading headers may take to stop


class RetrainDialog(QDialog):
    """Settings, progress and result of one training run at a time.

    Modeless-friendly: the main window can keep one instance and re-show it; on quit it calls
    ``confirm_quit()`` (asks, then stops the child) or ``stop_and_wait()`` directly.
    ``trainer_program`` replaces ``python -m model_training`` and ``extra_train_args`` are
    appended to every command (tests use a fake trainer or ``--encoder-weights none``).
    """

    useModelRequested = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        current_model_dir: Path | None = None,
        trainer_program: Sequence[str] | None = None,
        extra_train_args: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the subject model")
        self._current_model_dir = Path(current_model_dir) if current_model_dir else None
        self._program = list(trainer_program) if trainer_program else None
        self._extra_args = tuple(extra_train_args)
        self._request: TrainingRequest | None = None  # the run started last
        self._close_when_stopped = False
        self._new_model: Path | None = None
        self._own_count = 0  # corrected photos the last own-photos score is for

        self.process = TrainingProcess(self)
        self.own_score = OwnPhotosScore(self)  # both models on the user's corrected photos
        self.own_score.scored.connect(self._show_own_score)
        self.own_score.failed.connect(lambda text: self.panel.metrics_note.setText(text))
        self.process.event.connect(self._on_event)
        self.process.finished.connect(self._on_finished)
        self.form = RetrainForm()
        self.form.changed.connect(self._update_controls)
        self.panel = ProgressPanel()
        self.process.logLine.connect(self.panel.append_log)
        self.panel.use_button.clicked.connect(self._use_new_model)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.form)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setToolTip("Stop after saving a checkpoint; Resume continues from it")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped run from its last checkpoint")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(self.resume)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(1020, 720)
        self._offer_corrections()
        self._update_controls()

    def _offer_corrections(self) -> None:
        """The user's own corrected photos as a source (when there are any), and the recipe
        that fine-tunes the model in use."""
        self.form.add_personal_folder()
        folder = self._current_model_dir
        if folder is None:
            return
        try:
            card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        self.form.offer_fine_tune(folder, card)

    # --- public API for the main window and tests --------------------------------------------

    def is_running(self) -> bool:
        return self.process.is_running()

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        """Stop a running trainer and wait for its checkpoint, and a data check still reading
        (blocks, each within a limit; for app quit). True if both stopped in time."""
        checks_stopped = self.form.wait_for_checks(min(timeout_ms, CHECK_WAIT_MS))
        self.own_score.stop()
        return self.process.stop_and_wait(timeout_ms) and checks_stopped

    def confirm_quit(self) -> bool:
        """For the main window's closeEvent: True when quitting may go on (nothing running, or
        the user agreed and the trainer has stopped)."""
        if self.is_running() and not self._confirm_stop():
            return False
        self.stop_and_wait()
        return True

    def request(self) -> TrainingRequest:
        """The run the current settings describe."""
        return self.form.request(self._extra_args)

    def set_data_folder(self, folder: str | Path) -> None:
        """Train on this one folder; its check runs in the background (``changed`` follows)."""
        self.form.set_data_folder(folder)

    def set_output(self, folder: str | Path) -> None:
        self.form.set_output(folder)

    def apply_recipe(self, recipe: TrainingRecipe) -> None:
        self.form.apply_recipe(recipe)

    # --- actions -----------------------------------------------------------------------------

    def start(self) -> None:
        self._launch(resume=False)

    def resume(self) -> None:
        self._launch(resume=True)

    def cancel(self) -> None:
        if self.is_running():
            self.process.stop()
            self.panel.set_status("Stopping: the trainer is saving a checkpoint...")
            self._update_controls()

    def _launch(self, *, resume: bool) -> None:
        if self.is_running():
            return
        request = self.request()
        problem = self._start_problem(request, resume=resume)
        if problem:
            self.panel.set_status(problem, error=True)
            return
        try:
            model_registry.check_output_location(request.output)
        except PetsegError as err:
            self.panel.set_status(str(err), error=True)
            return
        overwrite = not resume and request.can_resume()
        if overwrite and not self._confirm_discard(request):
            return
        history = self.process.progress.history
        if not resume:
            history.clear()  # a fresh run draws a fresh chart; a resumed one continues its curves
        elif not history:  # resuming a run from an earlier session
            self.process.progress.history = read_history_csv(history_path(request.partial_dir))
        self._request = request
        self._new_model = None
        self.panel.reset(self.process.progress, request.total_epochs)
        self.panel.set_status("Resuming from the last checkpoint..." if resume else "Starting...")
        self.process.start(request.argv(resume=resume, overwrite=overwrite, program=self._program))
        self._update_controls()

    def _start_problem(self, request: TrainingRequest, *, resume: bool) -> str | None:
        if not self.form.output_edit.text().strip():
            return "Choose where to save the new model."
        problem = self.form.data_problem()
        if problem:
            return problem
        if resume and not request.can_resume():
            return f"{request.partial_dir}: no checkpoint to resume from; press Start instead."
        return None

    def _use_new_model(self) -> None:
        if self._new_model is not None:
            self.useModelRequested.emit(str(self._new_model))
            self.accept()

    # --- progress ----------------------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        progress = self.process.progress
        kind = event["event"]
        if kind == "start":
            resumed = (
                f", resuming after epoch {progress.initial_epoch}" if progress.initial_epoch else ""
            )
            self.panel.set_status(
                f"Training on {progress.train_images} images "
                f"({progress.validation_images} for validation){resumed}."
            )
        elif kind == "epoch_end":
            self.panel.chart.set_history(progress.history, progress.epochs)
        elif kind == "error":
            self.panel.set_status(progress.error or "", error=True)
        elif kind == "stopped" and progress.stopped_reason == "target_accuracy":
            self.panel.set_status("Target accuracy reached; finishing the model...")
        self.panel.show_progress(progress)

    def _on_finished(self, outcome: Outcome) -> None:
        request = self._request
        self.panel.show_progress(self.process.progress)
        self.panel.time_label.setText(" ")
        if outcome.kind == "done":
            self._new_model = outcome.output
            message = f"{outcome.message} The new model is in {outcome.output}."
            self.panel.set_status(message, ok=True)
            self._show_results(outcome)
            self.form.suggest_output()  # the next Start must not aim at the model just written
        elif outcome.kind == "stopped":
            if request is not None and request.can_resume():
                self.panel.set_status(f"{outcome.message} Press Resume to continue.")
            else:  # stopped while TensorFlow was still starting: nothing to resume
                self.panel.set_status("Training stopped before its first checkpoint.")
        else:
            message = outcome.message
            if outcome.kind == "error" and request and not request.folders:
                # Typically no network for the download: point at the alternative at once.
                message += " You can train on a folder on this computer instead."
                self.form.sources.add_folder_button.setFocus()
            elif outcome.kind == "crashed":
                tail = list(self.process.stderr_tail)[-6:]
                if tail:
                    message += "\nLast messages:\n" + "\n".join(tail)
            self.panel.set_status(message, error=True)
        self._update_controls()
        if self._close_when_stopped:
            self._close_when_stopped = False
            self.done(QDialog.DialogCode.Rejected)

    def _show_results(self, outcome: Outcome) -> None:
        path = outcome.output
        try:
            new_card = model_registry.read_card(path) if path else {}
        except PetsegError as err:
            self.panel.set_status(str(err), error=True)
            return
        current_card, current_name = self._current_card()
        new_metrics = validation_metrics(new_card) or outcome.metrics.get("validation", {})
        card_metrics = new_card.get("metrics") if isinstance(new_card.get("metrics"), dict) else {}
        self.panel.show_results(
            ("New model", f"Current: {current_name}"),
            comparison_rows(new_metrics, validation_metrics(current_card)),
            source_rows(card_metrics) or source_rows(outcome.metrics),
        )
        self._score_own_photos(path)

    def _score_own_photos(self, new_model: Path | None) -> None:
        """When the run trained on the personal folder, score both models on it."""
        from petseg_gui.edits import count_training_pairs, default_training_folder

        folder, request = default_training_folder(), self._request
        if new_model is None or self._current_model_dir is None or request is None:
            return
        if str(folder) not in {spec.location for spec in request.sources}:
            return
        self._own_count = count_training_pairs(folder)
        self.panel.metrics_note.setText("Scoring both models on your corrected photos...")
        self.own_score.start(folder, new_model, self._current_model_dir)

    def _show_own_score(self, new: dict, current: dict) -> None:
        _card, name = self._current_card()
        line = own_photos_line(self._own_count, new, current, name)
        self.panel.metrics_note.setText(
            f"{line} (the new model trained on most of them).\n"
            "Each model measured on its own held-out photos above."
        )

    def _current_card(self) -> tuple[dict, str]:
        folder = self._current_model_dir
        if folder is None:
            bundled = next((e for e in model_registry.list_models() if e.bundled), None)
            return (bundled.card, bundled.name) if bundled else ({}, "none")
        try:
            card = model_registry.read_card(folder)
        except PetsegError:
            return {}, folder.name
        return card, str(card.get("name") or folder.name)

    # --- state -------------------------------------------------------------------------------

    def _update_controls(self) -> None:
        running = self.is_running()
        self.form.setEnabled(not running)
        request = self.request() if self.form.output_edit.text().strip() else None
        resumable = bool(request and request.can_resume())
        data_ready = self.form.data_problem() is None
        self.start_button.setEnabled(not running and data_ready and request is not None)
        self.resume_button.setEnabled(not running and resumable)
        self.cancel_button.setEnabled(running and not self.process.stop_requested)
        self.close_button.setEnabled(not self._close_when_stopped)

    # --- closing -----------------------------------------------------------------------------

    def _confirm_stop(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Training is running",
            "Stop training? The last checkpoint is kept, and Resume continues from it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_discard(self, request: TrainingRequest) -> bool:
        answer = QMessageBox.question(
            self,
            "Start over?",
            f"A stopped run is waiting in {request.partial_dir}.\n"
            "Start over and discard its checkpoints? (Resume continues it instead.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _stop_then_close(self) -> bool:
        """Returns True when the dialog may close now; otherwise closes itself once stopped."""
        if not self.is_running():
            return True
        if self._close_when_stopped or not self._confirm_stop():
            return False
        self._close_when_stopped = True
        self.cancel()
        return False

    def reject(self) -> None:
        # Escape, the Close button and the title bar's close (QDialog.closeEvent calls reject
        # and keeps the window when it is still visible) all end up here.
        if self._stop_then_close():
            super().reject()
