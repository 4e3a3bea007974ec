"""The Subject tool's click in the app: the full click in a worker, and beside it a first look.

A mixin of ``tools.MatteTools`` (it uses the tools' ``edit``, ``session``, runners ``subject``
and ``quick``, and their live-picture signals). A click that grows a subject runs GrabCut twice
at once on the two cores: at full working size (``MatteEdit.click``, 1 to 2 s on real photos)
and on the preview at a small size (``MatteEdit.quick_click``, ~0.2 s), whose result is shown
like live paint until the full click lands as one undo step.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF

from petseg_gui.ui.session_state import to_qimage
from petseg_gui.ui.workers import JobResult


class SubjectClicks:
    """The Subject tool's click and its first look (a mixin of tools.MatteTools)."""

    def _click(self, x: float, y: float, add: bool) -> None:
        """The full click in a worker (it reads the matte in place; ``_clicked`` drops the result
        if the matte changed meanwhile) and, beside it, the first look."""
        edit = self.edit
        version = edit.version
        self.message.emit("Finding the subject...")
        self.subject.submit(lambda cancelled: (edit, version, edit.click((x, y), add=add)))
        # Beside it, on the other core: a first look at a grown subject, shown like live paint
        # until the full click lands (GrabCut takes 1 to 2 s on real photos at the full size).
        params, opacity = self.session.params, self.trimap_opacity()

        def quick(cancelled):
            from petseg_gui import effects
            from petseg_gui.edits.live import edited_trimap
            from petseg_gui.overlay import trimap_overlay

            alpha = edit.quick_click((x, y), add=add)
            if alpha is None or cancelled():
                return None
            overlay = to_qimage(trimap_overlay(edit.preview_rgb, edited_trimap(alpha), opacity))
            portrait = None
            if params.enabled:
                prepared = effects.prepare(edit.preview_rgb, alpha)
                portrait = to_qimage(effects.render_prepared(prepared, params.portrait()))
            return edit, version, overlay, portrait

        self.quick.submit(quick)

    def _quick_ready(self, result: JobResult) -> None:
        if result.value is None:
            return
        edit, version, overlay, portrait = result.value
        if edit is not self.edit or version != edit.version or not self.subject.busy:
            return  # the full click is in already, or the matte changed
        h, w = edit.alpha.shape
        self.livePatch.emit(overlay, QRectF(0, 0, w, h))
        if portrait is not None:
            self.livePortrait.emit(portrait)
        self._live_shown = True
        self.message.emit("Finding the subject... (a first look; the edges follow)")

    def _clicked(self, result: JobResult) -> None:
        edit, version, patch = result.value
        self.quick.cancel()  # a first look that comes later is not wanted
        if edit is not self.edit:
            return
        if version != edit.version:
            self._drop_live()
            self.message.emit("The matte changed while the click was worked out: click again")
            return
        if patch is None:
            self._drop_live()
            self.message.emit("Nothing changed: that is already the subject")
            return
        self.message.emit("")
        self._push(patch, "Choose subject")
