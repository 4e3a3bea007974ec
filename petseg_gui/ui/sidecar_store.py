"""The corrections' sidecar in the app: read when a photo opens, written after each edit.

Reading runs in a worker as the photo opens (beside segmenting); a usable sidecar's matte becomes
the matte to start from (``MatteTools.start_from``), an unusable one (broken, or the photo
changed since) is reported in the status bar and the model's matte is used. Writing is debounced
(``WRITE_DELAY_MS`` after the last edit, later while an edit is being computed) and runs in a
worker, atomically (edits.sidecar); a matte equal to the model's removes the sidecar instead
(after "Reset to model", or undoing every edit). ``flush`` writes a pending change now
(closing, or opening another photo).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.tools import MatteTools
from petseg_gui.ui.workers import JobResult, LatestRunner

WRITE_DELAY_MS = 1500  # after the last edit; longer while a stroke or click is still computed


class SidecarStore(QObject):
    message = Signal(str)  # for the status bar
    written = Signal(str)  # the photo whose sidecar was written or removed

    def __init__(self, session: EditorSession, tools: MatteTools, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.tools = tools
        self.edits = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(WRITE_DELAY_MS)
        self.timer.timeout.connect(self.write_now)
        self.reader = LatestRunner("sidecar-read", parent=self)
        self.reader.succeeded.connect(self._read)
        self.reader.failed.connect(lambda exc: self.message.emit(str(exc).splitlines()[0]))
        self.writer = LatestRunner("sidecar-write", parent=self)
        self.writer.succeeded.connect(lambda result: self.written.emit(str(result.value)))
        self.writer.failed.connect(lambda exc: self.message.emit(str(exc).splitlines()[0]))
        self._photo: Path | None = None
        self._edit = None  # the edits.MatteEdit a pending write is for
        session.photoOpened.connect(self._photo_opened)
        tools.edited.connect(self._edited)

    def _photo_opened(self, photo) -> None:
        self.flush()
        self._photo = Path(photo.path)
        self.edits = 0
        path = self._photo

        def job(cancelled):
            from petseg_gui.edits import read_sidecar

            return path, read_sidecar(path)

        self.reader.submit(job)

    def _read(self, result: JobResult) -> None:
        path, sidecar = result.value
        if sidecar is None or path != self._photo:
            return
        self.edits = sidecar.edits
        self.tools.start_from(sidecar.matte)
        self.message.emit(f"Corrections from {path.name}.petseg.png applied")

    def _edited(self) -> None:
        self._edit = self.tools.edit  # kept: opening another photo drops the tools' one
        self.edits += 1
        self.timer.start()

    def flush(self) -> None:
        """Write a pending change now and wait for it (on close / before another photo)."""
        if self.timer.isActive():
            self.timer.stop()
            job = self._job()
            if job is not None:
                try:
                    job(lambda: False)
                except Exception as exc:  # noqa: BLE001 - shown, never raised at the user
                    self.message.emit(f"Corrections not saved: {exc}".splitlines()[0])

    def write_now(self) -> None:
        if self.tools.pending:
            self.timer.start()  # not now: the PNG encoding would slow the edit being computed
            return
        job = self._job()
        if job is not None:
            self.writer.submit(job)

    def _job(self):
        import numpy as np

        edit, photo = self._edit, self._photo
        if edit is None or photo is None:
            return None
        alpha = edit.alpha.copy()
        reset = np.array_equal(alpha, edit.model_alpha)
        handle = self.session.model
        card = dict(getattr(handle.segmenter, "card", {}) or {}) if handle else {}
        name = str(card.get("name") or (handle.path.name if handle and handle.path else ""))
        digest, edits = str(card.get("sha256", "")), self.edits

        def job(cancelled) -> Path:
            from petseg_gui.edits import delete_sidecar, write_sidecar

            if reset:
                delete_sidecar(photo)
            else:
                write_sidecar(photo, alpha, model_name=name, model_hash=digest, edits=edits)
            return photo

        return job
