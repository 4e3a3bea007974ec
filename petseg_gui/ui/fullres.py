"""Real pixels when zoomed in: swaps full-resolution pictures into the panes.

The panes show screen-sized previews (fast to re-render while a slider moves). Once the view is
zoomed past the preview's resolution, a preview would be shown upscaled, so:

- the Original pane switches at once to the photo's full-resolution QImage (made on the loading
  thread, so the switch costs only a pixmap upload);
- the Result and Trimap panes ask the editor session for a full-resolution render / overlay once
  the user has stopped changing things for ``IDLE_MS`` (a single-shot timer restarted by every
  slider, opacity and view change), and swap it in when it arrives, if it is still current.

The last full-resolution result (per params) and overlay (per opacity) are kept, so zooming out
and in again, or a preview of the same params arriving late, shows them without new work.
Fit-to-window always shows the previews: the whole photo fits the pane, which the preview side
(1600 px) is chosen to cover.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from petseg_gui.ui.editor import EditorSession, FullTrimap, Params, Rendered
from petseg_gui.ui.panes import PanesWidget

IDLE_MS = 250


class FullResolution(QObject):
    """Decides when each pane shows full resolution; the main window owns one."""

    resultShown = Signal(object)  # Rendered(full=True), once it is on screen
    trimapShown = Signal(object)  # FullTrimap, once it is on screen
    levelChanged = Signal()  # zoomed past the preview's resolution or back: re-pick pictures

    def __init__(
        self,
        session: EditorSession,
        panes: PanesWidget,
        *,
        comparing: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._panes = panes
        self._comparing = comparing
        self._result: Rendered | None = None
        self._trimap: FullTrimap | None = None
        # What is in flight: asking again for the same would make the running job stale.
        self._requested: Params | None = None
        self._requested_opacity: int | None = None
        self._was_zoomed_in = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(IDLE_MS)
        self.timer.timeout.connect(self._idle)
        for view in panes.views:
            view.viewChanged.connect(self._view_changed)
        session.photoOpened.connect(self._photo_opened)
        session.segmented.connect(self._forget)
        session.fullRendered.connect(self._full_rendered)
        session.fullTrimap.connect(self._full_trimap)

    # -- queries -------------------------------------------------------------------------
    def zoomed_in(self) -> bool:
        """True when the view shows photo pixels larger than the preview's pixels."""
        photo = self._session.photo
        view = self._panes.original.view
        if photo is None or not photo.has_detail or view.fit_mode:
            return False
        return view.scale_factor() > photo.preview_scale * (1 + 1e-6)

    def result_for(self, params: Params) -> Rendered | None:
        """The cached full-resolution result for ``params`` when it should be shown, else None."""
        cached = self._result
        if cached is not None and cached.params == params and self.zoomed_in():
            return cached
        return None

    def trimap_for(self, opacity: int) -> FullTrimap | None:
        cached = self._trimap
        if cached is not None and cached.opacity == opacity and self.zoomed_in():
            return cached
        return None

    def original_image(self):
        """The QImage the Original pane should show now (full resolution when zoomed in)."""
        photo = self._session.photo
        if photo is None:
            return None
        return photo.full_image if self.zoomed_in() else photo.preview_image

    # -- events --------------------------------------------------------------------------
    def poke(self) -> None:
        """Something changed (a slider, the opacity, the view): wait for rest, then render."""
        if self.zoomed_in():
            self.timer.start()
        else:
            self.timer.stop()

    def params_changed(self) -> None:
        """The sliders or the toggle moved: the session dropped any full render in flight."""
        self._requested = None
        self.poke()

    def _photo_opened(self, *_args) -> None:
        self._forget()
        self._was_zoomed_in = self.zoomed_in()  # the main window shows original_image()

    def _forget(self, *_args) -> None:
        """The photo or its segmentation changed: what was rendered from them is gone."""
        self._result = self._trimap = None
        self._requested = self._requested_opacity = None
        self.timer.stop()

    def _view_changed(self) -> None:
        photo = self._session.photo
        if photo is None:
            return
        zoomed = self.zoomed_in()
        if zoomed != self._was_zoomed_in:
            self._was_zoomed_in = zoomed
            self._panes.original.view.set_image(self.original_image(), photo.size)
            self.levelChanged.emit()
        self.poke()

    def _idle(self) -> None:
        session = self._session
        if not self.zoomed_in() or session.seg is None:
            return
        params = session.params
        if params.enabled and not self._comparing():
            cached = self.result_for(params)
            if cached is not None:
                self._show_result(cached)
            elif self._requested != params:
                self._requested = params
                session.request_full_render()
        opacity = self._panes.opacity.value()
        cached_trimap = self.trimap_for(opacity)
        if cached_trimap is not None:
            self._show_trimap(cached_trimap)
        elif self._requested_opacity != opacity:
            self._requested_opacity = opacity
            session.request_full_trimap(opacity)

    def _full_rendered(self, rendered: Rendered) -> None:
        self._result = rendered
        self._requested = None
        if self.result_for(self._session.params) is rendered and not self._comparing():
            self._show_result(rendered)

    def _full_trimap(self, trimap: FullTrimap) -> None:
        self._trimap = trimap
        self._requested_opacity = None
        if self.trimap_for(self._panes.opacity.value()) is trimap:
            self._show_trimap(trimap)

    def _show_result(self, rendered: Rendered) -> None:
        photo = self._session.photo
        if photo is None:
            return
        self._panes.result.view.set_image(rendered.image, photo.size)
        self.resultShown.emit(rendered)

    def _show_trimap(self, trimap: FullTrimap) -> None:
        photo = self._session.photo
        if photo is None:
            return
        self._panes.trimap.view.set_image(trimap.image, photo.size)
        self.trimapShown.emit(trimap)
