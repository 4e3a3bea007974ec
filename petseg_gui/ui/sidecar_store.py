"""The corrections' sidecar in the app: read when a photo opens, written after each edit.

Reading runs in a worker as the photo opens (beside segmenting); a usable sidecar's matte becomes
the matte to start from (``MatteTools.start_from``), an unusable one (broken, or the photo
changed since) is reported in the status bar and the model's matte is used. Writing is debounced
(``WRITE_DELAY_MS`` after the last edit, later while an edit is being computed) and runs in a
worker, atomically (edits.sidecar); a matte equal to the model's removes the sidecar instead
(after "Reset to model", or undoing every edit). ``flush`` starts writing a pending change now
(opening another photo, or closing: the window then waits for the thread pool).

Until the read has answered, the tools take no stroke (``MatteTools.sidecar_pending``): a
sidecar arriving after a stroke would replace it. The writer reads the matte in place in its
worker (``MatteEdit.consistent``: no 12 MP copy on the GUI thread) and tries again later when
an edit overlapped the read.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.tools import MatteTools
from petseg_gui.ui.workers import FunctionWorker, JobResult, LatestRunner

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
        self.reader.failed.connect(self._read_failed)
        self.writer = LatestRunner("sidecar-write", parent=self)
        self.writer.succeeded.connect(self._wrote)
        self.writer.failed.connect(self._not_written)
        self.flushing: set[FunctionWorker] = set()  # writes of photos no longer open
        self._photo: Path | None = None
        self._edit = None  # the edits.MatteEdit a pending write is for
        session.photoOpened.connect(self._photo_opened)
        tools.edited.connect(self._edited)

    def _photo_opened(self, photo) -> None:
        self.flush()
        self._photo = Path(photo.path)
        self._edit = None
        self.edits = 0
        path = self._photo
        self.tools.sidecar_pending = True

        def job(cancelled):
            from petseg_gui.edits import read_sidecar

            return path, read_sidecar(path)

        self.reader.submit(job)

    def _read(self, result: JobResult) -> None:
        path, sidecar = result.value
        if path != self._photo:
            return
        self.tools.sidecar_known()
        if sidecar is None:
            return
        self.edits = sidecar.edits
        self.tools.start_from(sidecar.matte)
        self.message.emit(f"Corrections from {path.name}.petseg.png applied")

    def _read_failed(self, exc: BaseException) -> None:
        self.tools.sidecar_known()  # unusable: the model's matte stays, editing may start
        self.message.emit(str(exc).splitlines()[0])

    def _edited(self) -> None:
        self._edit = self.tools.edit  # kept: opening another photo drops the tools' one
        self.edits += 1
        self.timer.start()

    def flush(self) -> None:
        """Start writing a pending change now, without waiting for it (before another photo
        opens, or on close, where the window waits for the pool)."""
        if not self.timer.isActive():
            return
        self.timer.stop()
        job = self._job()
        if job is None:
            return
        worker = FunctionWorker(lambda: job(lambda: False))
        self.flushing.add(worker)
        worker.signals.returned.connect(lambda path: self.written.emit(str(path)))
        worker.signals.errored.connect(
            lambda exc: self.message.emit(f"Corrections not saved: {exc}".splitlines()[0])
        )
        worker.signals.finished.connect(lambda: self.flushing.discard(worker))
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().start(worker)

    def write_now(self) -> None:
        if self.tools.pending:
            self.timer.start()  # not now: the PNG encoding would slow the edit being computed
            return
        job = self._job()
        if job is not None:
            self.writer.submit(job)

    def _wrote(self, result: JobResult) -> None:
        if result.value is None:
            self.timer.start()  # an edit overlapped the read: it restarted the timer anyway
        else:
            self.written.emit(str(result.value))

    def _not_written(self, exc: BaseException) -> None:
        self.message.emit(f"Corrections not saved: {exc}".splitlines()[0])

    def _job(self):
        """The write of the current edit's matte, for a worker: returns the photo, or None when
        an edit overlapped its read of the matte (nothing written then)."""
        edit, photo = self._edit, self._photo
        if edit is None or photo is None:
            return None
        handle = self.session.model
        card = dict(getattr(handle.segmenter, "card", {}) or {}) if handle else {}
        name = str(card.get("name") or (handle.path.name if handle and handle.path else ""))
        digest, edits = str(card.get("sha256", "")), self.edits

        def job(cancelled) -> Path | None:
            import numpy as np

            from petseg_gui.edits import delete_sidecar, write_sidecar

            alpha = edit.consistent(edit.alpha.copy)
            if alpha is None:
                return None
            if np.array_equal(alpha, edit.model_alpha):
                delete_sidecar(photo)
            else:
                write_sidecar(photo, alpha, model_name=name, model_hash=digest, edits=edits)
            return photo

        return job
