"""The editing session's file work: Save (a full-resolution render, written atomically with the
photo's metadata) and Export trimap / matte, on the session's ``files`` runner.

A mixin of ``editor.EditorSession`` (it uses the session's ``photo``, ``matte``, ``params``,
``runners`` and signals).
"""

from __future__ import annotations

from pathlib import Path

from petseg_gui.ui.session_state import Exported, Saved
from petseg_gui.ui.workers import JobResult


class FileJobs:
    """Save and export (a mixin of EditorSession)."""

    def save(self, path: str | Path, *, quality: int) -> None:
        """Render at full resolution and write ``path`` atomically, with the photo's metadata."""
        photo, matte, params = self.photo, self.matte, self.params
        if photo is None:
            return
        if params.enabled and matte is None:
            self.error.emit("The photo is still being segmented: save again when it is done.")
            return
        target = Path(path)

        def job(cancelled) -> Saved:
            from petseg_gui.effects import render
            from petseg_gui.imaging import save_image

            pixels = photo.loaded.pixels
            if params.enabled:
                pixels = render(pixels, matte.alpha, params.portrait())
            save_image(
                target,
                pixels,
                quality=quality,
                exif=photo.loaded.exif,
                icc_profile=photo.loaded.icc_profile,
            )
            return Saved(target)

        self.status.emit(f"Saving {target.name}...")
        self.runners.files.submit(job)

    def export(self, path: str | Path, what: str) -> None:
        """Write the trimap (``what='trimap'``) or the alpha matte (``'matte'``) as a grey image."""
        matte = self.matte
        if matte is None:
            self.error.emit("Nothing to export yet: open a photo and wait for its segmentation.")
            return
        target = Path(path)

        def job(cancelled) -> Exported:
            from petseg_gui.imaging import save_image
            from petseg_gui.overlay import matte_to_grey, trimap_to_grey

            grey = trimap_to_grey(matte.trimap) if what == "trimap" else matte_to_grey(matte.alpha)
            save_image(target, grey)
            return Exported(target)

        self.runners.files.submit(job)

    def _written(self, result: JobResult) -> None:
        written: Saved | Exported = result.value
        if isinstance(written, Saved):
            self.timing.emit("save", result.seconds)
            self.saved.emit(str(written.path))
        else:
            self.exported.emit(str(written.path))
