"""The correction tools: "Add to subject" / "Remove from subject" brushes and the Subject tool.

``MatteTools`` keeps the photo's ``edits.MatteEdit`` (the matte under correction) in step with
the editing session, turns strokes and clicks into undo commands (one ``MattePatch`` each), and
shows the result: while painting, the preview-sized matte is shown at once (trimap pane) and
the portrait preview is re-prepared in the background; when the stroke ends, its full-resolution
patch is computed in a worker and ``EditorSession.set_matte`` re-renders everything. The mouse
side (events, cursor outline) is ``brush_overlay.BrushInput``; no image maths here.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.session_state import to_qimage
from petseg_gui.ui.subject_click import SubjectClicks
from petseg_gui.ui.workers import FunctionWorker, JobResult, LatestRunner


class Tool(Enum):
    VIEW = "view"
    ADD = "add"
    REMOVE = "remove"
    SUBJECT = "subject"


TOOL_HELP = {
    Tool.VIEW: "",
    Tool.ADD: "Add to subject: paint over what belongs to the subject; the stroke snaps to "
    "the photo's edges. [ and ] change the size, Esc stops.",
    Tool.REMOVE: "Remove from subject: paint over what is not the subject; the stroke snaps "
    "to the photo's edges. [ and ] change the size, Esc stops.",
    Tool.SUBJECT: "Subject: click an object to make it the subject (Shift+click adds one); "
    "click where nothing was found to grow a subject there. Esc stops.",
}

DEFAULT_RADIUS = 24  # screen pixels: the cursor keeps its size on screen whatever the zoom
MIN_RADIUS, MAX_RADIUS = 3, 400


class PatchCommand(QUndoCommand):
    """One stroke or click: ``redo`` writes its patch, ``undo`` puts the old values back."""

    def __init__(self, tools: MatteTools, patch, text: str) -> None:
        super().__init__(text)
        self._tools = tools
        self._patch = patch
        self._applied = None

    def redo(self) -> None:
        self._applied = self._tools._do(self._patch, self._applied)
        if self._applied is not None:
            self._patch = None  # the applied patch holds what undo and redo need

    def undo(self) -> None:
        self._tools._undo(self._applied)


class MatteTools(SubjectClicks, QObject):
    """The current tool, the matte under correction, and the work behind strokes and clicks."""

    toolChanged = Signal(object)  # Tool
    radiusChanged = Signal(int)  # screen pixels
    edited = Signal()  # the full-resolution matte changed (a stroke, click, undo or reset)
    busyChanged = Signal(bool)  # a Subject click is being worked out
    message = Signal(str)  # a passing note for the status bar
    livePatch = Signal(object, object)  # QImage of a painted trimap rectangle, its QRectF
    livePortrait = Signal(object)  # QImage: the portrait preview while painting
    liveTrimapDone = Signal()  # the trimap pane shows the corrected matte: drop live patches
    livePortraitDone = Signal()  # the portrait pane shows it too

    def __init__(
        self, session: EditorSession, undo_stack: QUndoStack, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.undo_stack = undo_stack
        self.tool = Tool.VIEW
        self.radius = DEFAULT_RADIUS
        self.edit = None  # edits.MatteEdit of the open photo, once segmented
        self.base_alpha = None  # a sidecar's matte to start from (set before segmenting ends)
        # Set while the open photo's sidecar is being read (SidecarStore): no stroke may start
        # before it is known, or the sidecar's matte would replace that stroke when it arrives.
        self.sidecar_pending = False
        self._setup_request = None  # what the MatteEdit being built is made from
        self._stroke = None  # edits.Stroke being painted (photo pixels)
        self._strokes: set[FunctionWorker] = set()  # full-resolution strokes in flight
        self._live_shown = False  # live pictures are over the panes
        self._portrait_done_on_render = False
        self.trimap_opacity = lambda: 0.5  # the window sets its opacity slider's value (0..1)
        self.live = LatestRunner("live", parent=self)
        self.live.succeeded.connect(self._live_ready)
        self.subject = LatestRunner("subject", parent=self)
        self.subject.succeeded.connect(self._clicked)
        self.subject.failed.connect(lambda exc: self.message.emit(str(exc).splitlines()[0]))
        self.subject.busyChanged.connect(self.busyChanged)
        self.quick = LatestRunner("subject-quick", parent=self)  # a grow click's first look
        self.quick.succeeded.connect(self._quick_ready)
        self.reset = LatestRunner("reset", parent=self)  # Reset to model
        self.reset.succeeded.connect(self._reset_ready)
        self.reset.failed.connect(lambda exc: self.message.emit(str(exc).splitlines()[0]))
        # Building a MatteEdit copies and downscales the 12 MP matte (~100 ms): a worker's job.
        self.setup = LatestRunner("matte-edit", parent=self)
        self.setup.succeeded.connect(self._edit_ready)
        self.setup.failed.connect(lambda exc: self.message.emit(str(exc).splitlines()[0]))
        self.refit = LatestRunner("matte-edit-preview", parent=self)  # the panes were resized
        self.refit.succeeded.connect(self._preview_refitted)
        session.photoOpened.connect(self._photo_opened)
        session.segmented.connect(self._segmented)
        session.previewResized.connect(self._preview_resized)
        session.matteChanged.connect(self._matte_changed)
        session.rendered.connect(self._rendered)

    # -- state -----------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """Strokes and clicks are taken: the matte under correction is built and final."""
        return (
            self.edit is not None
            and self.session.matte is not None
            and not self.setup.busy
            and not self.sidecar_pending
        )

    @property
    def pending(self) -> bool:
        """True while a stroke's full-resolution patch, a click or a reset is being computed."""
        return bool(self._strokes) or self.subject.busy or self.reset.busy

    def set_tool(self, tool: Tool) -> None:
        if tool != self.tool:
            self.tool = tool
            self.toolChanged.emit(tool)

    def resize_brush(self, factor: float) -> None:
        radius = round(min(MAX_RADIUS, max(MIN_RADIUS, self.radius * factor)))
        if radius == self.radius:
            radius = min(MAX_RADIUS, max(MIN_RADIUS, radius + (1 if factor > 1 else -1)))
        self.radius = radius
        self.radiusChanged.emit(radius)

    def _drop_live(self) -> None:
        if self._live_shown:
            self._live_shown = False
            self.liveTrimapDone.emit()
            self.livePortraitDone.emit()

    def _photo_opened(self, *_args) -> None:
        self._drop_live()
        self.edit = None
        self._stroke = None
        self.live.cancel()
        self.subject.cancel()
        self.quick.cancel()
        self.reset.cancel()
        self.setup.cancel()
        self.refit.cancel()
        self._strokes.clear()  # their results are for the previous photo: dropped on arrival

    def _segmented(self, segmented) -> None:
        photo, seg = self.session.photo, segmented.segmentation
        if photo is None:
            return
        keep = self.edit  # a re-segmentation (new model) keeps the corrections made so far
        if keep is None or keep.rgb is not photo.loaded.pixels:
            keep = None
        base, self.base_alpha = self.base_alpha, None
        self._set_up(photo, seg, keep, base)

    def _set_up(self, photo, seg, keep, base) -> None:
        """Build the photo's MatteEdit in a worker: from ``keep`` (an edit whose corrections
        stay), ``base`` (a sidecar's matte) or the model's matte."""
        version = None if keep is None else keep.version

        def job(cancelled):
            from petseg_gui.edits.live import MatteEdit, edited_trimap

            if keep is not None:
                alpha, trimap = keep.alpha, keep.trimap  # read in place; checked on arrival
            elif base is not None:
                alpha, trimap = base, edited_trimap(base)
            else:
                alpha, trimap = seg.alpha, seg.trimap
            edit = MatteEdit(
                photo.loaded.pixels, photo.preview, alpha, trimap, seg.alpha, seg.probabilities
            )
            return photo, edit, alpha is not seg.alpha

        self._setup_request = (photo, seg, keep, base, version)
        self.setup.submit(job)

    def _edit_ready(self, result: JobResult) -> None:
        photo, edit, edited = result.value
        if photo is not self.session.photo:
            return
        _photo, seg, keep, base, version = self._setup_request
        if keep is not None and keep.version != version:
            self._set_up(photo, seg, keep, base)  # corrected meanwhile: read it again
            return
        self.edit = edit
        if edited:
            self._publish(edited=False)
        if edit.preview_rgb is not photo.preview:  # the panes were resized while it was built
            self._preview_resized(photo)

    def _preview_resized(self, photo) -> None:
        """The panes were resized and the photo has a new preview: the edit's preview copy
        follows, made in a worker from the full matte (read in place, checked on arrival)."""
        edit = self.edit
        if edit is None:
            return
        version, preview = edit.version, photo.preview

        def job(cancelled):
            from petseg_gui.edits.live import resized_preview

            return edit, version, preview, resized_preview(edit.alpha, preview)

        self.refit.submit(job)

    def _preview_refitted(self, result: JobResult) -> None:
        edit, version, preview, preview_alpha = result.value
        if edit is not self.edit:
            return
        if version == edit.version:
            edit.set_preview(preview, preview_alpha)
        else:
            self._preview_resized(self.session.photo)  # changed meanwhile: again

    def start_from(self, alpha) -> None:
        """Use ``alpha`` (a sidecar's matte) as the photo's matte, not as an undo step."""
        seg = self.session.segmentation
        if self.edit is None and not self.setup.busy or seg is None:
            self.base_alpha = alpha  # used when the segmentation arrives
            return
        self._set_up(self.session.photo, seg, None, alpha)

    def sidecar_known(self) -> None:
        """The open photo's sidecar was read (or there is none): strokes may start."""
        self.sidecar_pending = False

    # -- brushes ---------------------------------------------------------------------------
    def begin_stroke(self, x: float, y: float, radius: float) -> None:
        """Start painting at photo pixel (x, y) with ``radius`` photo pixels."""
        from petseg_gui.edits import Stroke

        if not self.ready or self.tool not in (Tool.ADD, Tool.REMOVE):
            return
        # A stale preview copy (after a large patch) is painted on as it is: syncing it here
        # would stall the GUI thread; the next matte brings it up to date (adopt_preview).
        self._stroke = Stroke(self.tool.value, float(radius), ((float(x), float(y)),))
        self._paint()

    def extend_stroke(self, x: float, y: float) -> None:
        if self._stroke is None:
            return
        last = self._stroke.points[-1]
        if abs(last[0] - x) < 0.5 and abs(last[1] - y) < 0.5:
            return
        self._stroke = self._stroke.with_point(x, y)
        self._paint()

    def end_stroke(self) -> None:
        """The button was released: compute the stroke at full resolution in a worker."""
        stroke, self._stroke = self._stroke, None
        if stroke is None or self.edit is None:
            return
        self._compute_stroke(stroke)

    def _compute_stroke(self, stroke) -> None:
        job = self.edit.stroke_job(stroke)
        edit = self.edit
        worker = FunctionWorker(job.run)
        self._strokes.add(worker)
        worker.signals.returned.connect(
            lambda patch: self._stroke_done(worker, edit, job, stroke, patch)
        )
        worker.signals.errored.connect(lambda exc: self._stroke_failed(worker, exc))
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().start(worker)

    def _paint(self) -> None:
        bounds = self.edit.paint(self._stroke.tail(2))
        if bounds is None:
            return
        # The trimap pane shows the painted rectangle at once (a small picture over it, in
        # photo pixels); the portrait preview follows from a worker (latest wins).
        y0, x0, y1, x1 = bounds
        pixels = self.edit.preview_overlay(bounds, self.trimap_opacity())
        ph, pw = self.edit.preview_alpha.shape
        h, w = self.edit.alpha.shape
        sx, sy = w / pw, h / ph
        rect = QRectF(x0 * sx, y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy)
        self.livePatch.emit(to_qimage(pixels), rect)
        self._live_shown = True
        params = self.session.params
        preview_rgb, preview_alpha = self.edit.preview_rgb, self.edit.preview_alpha.copy()
        if not params.enabled:
            return

        def job(cancelled):
            from petseg_gui import effects

            prepared = effects.prepare(preview_rgb, preview_alpha)
            if cancelled():
                return None
            return to_qimage(effects.render_prepared(prepared, params.portrait()))

        self.live.submit(job)

    def _live_ready(self, result: JobResult) -> None:
        if result.value is not None and self.edit is not None:
            self.livePortrait.emit(result.value)

    def _matte_changed(self, matte) -> None:
        """The session shows a new matte: once no stroke is painted or pending, the panes
        show the real thing and the live pictures go (the portrait's with the next render).
        A matte made from the current edit also brings the preview copy up to date."""
        edit, tag = self.edit, matte.tag
        if (
            edit is not None
            and tag is not None
            and tag[0] is edit
            and tag[1] == edit.version
            and self._stroke is None
        ):
            edit.adopt_preview(matte.prepared.alpha)
        if self._live_shown and self._stroke is None and not self._strokes:
            self._live_shown = False
            self.liveTrimapDone.emit()
            self._portrait_done_on_render = True

    def _rendered(self, *_args) -> None:
        if self._portrait_done_on_render:
            self._portrait_done_on_render = False
            self.livePortraitDone.emit()

    def _stroke_done(self, worker, edit, job, stroke, patch) -> None:
        if worker not in self._strokes or edit is not self.edit:
            return  # the photo changed meanwhile
        self._strokes.discard(worker)
        if job.version != edit.version:
            self._compute_stroke(stroke)  # the matte changed under it: again, from the new one
            return
        self._push(patch, "Add to subject" if stroke.mode == "add" else "Remove from subject")

    def _stroke_failed(self, worker, exc: BaseException) -> None:
        self._strokes.discard(worker)
        self.message.emit(f"The stroke could not be applied: {exc}".splitlines()[0])
        self._publish()

    # -- the Subject tool (subject_click.py) ---------------------------------------------------
    def click(self, x: float, y: float, *, add: bool = False) -> None:
        """A Subject-tool click at photo pixel (x, y): worked out in the background."""
        if self.ready and self.tool is Tool.SUBJECT:
            self._click(x, y, add)

    # -- reset -------------------------------------------------------------------------------
    def reset_to_model(self) -> bool:
        """Put the model's matte back (one undo step), worked out in a worker: comparing and
        copying a 12 MP matte took the GUI thread tens of ms. False when no matte is being
        corrected yet."""
        if not self.ready:
            return False
        edit = self.edit
        version = edit.version
        self.reset.submit(lambda cancelled: (edit, version, edit.prepared_reset()))
        return True

    def _reset_ready(self, result: JobResult) -> None:
        edit, version, patch = result.value
        if edit is not self.edit:
            return  # another photo meanwhile
        if version != edit.version:
            self.reset_to_model()  # a stroke landed meanwhile: reset from the matte as it is
            return
        if patch is None:
            self.message.emit("Nothing to reset: this is the model's matte")
            return
        self._push(patch, "Reset to model")
        self.message.emit("Back to the model's matte")

    # -- undo plumbing -----------------------------------------------------------------------
    def _push(self, patch, text: str) -> None:
        if patch is None:
            self._publish(edited=False)  # a stroke that changed nothing: show the real matte
            return
        self.undo_stack.push(PatchCommand(self, patch, text))

    def _do(self, patch, applied):
        if self.edit is None:
            return applied
        if applied is None:
            applied = self.edit.apply(patch)
        else:
            self.edit.redo(applied)
        self._publish()
        return applied

    def _undo(self, applied) -> None:
        if self.edit is None or applied is None:
            return
        self.edit.undo(applied)
        self._publish()

    def _publish(self, *, edited: bool = True) -> None:
        """The full-resolution matte changed: the session re-renders every pane from it."""
        self.live.cancel()
        edit = self.edit
        # The live arrays, copied by the session's worker: every later write calls _publish
        # again, which supersedes this job, so a copy torn by that write is never used.
        self.session.set_matte(edit.alpha, edit.trimap, live=True, tag=(edit, edit.version))
        if edited:
            self.edited.emit()
