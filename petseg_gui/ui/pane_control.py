"""What the panes show: previews while editing, real pixels when zoomed in.

The panes show screen-sized previews (fast to re-render while a slider moves). Once the view is
zoomed past the preview's resolution, a preview would be shown upscaled, so:

- the Original pane switches at once to the photo's full-resolution QImage (made on the loading
  thread, so the switch costs only a pixmap upload);
- the Result and Trimap panes ask the editor session for a full-resolution render / overlay once
  the user has stopped changing things for ``IDLE_MS`` (a single-shot timer restarted by every
  slider, opacity and view change), and show it when it arrives, if it is still current.

The last full-resolution result (per params) and overlay (per opacity) are kept, so zooming out
and in again, or a preview of the same params arriving late, shows them without new work.
Fit-to-window always shows the previews: the whole photo fits the pane, and a photo's preview is
made as large as the result pane's device pixels when it opens (``view_pixels``; at most the
session's ``preview_side``, 1600 px), so a preview costs what the screen shows. When the panes
are resized, the preview is remade for the new size once the resizing rests for ``RESIZE_MS``
(``EditorSession.fit_preview``, in the background; meanwhile the old one is shown scaled).

Which picture goes where is decided in one place, ``pane_choice.choose``; ``refresh`` applies
it and is called whenever any of its inputs changes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from petseg_gui.ui.editor import EditorSession
from petseg_gui.ui.image_view import whole_device_pixels
from petseg_gui.ui.pane_choice import PaneState, Picture, choose
from petseg_gui.ui.panes import HEADER_HEIGHT, PanesWidget
from petseg_gui.ui.session_state import FullTrimap, Matte, Params, Rendered, to_qimage

IDLE_MS = 250
RESIZE_MS = 300  # a window being dragged larger sends dozens of resizes: remake once, at rest
NO_MODEL = "No model: Model > Load model folder..."


class PaneControl(QObject):
    """Puts the chosen picture in each pane and fetches full resolution; the window owns one."""

    resultShown = Signal(object)  # Rendered at full resolution, once it is on screen
    trimapShown = Signal(object)  # FullTrimap, once it is on screen
    fullSeconds = Signal(object)  # the full-resolution render on screen took this long, or None

    def __init__(
        self, session: EditorSession, panes: PanesWidget, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._panes = panes
        self.comparing = False
        self._result: Rendered | None = None
        self._trimap: FullTrimap | None = None
        self._preview_trimap: tuple[Matte, int, object] | None = None  # matte, opacity, QImage
        self._on_screen: dict[int, object] = {}  # id(view) -> the QImage or note it shows
        self._seconds: float | None = None
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
        panes.opacityChanged.connect(self.changed)
        session.photoOpened.connect(self._photo_opened)
        session.matteChanged.connect(self._matte_changed)
        session.rendered.connect(self.changed)
        session.modelChanged.connect(self.refresh)
        session.fullRendered.connect(self._full_rendered)
        session.fullTrimap.connect(self._full_trimap)
        session.view_pixels = self.view_pixels
        self.resize_timer = QTimer(self)
        self.resize_timer.setSingleShot(True)
        self.resize_timer.setInterval(RESIZE_MS)
        self.resize_timer.timeout.connect(session.fit_preview)
        panes.result.view.resized.connect(self.resize_timer.start)

    def view_pixels(self) -> tuple[int, int]:
        """(width, height) in device pixels of the result pane's viewport: a photo opened now
        gets a preview just large enough to fill it. Before the panes are first shown (the
        welcome page is up) they have no layout yet: estimated from the window's central area
        (three panes side by side under their headers)."""
        view = self._panes.result.view
        if view.isVisible():
            return view.device_pixels()
        window = self._panes.window()
        central = window.centralWidget() if hasattr(window, "centralWidget") else None
        area = (central or window).size()
        dpr = view.devicePixelRatioF()
        width, height = area.width() // 3, area.height() - 2 * HEADER_HEIGHT
        return whole_device_pixels(width, dpr), whole_device_pixels(height, dpr)

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

    def state(self) -> PaneState:
        """The snapshot ``pane_choice.choose`` decides from."""
        session, rendered = self._session, self._session.last_render
        return PaneState(
            zoomed_in=self.zoomed_in(),
            comparing=self.comparing,
            rendered=rendered is not None,
            effect_on=rendered is not None and rendered.params.enabled,
            full_result=rendered is not None and self.result_for(rendered.params) is not None,
            has_matte=session.matte is not None,
            full_trimap=self.trimap_for(self._panes.opacity.value()) is not None,
        )

    # -- showing -------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        """Put the chosen picture in each pane (a picture already there is left alone)."""
        session, panes = self._session, self._panes
        photo = session.photo
        if photo is None:
            return
        choice = choose(self.state())
        self._show(panes.original.view, self._picture(choice.original))
        if self._show(panes.trimap.view, self._picture(choice.trimap), follow=True):
            if choice.trimap is Picture.TRIMAP_FULL:
                self.trimapShown.emit(self._trimap)
        if self._show(panes.result.view, self._picture(choice.result), follow=True):
            if choice.result is Picture.RESULT_FULL:
                self.resultShown.emit(self._result)
        panes.result_note.setText(choice.result_note)
        if choice.result is Picture.RESULT_FULL:
            self._set_seconds(self._result.seconds)  # type: ignore[union-attr]
        elif not self.comparing:
            self._set_seconds(None)

    def _picture(self, picture: Picture):
        """The QImage for ``picture``, or the note (a str) to show instead."""
        session = self._session
        photo, matte = session.photo, session.matte
        assert photo is not None
        if picture is Picture.PHOTO_FULL:
            return photo.full_image
        if picture is Picture.PHOTO_PREVIEW:
            return photo.preview_image
        if picture is Picture.RESULT_FULL:
            return self._result.image  # type: ignore[union-attr]
        if picture is Picture.RESULT_PREVIEW:
            return session.last_render.image  # type: ignore[union-attr]
        if picture is Picture.TRIMAP_FULL:
            return self._trimap.image  # type: ignore[union-attr]
        if picture is Picture.TRIMAP_PREVIEW:
            return self._preview_trimap_image(matte)
        return "Segmenting..." if session.model is not None else NO_MODEL

    def _preview_trimap_image(self, matte):
        """The overlay at the matte's preview size: its colours were made on the matte's
        worker, so the GUI thread only blends a pane-sized picture (~1 ms)."""
        from petseg_gui.overlay import blend_overlay, trimap_colours

        opacity = self._panes.opacity.value()
        cached = self._preview_trimap
        if cached is None or cached[0] is not matte or cached[1] != opacity:
            colours = matte.preview_colours
            if colours is None:  # a Matte made elsewhere (tests, tools)
                colours = matte.preview_colours = trimap_colours(matte.preview_trimap)
            overlay = blend_overlay(matte.prepared.rgb, colours, opacity / 100.0)
            cached = self._preview_trimap = (matte, opacity, to_qimage(overlay))
        return cached[2]

    def _show(self, view, picture, *, follow: bool = False) -> bool:
        """Show ``picture`` (a QImage, or a note) in ``view``; False when it is already there."""
        if self._on_screen.get(id(view)) is picture:
            return False
        self._on_screen[id(view)] = picture
        if isinstance(picture, str):
            view.show_message(picture)
            return True
        view.set_image(picture, self._session.photo.size)
        if follow:
            view.follow(self._panes.original.view)
        return True

    def _set_seconds(self, seconds: float | None) -> None:
        if seconds != self._seconds:
            self._seconds = seconds
            self.fullSeconds.emit(seconds)

    # -- events --------------------------------------------------------------------------
    def changed(self, *_args) -> None:
        """Something changed (a slider, the opacity, a render): show it, wait for rest, then
        fetch full resolution."""
        self.refresh()
        self.poke()

    def poke(self) -> None:
        if self.zoomed_in():
            self.timer.start()
        else:
            self.timer.stop()

    def set_comparing(self, on: bool) -> None:
        self.comparing = on
        self.refresh()

    def params_changed(self) -> None:
        """The sliders or the toggle moved: the session dropped any full render in flight."""
        self._requested = None
        self.poke()

    def _photo_opened(self, *_args) -> None:
        self._forget()
        self.refresh()
        self._was_zoomed_in = self.zoomed_in()

    def _matte_changed(self, *_args) -> None:
        self._forget()
        self.changed()

    def _forget(self) -> None:
        """The photo or its matte changed: what was rendered from them is gone."""
        self._result = self._trimap = None
        self._requested = self._requested_opacity = None
        self.timer.stop()

    def _view_changed(self) -> None:
        if self._session.photo is None:
            return
        zoomed = self.zoomed_in()
        if zoomed != self._was_zoomed_in:
            self._was_zoomed_in = zoomed
            self.refresh()
        self.poke()

    def _idle(self) -> None:
        session = self._session
        if not self.zoomed_in() or session.matte is None:
            return
        params = session.params
        if params.enabled and not self.comparing:
            if self._result is None or self._result.params != params:
                if self._requested != params:
                    self._requested = params
                    session.request_full_render()
        opacity = self._panes.opacity.value()
        if self.trimap_for(opacity) is None and self._requested_opacity != opacity:
            self._requested_opacity = opacity
            session.request_full_trimap(opacity)
        self.refresh()

    def _full_rendered(self, rendered: Rendered) -> None:
        self._result = rendered
        self._requested = None
        self.refresh()

    def _full_trimap(self, trimap: FullTrimap) -> None:
        self._trimap = trimap
        self._requested_opacity = None
        self.refresh()
