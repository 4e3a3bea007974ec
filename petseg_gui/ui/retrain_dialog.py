"""Model > Retrain...: train a new segmentation model from the app and switch to it.

The trainer runs as a child process (``python -m model_training train ... --progress jsonl``,
see docs/INTERFACES.md section 2), so the window stays responsive and a crash of TensorFlow
cannot take the editor down. This dialog gathers the settings, checks the data folder and the
output location before anything starts, shows progress (bars, remaining time, live chart, log),
stops and resumes runs, and finally compares the new model's metrics with the current one's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from petseg_gui import model_registry
from petseg_gui.contract.workdir import history_path
from petseg_gui.errors import PetsegError
from petseg_gui.training_data_check import DataCheck, check_data_folder
from petseg_gui.training_progress import (
    OXFORD_PETS,
    Outcome,
    TrainingRequest,
    format_duration,
    read_history_csv,
)
from petseg_gui.training_recipes import RECIPES, TrainingRecipe
from petseg_gui.ui.retrain_chart import TrainingChart
from petseg_gui.ui.retrain_process import TrainingProcess

IMAGE_SIZES = (128, 224, 288)  # the paper's two and the bundled model's; any multiple of 32 works
# Decoder filters with the size of model.keras they give (docs/TRAINING.md).
DECODERS = (
    ((128, 64, 32, 16), "Small: 128, 64, 32, 16 (11.5 MB file)"),
    ((192, 96, 48, 32), "Slim: 192, 96, 48, 32 (13.6 MB file)"),
    ((256, 128, 64, 32), "Medium: 256, 128, 64, 32 (15.8 MB file)"),
    ((512, 256, 128, 64), "Paper: 512, 256, 128, 64 (26.6 MB file)"),
)
AUGMENTATIONS = (
    ("full", "Crops, flips and colour changes"),
    ("flip", "Flips only (the paper)"),
    ("none", "None"),
)
FINE_TUNE_LEARNING_RATES = (1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
# (label, card key under metrics.validation, format)
METRIC_ROWS = (
    ("Pixel accuracy", "pixel_accuracy"),
    ("Foreground IoU", "foreground_iou"),
    ("Foreground IoU, mean per image", "foreground_iou_per_image_mean"),
    ("Mean IoU (3 classes)", "mean_iou"),
)
ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b7f3b;"
CHECK_DELAY_MS = 400  # wait for typing to pause before checking a typed folder


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
        self._data_check: DataCheck | None = None
        self._output_edited = False  # once the user types an output, stop suggesting one
        self._close_when_stopped = False
        self._new_model: Path | None = None

        self.process = TrainingProcess(self)
        self.process.event.connect(self._on_event)
        self.process.logLine.connect(self._append_log)
        self.process.finished.connect(self._on_finished)

        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._check_folder)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._build_settings())
        splitter.addWidget(self._build_progress())
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
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(1020, 720)

        self.apply_recipe(RECIPES[0])  # a new dialog starts from the recommended recipe
        self._suggest_output()
        self._update_controls()

    # --- building ----------------------------------------------------------------------------

    def _build_settings(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 6, 0)

        data_box = QGroupBox("Training data")
        data = QVBoxLayout(data_box)
        self.oxford_radio = QRadioButton("Oxford-IIIT Pet (pets; via tensorflow-datasets)")
        oxford_note = QLabel("Downloads about 800 MB on first use and needs a network connection.")
        oxford_note.setWordWrap(True)
        oxford_note.setIndent(22)
        oxford_note.setEnabled(False)  # greyed: a note, not a control
        self.folder_radio = QRadioButton("A folder on this computer")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("folder with images/ + masks/ (or Oxford layout)")
        self.folder_edit.setClearButtonEnabled(True)
        browse_data = QToolButton(text="Browse...")
        browse_data.clicked.connect(self._browse_data)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(22, 0, 0, 0)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse_data)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextFormat(Qt.TextFormat.PlainText)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label.setContentsMargins(22, 0, 0, 0)
        self._source_group = QButtonGroup(self)
        self._source_group.addButton(self.oxford_radio)
        self._source_group.addButton(self.folder_radio)
        self.folder_radio.setChecked(True)
        data.addWidget(self.folder_radio)
        data.addLayout(folder_row)
        data.addWidget(self.check_label)
        data.addWidget(self.oxford_radio)
        data.addWidget(oxford_note)
        self.oxford_radio.toggled.connect(self._on_source_changed)
        self.folder_edit.textChanged.connect(self._on_folder_typed)
        self._browse_data_button = browse_data

        train_box = QGroupBox("Training")
        form = QFormLayout(train_box)
        self.recipe_combo = QComboBox()
        for recipe in RECIPES:
            self.recipe_combo.addItem(recipe.label, recipe.key)
        self.recipe_combo.setToolTip(
            "Fills in the settings below; you can change any of them after"
        )
        self.recipe_note = QLabel()
        self.recipe_note.setWordWrap(True)
        self.recipe_note.setEnabled(False)  # greyed: a note, not a control
        self.size_combo = QComboBox()
        for size in IMAGE_SIZES:
            self.size_combo.addItem(f"{size} x {size} px", size)
        self.size_combo.setToolTip("Larger is more accurate at edges and slower to train")
        self.size_combo.currentIndexChanged.connect(self._suggest_output)
        self.decoder_combo = QComboBox()
        for filters, label in DECODERS:
            self.decoder_combo.addItem(label, filters)
        self.decoder_combo.setToolTip("Filters of the four decoder stages; fewer = smaller, faster")
        self.augment_combo = QComboBox()
        for mode, label in AUGMENTATIONS:
            self.augment_combo.addItem(label, mode)
        self.augment_combo.setToolTip(
            "Random changes to the training photos; more helps most on a small data set"
        )
        self.boundary_spin = QDoubleSpinBox(minimum=1.0, maximum=10.0, value=1.0, suffix=" x")
        self.boundary_spin.setDecimals(1)
        self.boundary_spin.setToolTip(
            "Loss weight of the thin boundary class around the subject; 3 sharpened the "
            "bundled model's edges (docs/MODEL.md), 1 is the paper"
        )
        self.epochs_spin = QSpinBox(minimum=1, maximum=500, value=20, suffix=" epochs")
        self.batch_spin = QSpinBox(minimum=1, maximum=512, value=64, suffix=" images")
        self.batch_spin.setToolTip("Lower it if training runs out of memory")
        self.fine_tune_check = QCheckBox("Fine-tune the encoder for")
        self.fine_tune_check.setToolTip(
            "After the decoder is trained, unfreeze MobileNetV2 and train both at a low rate"
        )
        self.fine_tune_spin = QSpinBox(minimum=1, maximum=200, value=5, suffix=" more epochs")
        fine_row = QHBoxLayout()
        fine_row.addWidget(self.fine_tune_check)
        fine_row.addWidget(self.fine_tune_spin, 1)
        self.fine_tune_rate_combo = QComboBox()
        for rate in FINE_TUNE_LEARNING_RATES:
            self.fine_tune_rate_combo.addItem(f"{rate:.0e}".replace("e-0", "e-"), rate)
        self.fine_tune_rate_combo.setToolTip("Adam's learning rate while the encoder is fine-tuned")
        self.target_check = QCheckBox("Stop at validation accuracy")
        self.target_spin = QDoubleSpinBox(minimum=50.0, maximum=99.9, value=90.0, suffix=" %")
        self.target_spin.setDecimals(1)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_check)
        target_row.addWidget(self.target_spin, 1)
        self.fine_tune_check.toggled.connect(self._update_controls)
        self.target_check.toggled.connect(self._update_controls)
        form.addRow("Recipe:", self.recipe_combo)
        form.addRow("", self.recipe_note)
        form.addRow("Image size:", self.size_combo)
        form.addRow("Decoder:", self.decoder_combo)
        form.addRow("Augmentation:", self.augment_combo)
        form.addRow("Edge weight:", self.boundary_spin)
        form.addRow("Train for:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow(fine_row)
        form.addRow("Fine-tune rate:", self.fine_tune_rate_combo)
        form.addRow(target_row)
        self.recipe_combo.currentIndexChanged.connect(
            lambda index: self.apply_recipe(RECIPES[index])
        )

        output_box = QGroupBox("Save the new model in")
        out = QVBoxLayout(output_box)
        self.output_edit = QLineEdit()
        self.output_edit.textEdited.connect(self._on_output_edited)
        self.output_edit.textChanged.connect(self._update_controls)
        browse_out = QToolButton(text="Browse...")
        browse_out.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_edit, 1)
        out_row.addWidget(browse_out)
        out.addLayout(out_row)
        note = QLabel(
            "One new folder per model. Models in your models folder appear in the Model menu."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        out.addWidget(note)
        self._browse_output_button = browse_out

        column.addWidget(data_box)
        column.addWidget(train_box)
        column.addWidget(output_box)
        column.addStretch(1)
        self._settings_widgets = [data_box, train_box, output_box]
        return panel

    def _build_progress(self) -> QWidget:
        panel = QWidget()
        column = QVBoxLayout(panel)
        column.setContentsMargins(6, 0, 0, 0)
        self.status_label = QLabel("Choose the data and press Start.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_bar = QProgressBar(minimum=0, maximum=1000, value=0)
        self.run_bar.setFormat("Overall: %p%")
        self.epoch_bar = QProgressBar(minimum=0, maximum=1, value=0)
        self.epoch_bar.setFormat("Epoch")
        self.time_label = QLabel(" ")
        self.chart = TrainingChart()
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setPlaceholderText("The trainer's messages appear here.")
        self.log_view.setMinimumHeight(60)

        self.results_box = QGroupBox("Result")
        results = QVBoxLayout(self.results_box)
        self.metrics_table = QTableWidget(len(METRIC_ROWS), 2)
        self.metrics_table.setVerticalHeaderLabels([label for label, _ in METRIC_ROWS])
        self.metrics_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.metrics_table.setSizeAdjustPolicy(
            QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents
        )
        self.metrics_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.metrics_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.metrics_note = QLabel()
        self.metrics_note.setWordWrap(True)
        self.metrics_note.setEnabled(False)
        self.use_button = QPushButton("Use this model")
        self.use_button.clicked.connect(self._use_new_model)
        use_row = QHBoxLayout()
        use_row.addWidget(self.metrics_note, 1)
        use_row.addWidget(self.use_button)
        results.addWidget(self.metrics_table)
        results.addLayout(use_row)
        self.results_box.hide()

        column.addWidget(self.status_label)
        column.addWidget(self.run_bar)
        column.addWidget(self.epoch_bar)
        column.addWidget(self.time_label)
        column.addWidget(self.chart, 3)
        column.addWidget(self.results_box)
        column.addWidget(self.log_view, 1)
        return panel

    # --- public API for the main window ------------------------------------------------------

    def is_running(self) -> bool:
        return self.process.is_running()

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        """Stop a running trainer and wait for its checkpoint (blocks; for app quit). Returns
        True if it stopped cleanly or nothing ran; False if it had to be killed."""
        return self.process.stop_and_wait(timeout_ms)

    def confirm_quit(self) -> bool:
        """For the main window's closeEvent: True when quitting may go on (nothing running, or
        the user agreed and the trainer has stopped)."""
        if not self.is_running():
            return True
        if not self._confirm_stop():
            return False
        self.stop_and_wait()
        return True

    def request(self) -> TrainingRequest:
        """The run the current settings describe."""
        source = OXFORD_PETS if self.oxford_radio.isChecked() else self.folder_edit.text().strip()
        return TrainingRequest(
            data=source,
            output=Path(self.output_edit.text().strip()).expanduser(),
            image_size=int(self.size_combo.currentData()),
            epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(),
            fine_tune_epochs=self.fine_tune_spin.value() if self.fine_tune_check.isChecked() else 0,
            target_accuracy=self.target_spin.value() / 100
            if self.target_check.isChecked()
            else None,
            fine_tune_learning_rate=float(self.fine_tune_rate_combo.currentData()),
            augment=str(self.augment_combo.currentData()),
            decoder_filters=tuple(self.decoder_combo.currentData()),
            boundary_weight=self.boundary_spin.value(),
            extra_args=self._extra_args,
        )

    def apply_recipe(self, recipe: TrainingRecipe) -> None:
        """Fill the training fields with ``recipe``'s values. The fields stay the truth: editing
        one afterwards keeps the recipe shown, since it only says where the values came from."""
        self.recipe_combo.setCurrentIndex(RECIPES.index(recipe))  # no-op when it came from there
        self.recipe_note.setText(recipe.summary)
        _select_data(self.size_combo, recipe.image_size)
        _select_data(self.decoder_combo, recipe.decoder_filters)
        _select_data(self.augment_combo, recipe.augment)
        self.boundary_spin.setValue(recipe.boundary_weight)
        _select_data(self.fine_tune_rate_combo, recipe.fine_tune_learning_rate)
        self.epochs_spin.setValue(recipe.epochs)
        self.batch_spin.setValue(recipe.batch_size)
        self.fine_tune_check.setChecked(recipe.fine_tune_epochs > 0)
        if recipe.fine_tune_epochs > 0:  # else keep the count the user may check the box for
            self.fine_tune_spin.setValue(recipe.fine_tune_epochs)

    # --- actions -----------------------------------------------------------------------------

    def start(self) -> None:
        self._launch(resume=False)

    def resume(self) -> None:
        self._launch(resume=True)

    def cancel(self) -> None:
        if self.is_running():
            self.process.stop()
            self._set_status("Stopping: the trainer is saving a checkpoint...")
            self._update_controls()

    def _launch(self, *, resume: bool) -> None:
        if self.is_running():
            return
        request = self.request()
        problem = self._start_problem(request, resume=resume)
        if problem:
            self._set_status(problem, error=True)
            return
        try:
            model_registry.check_output_location(request.output)
        except PetsegError as err:
            self._set_status(str(err), error=True)
            return
        overwrite = not resume and request.can_resume()
        if overwrite and not self._confirm_discard(request):
            return
        if not resume:
            # A fresh run draws a fresh chart; a resumed one continues the curves it has.
            self.process.progress.history.clear()
        elif not self.process.progress.history:  # resuming a run from an earlier session
            self.process.progress.history = read_history_csv(history_path(request.partial_dir))
        self._request = request
        self._new_model = None
        self.results_box.hide()
        self.run_bar.setValue(0)
        self.epoch_bar.setValue(0)
        self.chart.set_history(self.process.progress.history, request.total_epochs)
        self.time_label.setText(" ")
        self._set_status("Resuming from the last checkpoint..." if resume else "Starting...")
        self.process.start(request.argv(resume=resume, overwrite=overwrite, program=self._program))
        self._update_controls()

    def _start_problem(self, request: TrainingRequest, *, resume: bool) -> str | None:
        if not self.output_edit.text().strip():
            return "Choose where to save the new model."
        if request.data != OXFORD_PETS:
            if not request.data:
                return "Choose a data folder, or the Oxford-IIIT Pet data set."
            check = self._check_folder()
            if not check.ok:
                return f"{check.folder}: the data folder has problems (listed above); fix them."
        if resume and not request.can_resume():
            return f"{request.partial_dir}: no checkpoint to resume from; press Start instead."
        return None

    def _use_new_model(self) -> None:
        if self._new_model is not None:
            self.useModelRequested.emit(str(self._new_model))
            self.accept()

    # --- data and output fields --------------------------------------------------------------

    def _browse_data(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Training data: a folder with images/ + masks/", self.folder_edit.text()
        )
        if folder:
            self.folder_radio.setChecked(True)
            self.folder_edit.setText(folder)
            self._check_folder()

    def _browse_output(self) -> None:
        start = str(Path(self.output_edit.text()).parent) if self.output_edit.text() else ""
        folder = QFileDialog.getExistingDirectory(self, "Put the new model folder in", start)
        if folder:
            self._output_edited = True
            name = Path(self.output_edit.text()).name or "model"
            self.output_edit.setText(str(Path(folder) / name))

    def set_data_folder(self, folder: str | Path) -> None:
        """Choose a local data folder and check it now (also for tests and drag-and-drop)."""
        self.folder_radio.setChecked(True)
        self.folder_edit.setText(str(folder))
        self._check_folder()

    def set_output(self, folder: str | Path) -> None:
        self._output_edited = True
        self.output_edit.setText(str(folder))

    def _on_folder_typed(self) -> None:
        self._data_check = None
        self._check_timer.start()
        self._suggest_output()
        self._update_controls()

    def _on_source_changed(self) -> None:
        self._suggest_output()
        self._show_check()
        self._update_controls()

    def _on_output_edited(self) -> None:
        self._output_edited = True

    def _check_folder(self) -> DataCheck:
        self._check_timer.stop()
        folder = self.folder_edit.text().strip()
        if self._data_check is None or str(self._data_check.folder) != folder:
            self._data_check = check_data_folder(folder) if folder else None
        self._show_check()
        self._update_controls()
        return self._data_check or DataCheck(Path(folder))

    def _show_check(self) -> None:
        check = self._data_check
        if self.oxford_radio.isChecked() or check is None:
            self.check_label.clear()
            self.check_label.hide()
            return
        lines = [check.summary()]
        lines += [f"  - {p}" for p in check.problems]
        if check.more_problems:
            lines.append(f"  ... and {check.more_problems} more")
        self.check_label.setText("\n".join(lines))
        self.check_label.setStyleSheet(OK_STYLE if check.ok else ERROR_STYLE)
        self.check_label.show()

    def _suggest_output(self) -> None:
        if self._output_edited:
            return
        if self.oxford_radio.isChecked():
            label = "pets"
        else:
            label = Path(self.folder_edit.text().strip()).name or "model"
        size = int(self.size_combo.currentData())
        self.output_edit.setText(str(model_registry.suggest_model_dir(label, size)))

    # --- progress ----------------------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        progress = self.process.progress
        kind = event["event"]
        if kind == "start":
            resumed = (
                f", resuming after epoch {progress.initial_epoch}" if progress.initial_epoch else ""
            )
            self._set_status(
                f"Training on {progress.train_images} images "
                f"({progress.validation_images} for validation){resumed}."
            )
        elif kind == "epoch_end":
            self.chart.set_history(progress.history, progress.epochs)
        elif kind == "error":
            self._set_status(progress.error or "", error=True)
        elif kind == "stopped" and progress.stopped_reason == "target_accuracy":
            self._set_status("Target accuracy reached; finishing the model...")
        self._show_progress()

    def _show_progress(self) -> None:
        p = self.process.progress
        self.run_bar.setValue(round(p.fraction * 1000))
        if p.steps:
            self.epoch_bar.setMaximum(p.steps)
            self.epoch_bar.setValue(min(p.step, p.steps))
            phase = " (fine-tuning the encoder)" if p.phase == "fine-tune" else ""
            shown = max(1, p.epoch)
            self.epoch_bar.setFormat(
                f"Epoch {shown} of {p.epochs}{phase}: step {p.step} of {p.steps}"
            )
        left = format_duration(p.eta_seconds())
        self.time_label.setText(f"About {left} left" if left and not p.done else " ")

    def _append_log(self, line: str) -> None:
        self.log_view.appendPlainText(line)

    def _on_finished(self, outcome: Outcome) -> None:
        request = self._request
        self._show_progress()
        self.time_label.setText(" ")
        if outcome.kind == "done":
            self._new_model = outcome.output
            self._set_status(f"{outcome.message} The new model is in {outcome.output}.", ok=True)
            self._show_results(outcome)
            self._suggest_output()  # the next Start must not aim at the model just written
        elif outcome.kind == "stopped":
            if request is not None and request.can_resume():
                self._set_status(f"{outcome.message} Press Resume to continue.")
            else:  # stopped while TensorFlow was still starting: nothing to resume
                self._set_status("Training stopped before its first checkpoint.")
        else:
            message = outcome.message
            if outcome.kind == "error" and request and request.data == OXFORD_PETS:
                # Typically no network for the download: point at the alternative at once.
                message += " You can train on a folder on this computer instead."
                self.folder_radio.setChecked(True)
                self.folder_edit.setFocus()
            elif outcome.kind == "crashed":
                tail = list(self.process.stderr_tail)[-6:]
                if tail:
                    message += "\nLast messages:\n" + "\n".join(tail)
            self._set_status(message, error=True)
        self._update_controls()
        if self._close_when_stopped:
            self._close_when_stopped = False
            self.done(QDialog.DialogCode.Rejected)

    def _show_results(self, outcome: Outcome) -> None:
        path = outcome.output
        try:
            new_card = model_registry.read_card(path) if path else {}
        except PetsegError as err:
            self._set_status(str(err), error=True)
            return
        current_card, current_name = self._current_card()
        self.metrics_table.setHorizontalHeaderLabels(["New model", f"Current: {current_name}"])
        new_metrics = _validation_metrics(new_card) or outcome.metrics.get("validation", {})
        current_metrics = _validation_metrics(current_card)
        for row, (_label, key) in enumerate(METRIC_ROWS):
            for col, metrics in enumerate((new_metrics, current_metrics)):
                item = QTableWidgetItem(_percent(metrics.get(key)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.metrics_table.setItem(row, col, item)
        self.metrics_note.setText(
            "Each model measured on its own held-out photos; compare on your photos too."
        )
        self.results_box.show()

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

    def _set_status(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")

    def _update_controls(self) -> None:
        running = self.is_running()
        for widget in self._settings_widgets:
            widget.setEnabled(not running)
        self.fine_tune_spin.setEnabled(self.fine_tune_check.isChecked())
        self.fine_tune_rate_combo.setEnabled(self.fine_tune_check.isChecked())
        self.target_spin.setEnabled(self.target_check.isChecked())
        self.folder_edit.setEnabled(self.folder_radio.isChecked())
        self._browse_data_button.setEnabled(self.folder_radio.isChecked())
        request = self.request() if self.output_edit.text().strip() else None
        resumable = bool(request and request.can_resume())
        data_ready = self.oxford_radio.isChecked() or bool(self._data_check and self._data_check.ok)
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


def _select_data(combo: QComboBox, value: object) -> None:
    """Select the item whose data equals ``value`` (compared in Python: findData cannot match
    tuples). Every recipe value is one of the items, which tests/test_retrain_dialog.py checks."""
    for index in range(combo.count()):
        if combo.itemData(index) == value:
            combo.setCurrentIndex(index)
            return
    raise ValueError(f"{value!r} is not one of the combo box's choices")


def _validation_metrics(card: dict) -> dict:
    metrics = card.get("metrics") if isinstance(card, dict) else None
    if not isinstance(metrics, dict):
        return {}
    # Prefer held-out validation numbers; the bundled model may report only a test set.
    for key in ("validation", "test"):
        if isinstance(metrics.get(key), dict):
            return metrics[key]
    return {}


def _percent(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.1%}"
    return "-"
