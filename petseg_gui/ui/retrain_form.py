"""The Retrain dialog's settings: a form that maps to and from a ``TrainingRequest``.

The data folders are checked off the UI thread (a large folder means thousands of header reads);
a newer edit of the sources makes an older check stale. ``wait_for_checks`` bounds how long a
quitting app waits for a check still reading.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from petseg_gui import model_registry
from petseg_gui.contract.data_sources import SourceSpec
from petseg_gui.training_data_check import DataCheck, check_data_folder
from petseg_gui.training_recipes import RECIPES, TrainingRecipe, fine_tune_recipe
from petseg_gui.training_request import TrainingRequest
from petseg_gui.ui.retrain_sources import SourcesTable
from petseg_gui.ui.workers import JobResult, LatestRunner

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
ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b7f3b;"


class RetrainForm(QWidget):
    """Sources, training settings and the output folder. ``changed`` fires on any edit and when
    a data check finishes; ``request()`` is the run the fields describe."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._output_edited = False  # once the user types an output, stop suggesting one
        self._checks: dict[str, DataCheck] = {}  # by folder, for the folders listed now
        self._recipes = list(RECIPES)  # + "Fine-tune the current model" (offer_fine_tune)
        self._init_model: Path | None = None  # the chosen recipe's starting model, if any
        # Its own pool: quitting waits for these header reads only, not for the editor's work.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._checker = LatestRunner("data check", self._pool, self)
        self._checker.succeeded.connect(self._on_checked)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 6, 0)
        column.addWidget(self._build_data())
        column.addWidget(self._build_training())
        column.addWidget(self._build_output())
        column.addStretch(1)
        self.apply_recipe(RECIPES[0])  # a new form starts from the recommended recipe
        self.suggest_output()

    # --- building ----------------------------------------------------------------------------

    def _build_data(self) -> QWidget:
        box = QGroupBox("Training data")
        layout = QVBoxLayout(box)
        self.sources = SourcesTable()
        self.sources.changed.connect(self._on_sources_changed)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.check_label.setTextFormat(Qt.TextFormat.PlainText)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label.hide()
        layout.addWidget(self.sources)
        layout.addWidget(self.check_label)
        return box

    def _build_training(self) -> QWidget:
        box = QGroupBox("Training")
        form = QFormLayout(box)
        self.recipe_combo = QComboBox()
        for recipe in RECIPES:
            self.recipe_combo.addItem(recipe.label, recipe.key)
        self.recipe_combo.setToolTip(
            "Fills in the settings below; you can change any of them after"
        )
        self.recipe_note = QLabel()
        self.recipe_note.setWordWrap(True)
        self.recipe_note.setEnabled(False)  # greyed: a note, not a control
        self.size_combo = _combo((s, f"{s} x {s} px") for s in IMAGE_SIZES)
        self.size_combo.setToolTip("Larger is more accurate at edges and slower to train")
        self.size_combo.currentIndexChanged.connect(self.suggest_output)
        self.decoder_combo = _combo(DECODERS)
        self.decoder_combo.setToolTip("Filters of the four decoder stages; fewer = smaller, faster")
        self.augment_combo = _combo(AUGMENTATIONS)
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
        rates = ((r, f"{r:.0e}".replace("e-0", "e-")) for r in FINE_TUNE_LEARNING_RATES)
        self.fine_tune_rate_combo = _combo(rates)
        self.fine_tune_rate_combo.setToolTip("Adam's learning rate while the encoder is fine-tuned")
        self.target_check = QCheckBox("Stop at validation accuracy")
        self.target_spin = QDoubleSpinBox(minimum=50.0, maximum=99.9, value=90.0, suffix=" %")
        self.target_spin.setDecimals(1)
        self.fine_tune_check.toggled.connect(self._update_enabled)
        self.target_check.toggled.connect(self._update_enabled)
        form.addRow("Recipe:", self.recipe_combo)
        form.addRow("", self.recipe_note)
        form.addRow("Image size:", self.size_combo)
        form.addRow("Decoder:", self.decoder_combo)
        form.addRow("Augmentation:", self.augment_combo)
        form.addRow("Edge weight:", self.boundary_spin)
        form.addRow("Train for:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow(_row(self.fine_tune_check, self.fine_tune_spin))
        form.addRow("Fine-tune rate:", self.fine_tune_rate_combo)
        form.addRow(_row(self.target_check, self.target_spin))
        self.recipe_combo.currentIndexChanged.connect(
            lambda index: self.apply_recipe(self._recipes[index])
        )
        return box

    def _build_output(self) -> QWidget:
        box = QGroupBox("Save the new model in")
        out = QVBoxLayout(box)
        self.output_edit = QLineEdit()
        self.output_edit.textEdited.connect(self._on_output_edited)
        self.output_edit.textChanged.connect(self.changed)
        browse = QToolButton(text="Browse...")
        browse.clicked.connect(self._browse_output)
        out.addLayout(_row(self.output_edit, browse, stretch=0))
        note = QLabel(
            "One new folder per model. Models in your models folder appear in the Model menu."
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        out.addWidget(note)
        return box

    # --- the request -------------------------------------------------------------------------

    def request(self, extra_args: tuple[str, ...] = ()) -> TrainingRequest:
        """The run the current fields describe."""
        fine_tune = self.fine_tune_check.isChecked()
        target = self.target_spin.value() / 100 if self.target_check.isChecked() else None
        return TrainingRequest(
            sources=tuple(self.sources.sources()),
            output=Path(self.output_edit.text().strip()).expanduser(),
            image_size=int(self.size_combo.currentData()),
            epochs=self.epochs_spin.value(),
            batch_size=self.batch_spin.value(),
            fine_tune_epochs=self.fine_tune_spin.value() if fine_tune else 0,
            target_accuracy=target,
            fine_tune_learning_rate=float(self.fine_tune_rate_combo.currentData()),
            augment=str(self.augment_combo.currentData()),
            decoder_filters=tuple(self.decoder_combo.currentData()),
            boundary_weight=self.boundary_spin.value(),
            init_model=self._init_model,
            extra_args=extra_args,
        )

    def set_request(self, request: TrainingRequest) -> None:
        """Show ``request`` in the fields (the inverse of ``request()``)."""
        self.sources.set_sources(list(request.sources))
        self._init_model = request.init_model
        self._set_knobs(request)
        self.fine_tune_check.setChecked(request.fine_tune_epochs > 0)
        self.target_check.setChecked(request.target_accuracy is not None)
        if request.target_accuracy is not None:
            self.target_spin.setValue(request.target_accuracy * 100)
        self.set_output(request.output)

    def apply_recipe(self, recipe: TrainingRecipe) -> None:
        """Fill the training fields with ``recipe``'s values. The fields stay the truth: editing
        one afterwards keeps the recipe shown, since it only says where the values came from."""
        self.recipe_combo.setCurrentIndex(self._recipes.index(recipe))  # no-op if from there
        self.recipe_note.setText(recipe.summary)
        self._init_model = recipe.init_model
        self._set_knobs(recipe)
        self.fine_tune_check.setChecked(recipe.fine_tune_epochs > 0)

    def _set_knobs(self, values: TrainingRecipe | TrainingRequest) -> None:
        _select_data(self.size_combo, values.image_size)
        _select_data(self.decoder_combo, values.decoder_filters)
        _select_data(self.augment_combo, values.augment)
        self.boundary_spin.setValue(values.boundary_weight)
        _select_data(self.fine_tune_rate_combo, values.fine_tune_learning_rate)
        self.epochs_spin.setValue(values.epochs)
        self.batch_spin.setValue(values.batch_size)
        if values.fine_tune_epochs > 0:  # else keep the count the user may check the box for
            self.fine_tune_spin.setValue(values.fine_tune_epochs)
        self._update_enabled()

    def offer_fine_tune(self, model_dir: str | Path, card: dict) -> TrainingRecipe | None:
        """Add "Fine-tune the current model" (``model_dir``, its ``card``) to the recipes."""
        recipe = fine_tune_recipe(model_dir, card)
        if recipe is None:
            return None
        _ensure_item(
            self.size_combo, recipe.image_size, f"{recipe.image_size} x {recipe.image_size} px"
        )
        _ensure_item(
            self.decoder_combo, recipe.decoder_filters, ",".join(map(str, recipe.decoder_filters))
        )
        self._recipes.append(recipe)
        self.recipe_combo.addItem(recipe.label, recipe.key)
        return recipe

    def add_personal_folder(self) -> bool:
        """Add the user's own training folder (Model > Add this photo to my training set) as
        a source when it holds pairs; True when added."""
        from petseg_gui.edits import count_training_pairs, default_training_folder

        folder = default_training_folder()
        if count_training_pairs(folder) == 0:
            return False
        self.sources.add(SourceSpec(str(folder)))
        return True

    # --- data checks -------------------------------------------------------------------------

    def set_data_folder(self, folder: str | Path) -> None:
        """Train on this one folder (replacing the sources); its check starts at once."""
        self.sources.set_sources([SourceSpec(str(folder))])

    def data_problem(self) -> str | None:
        """Why the sources cannot be trained on yet, or None when every folder checked fine."""
        request = self.request()
        if not request.sources:
            return "Add a data folder, or the Oxford-IIIT Pet data set."
        for folder in request.folders:
            check = self._checks.get(str(folder))
            if check is None:
                return f"{folder}: still being checked; wait a moment."
            if not check.ok:
                return f"{check.folder}: the data folder has problems (listed above); fix them."
        return None

    def checking(self) -> bool:
        return self._checker.busy

    def wait_for_checks(self, timeout_ms: int) -> bool:
        """Make running checks stale and wait at most ``timeout_ms`` for them to stop."""
        self._checker.cancel()
        return self._pool.waitForDone(timeout_ms)

    def _on_sources_changed(self) -> None:
        folders = [str(f) for f in self.request().folders]
        self._checks = {f: c for f, c in self._checks.items() if f in folders}
        missing = [f for f in folders if f not in self._checks]
        if missing:

            def job(cancelled) -> dict[str, DataCheck]:
                return {f: check_data_folder(f, cancelled=cancelled) for f in missing}

            self._checker.submit(job)
        else:
            self._checker.cancel()
        self._show_checks()
        self.suggest_output()
        self.changed.emit()

    def _on_checked(self, result: JobResult) -> None:
        self._checks.update(result.value)
        self._show_checks()
        self.changed.emit()

    def _show_checks(self) -> None:
        lines: list[str] = []
        ok = True
        for folder in self.request().folders:
            check = self._checks.get(str(folder))
            if check is None:
                lines.append(f"{folder.name}: checking...")
                continue
            ok = ok and check.ok
            lines.append(f"{folder.name}: {check.summary()}")
            lines += [f"  - {p}" for p in check.problems]
            if check.more_problems:
                lines.append(f"  ... and {check.more_problems} more")
        self.check_label.setText("\n".join(lines))
        self.check_label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.check_label.setVisible(bool(lines))

    # --- output ------------------------------------------------------------------------------

    def set_output(self, folder: str | Path) -> None:
        self._output_edited = True
        self.output_edit.setText(str(folder))

    def suggest_output(self) -> None:
        """Propose a new folder in the user's models folder until the user picks one."""
        if self._output_edited:
            return
        label = self.request().label
        size = int(self.size_combo.currentData())
        self.output_edit.setText(str(model_registry.suggest_model_dir(label, size)))

    def _on_output_edited(self) -> None:
        self._output_edited = True

    def _browse_output(self) -> None:
        start = str(Path(self.output_edit.text()).parent) if self.output_edit.text() else ""
        folder = QFileDialog.getExistingDirectory(self, "Put the new model folder in", start)
        if folder:
            name = Path(self.output_edit.text()).name or "model"
            self.set_output(Path(folder) / name)

    def _update_enabled(self) -> None:
        self.fine_tune_spin.setEnabled(self.fine_tune_check.isChecked())
        self.fine_tune_rate_combo.setEnabled(self.fine_tune_check.isChecked())
        self.target_spin.setEnabled(self.target_check.isChecked())


def _combo(items) -> QComboBox:
    combo = QComboBox()
    for data, label in items:
        combo.addItem(label, data)
    return combo


def _row(*widgets: QWidget, stretch: int = 1) -> QHBoxLayout:
    """The widgets side by side; the one at index ``stretch`` takes the spare width."""
    row = QHBoxLayout()
    for index, widget in enumerate(widgets):
        row.addWidget(widget, 1 if index == stretch else 0)
    return row


def _ensure_item(combo: QComboBox, value: object, label: str) -> None:
    """Add ``value`` to ``combo``'s choices unless it is one (a current model's own size)."""
    if not any(combo.itemData(index) == value for index in range(combo.count())):
        combo.addItem(label, value)


def _select_data(combo: QComboBox, value: object) -> None:
    """Select the item whose data equals ``value`` (compared in Python: findData cannot match
    tuples). Every recipe value is one of the items, which tests/test_retrain_dialog.py checks."""
    for index in range(combo.count()):
        if combo.itemData(index) == value:
            combo.setCurrentIndex(index)
            return
    raise ValueError(f"{value!r} is not one of the combo box's choices")
