"""The main window's file commands: Open, Save, Save As, Export, drag and drop.

A mixin of ``MainWindow`` (it uses the window's ``session``, settings and dialogs); kept apart
so the window itself stays about wiring.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from petseg_gui.contract.photos import PHOTO_EXTENSIONS
from petseg_gui.ui import dialogs, settings
from petseg_gui.ui.session_state import Photo


def supported_extensions() -> tuple[str, ...]:
    return PHOTO_EXTENSIONS


class FileCommands:
    """Open / Save / Export for ``MainWindow`` (which provides ``session`` and ``_save_path``)."""

    def open_dialog(self) -> None:
        if not self._may_discard_edits():
            return
        path = dialogs.open_photo_path(
            self, settings.get("files/last_folder"), supported_extensions()
        )
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str | Path, ask: bool = True) -> None:
        """Open ``path``; the current photo stays on screen until the new one is read."""
        if ask and not self._may_discard_edits():
            return
        self.session.open(path)

    def save(self) -> bool:
        """Save to this photo's chosen output (asking for one the first time)."""
        if self.session.photo is None:
            return False
        if self._save_path is None:
            return self.save_as()
        self.save_to(self._save_path)
        return True

    def save_as(self) -> bool:
        photo = self.session.photo
        if photo is None:
            return False
        exts = supported_extensions()
        proposal = self._save_path or self._proposal(photo, "portrait")
        path = dialogs.save_path(self, "Save edited photo", proposal, exts)
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(proposal.suffix)
        if target.resolve() == photo.path.resolve():
            answer = QMessageBox.question(
                self,
                "Replace the original?",
                f"{target.name} is the original photo. Replace it with the edited version?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.save_to(target)
        return True

    def save_to(self, path: str | Path) -> None:
        """Render at full resolution and write ``path`` (no questions; callers ask first)."""
        self._save_path = Path(path)
        settings.set("files/last_folder", str(Path(path).parent))
        self.session.save(path, quality=settings.get("save/jpeg_quality"))

    def export_dialog(self, what: str) -> None:
        photo = self.session.photo
        if photo is None:
            return
        proposal = self._proposal(photo, what, suffix=".png")
        path = dialogs.save_path(self, f"Export {what}", proposal, (".png", ".tif", ".tiff"))
        if path:
            self.session.export(path, what)

    @staticmethod
    def _proposal(photo: Photo, tag: str, suffix: str | None = None) -> Path:
        """``<name>_<tag>.<ext>`` beside the original: Save never proposes the original."""
        ext = suffix or photo.path.suffix.lower()
        if ext not in supported_extensions():
            ext = ".jpg"
        return photo.path.with_name(f"{photo.path.stem}_{tag}{ext}")

    def _ask_jpeg_quality(self) -> None:
        value = dialogs.ask_jpeg_quality(self, settings.get("save/jpeg_quality"))
        if value is not None:
            settings.set("save/jpeg_quality", value)

    def _may_discard_edits(self) -> bool:
        """Ask Save/Discard/Cancel when there are unsaved edits; False means stay."""
        if not self.isWindowModified() or self.session.photo is None:
            return True
        answer = dialogs.ask_unsaved(self, self.session.photo.path.name)
        if answer == QMessageBox.StandardButton.Save:
            # The save job holds its own copy of the photo and params, so the caller can go
            # on (open another photo) while it writes.
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- drag and drop ---------------------------------------------------------------------
    def _dropped_path(self, event) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            path = urls[0].toLocalFile()
            if Path(path).suffix.lower() in supported_extensions():
                return path
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_path(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_path(event)
        if path:
            event.acceptProposedAction()
            self.open_path(path)
