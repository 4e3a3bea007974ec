"""Small dialogs: errors, the unsaved-edits question, the model card, file choosers."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)


def show_error(parent: QWidget | None, text: str, title: str = "petseg") -> QMessageBox:
    """A window-modal warning that does not block the caller (work in flight keeps flowing)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask_unsaved(parent: QWidget | None, name: str) -> QMessageBox.StandardButton:
    """Save / Discard / Cancel for a photo with unsaved edits."""
    buttons = (
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    return QMessageBox.question(
        parent,
        "Unsaved edits",
        f"Save the edited version of {name} before closing?",
        buttons,
        QMessageBox.StandardButton.Save,
    )


def ask_jpeg_quality(parent: QWidget | None, current: int) -> int | None:
    value, ok = QInputDialog.getInt(
        parent, "JPEG quality", "Quality for saved JPEG files (1-100):", current, 1, 100, 1
    )
    return value if ok else None


def open_photo_path(parent: QWidget | None, folder: str, extensions: tuple[str, ...]) -> str:
    patterns = " ".join(f"*{e}" for e in extensions)
    upper = " ".join(f"*{e.upper()}" for e in extensions)
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open photo", folder, f"Photos ({patterns} {upper});;All files (*)"
    )
    return path


def save_path(parent: QWidget | None, title: str, proposal: Path, extensions: tuple[str, ...]):
    """A save dialog that starts at ``proposal``; the format follows the chosen extension."""
    patterns = " ".join(f"*{e}" for e in extensions)
    path, _ = QFileDialog.getSaveFileName(
        parent, title, str(proposal), f"Images ({patterns});;All files (*)"
    )
    return path


def model_folder_path(parent: QWidget | None, folder: str) -> str:
    return QFileDialog.getExistingDirectory(parent, "Load model folder (holds model.json)", folder)


def card_html(card: dict[str, Any], path: Path | None) -> str:
    """The model card as readable HTML: plain keys first, then one table per section."""
    esc = html.escape
    parts = [f"<h2>{esc(str(card.get('name') or 'Model'))}</h2>"]
    if card.get("description"):
        parts.append(f"<p>{esc(str(card['description']))}</p>")
    if path is not None:
        parts.append(f"<p><b>Folder:</b> {esc(str(path))}</p>")
    plain = {k: v for k, v in card.items() if not isinstance(v, dict) and k != "description"}
    parts.append(_table(plain))
    for key, value in card.items():
        if isinstance(value, dict) and value:
            parts.append(f"<h3>{esc(key.replace('_', ' ').capitalize())}</h3>")
            parts.append(_table(value))
    return "\n".join(parts)


def _table(values: dict[str, Any]) -> str:
    rows = []
    for key, value in values.items():
        if isinstance(value, dict):
            shown = _table(value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            shown = "".join(_table(v) for v in value)  # e.g. the training sources, one each
        else:
            shown = html.escape(_format(value))
        rows.append(
            f"<tr><td valign='top'><b>{html.escape(str(key))}</b></td><td>{shown}</td></tr>"
        )
    return "<table cellspacing='2' cellpadding='3'>" + "".join(rows) + "</table>"


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, list):
        return ", ".join(_format(v) for v in value)
    return str(value)


def show_model_card(parent: QWidget | None, card: dict[str, Any], path: Path | None) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName("modelInfoDialog")
    dialog.setWindowTitle("Model info")
    dialog.resize(560, 520)
    browser = QTextBrowser()
    browser.setHtml(card_html(card, path))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.open()
    return dialog
