"""Zoomable, pannable image panes that stay in step.

Every pane's scene is measured in pixels of the full-resolution photo, whatever the resolution
of the picture it currently shows (a screen-sized preview is drawn scaled up to that size). So the
same transform and the same centre point mean the same view in every pane, and "100%" means one
photo pixel per screen pixel.
"""

from __future__ import annotations

import math
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

ZOOM_STEP = 1.25
MIN_SCALE = 0.02
MAX_SCALE = 32.0


class ImagePane(QGraphicsView):
    """One pane: shows a QImage scaled to the photo's full size; wheel zooms, drag pans."""

    viewChanged = Signal()  # the user zoomed or panned (not emitted for programmatic syncs)
    resized = Signal()  # the viewport changed size (the pane, or its scroll bars came or went)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._item = QGraphicsPixmapItem()
        # Smooth scaling: a downscaled photo with nearest-neighbour sampling shimmers.
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self._message = QGraphicsSimpleTextItem()
        self._message.setBrush(QColor(200, 200, 200))
        self._scene.addItem(self._message)
        self._fit = True
        self._photo_size: tuple[int, int] | None = None  # (width, height) in photo pixels
        self._image: QImage | None = None

        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor(38, 38, 40))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.horizontalScrollBar().valueChanged.connect(self._user_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._user_scrolled)
        self._syncing = False
        # Who sees the mouse first (the correction tools' BrushInput): ``mouse(pane, event)``
        # returns True when it used a press, move or release; ``left(pane)`` when the mouse
        # leaves. Handlers rather than an event filter on the viewport: a filter is called, in
        # Python and so with the GIL, for every event there, each paint included.
        self.mouse_handler: MouseHandler | None = None

    def sizeHint(self) -> QSize:
        # Small and equal for all panes: the default (the scene's size) would let the first
        # pane that gets a picture claim most of the window.
        return QSize(320, 240)

    # -- content -------------------------------------------------------------------------
    def set_image(self, image: QImage | None, photo_size: tuple[int, int] | None = None) -> None:
        """Show ``image`` stretched to ``photo_size`` (width, height; default: its own size)."""
        self._image = image
        if image is None or image.isNull():
            self._item.setPixmap(QPixmap())
            self._item.setVisible(False)
            return
        self._message.setVisible(False)
        size = photo_size or (image.width(), image.height())
        new_size = size != self._photo_size
        self._photo_size = size
        self._item.setPixmap(QPixmap.fromImage(image))
        self._item.setTransform(
            QTransform.fromScale(size[0] / image.width(), size[1] / image.height())
        )
        self._item.setVisible(True)
        self._scene.setSceneRect(QRectF(0, 0, size[0], size[1]))
        if new_size:
            self._fit = True
        if self._fit:
            self._apply_fit()

    def image(self) -> QImage | None:
        """The picture currently shown (at its own resolution), or None."""
        return self._image if self._item.isVisible() else None

    def show_message(self, text: str) -> None:
        """A centred note instead of a picture (e.g. 'No model')."""
        self.set_image(None)
        self._photo_size = None
        self._message.setText(text)
        self._message.setVisible(True)
        rect = self._message.boundingRect()
        self._scene.setSceneRect(QRectF(0, 0, rect.width(), rect.height()))
        self._message.setPos(0, 0)
        self.resetTransform()
        self.centerOn(self._message)

    # -- zoom ----------------------------------------------------------------------------
    @property
    def fit_mode(self) -> bool:
        return self._fit

    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit_to_window(self) -> None:
        self._fit = True
        self._apply_fit()
        self.viewChanged.emit()

    def zoom_actual_size(self) -> None:
        """100%: one photo pixel per screen pixel, keeping the centre."""
        self._set_scale(1.0)

    def zoom_by(self, factor: float) -> None:
        self._set_scale(self.scale_factor() * factor)

    def _set_scale(self, scale: float) -> None:
        if self._photo_size is None:
            return
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        centre = self.view_centre()
        self._fit = False
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(centre)
        self.viewChanged.emit()

    def _apply_fit(self) -> None:
        """The whole photo, as large as the pane allows. A picture made at exactly that size (a
        preview made for this pane: ``preview.fit_side``) is drawn one picture pixel per device
        pixel: a plain copy, as sharp as the picture, where any other scale resamples it on
        every paint (smoothly: Qt hands that to its thread pool, which waits for a free core
        while workers render)."""
        if self._photo_size is None:
            return
        width, height = self._photo_size
        view = self.viewport().size()
        dpr = self.devicePixelRatioF()
        fit = min(view.width() / width, view.height() / height) * dpr
        scale_x = scale_y = fit
        picture = self.image()
        if picture is not None:
            exact = pixel_exact_fit(
                (picture.width(), picture.height()), (width, height), self.device_pixels()
            )
            if exact is not None:
                scale_x, scale_y = exact
        # A hair smaller (1e-13, inside Qt's fuzzy compare with 1): the photo times the scale
        # must not come out a hair over the pane, which would add scroll bars.
        shrink = (1 - 1e-13) / dpr
        self.setTransform(QTransform.fromScale(scale_x * shrink, scale_y * shrink))
        self.centerOn(width / 2, height / 2)

    def device_pixels(self) -> tuple[int, int]:
        """(width, height): the whole device pixels the viewport holds. At a fractional scale
        (125%, 150%, 175%: a 333-pixel pane is 582.75 device pixels at 175%) the part pixel
        is left out: a preview made to this size fits in and is drawn 1:1, where one a pixel
        larger would be resampled on every paint."""
        view, dpr = self.viewport().size(), self.devicePixelRatioF()
        return whole_device_pixels(view.width(), dpr), whole_device_pixels(view.height(), dpr)

    def view_centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0 or self._photo_size is None:
            return
        # Anchor under the mouse: the photo point under the cursor stays put, as users expect.
        self._fit = False
        factor = ZOOM_STEP**steps
        scale = min(MAX_SCALE, max(MIN_SCALE, self.scale_factor() * factor))
        self.scale(scale / self.scale_factor(), scale / self.scale_factor())
        self.viewChanged.emit()
        event.accept()

    def resizeEvent(self, event) -> None:
        # QAbstractScrollArea sends the viewport's resizes here (scroll bars coming or going
        # included), not only the pane's own.
        super().resizeEvent(event)
        if self._fit:
            self._apply_fit()
        self.resized.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.mouse_handler is None or not self.mouse_handler.mouse(self, event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.mouse_handler is None or not self.mouse_handler.mouse(self, event):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.mouse_handler is None or not self.mouse_handler.mouse(self, event):
            super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        if self.mouse_handler is not None:
            self.mouse_handler.left(self)

    # -- syncing -------------------------------------------------------------------------
    def _user_scrolled(self) -> None:
        if not self._syncing:
            self.viewChanged.emit()

    def follow(self, other: ImagePane) -> None:
        """Take ``other``'s zoom and centre without announcing it (no feedback loop)."""
        self._syncing = True
        try:
            self._fit = other.fit_mode
            if self._fit:
                self._apply_fit()
            else:
                self.setTransform(other.transform())
                self.centerOn(other.view_centre())
        finally:
            self._syncing = False


class MouseHandler(Protocol):
    """What ``ImagePane.mouse_handler`` is asked."""

    def mouse(self, pane: ImagePane, event: QMouseEvent) -> bool: ...

    def left(self, pane: ImagePane) -> None: ...


def whole_device_pixels(logical: int | float, dpr: float) -> int:
    """The whole device pixels in ``logical`` pixels at device-pixel ratio ``dpr`` (at least
    1; a hair of float error, 1e-9, does not lose a pixel)."""
    return max(1, math.floor(logical * dpr + 1e-9))


def pixel_exact_fit(
    picture: tuple[int, int], photo: tuple[int, int], view: tuple[float, float]
) -> tuple[float, float] | None:
    """The (x, y) device pixels per photo pixel that show ``picture`` (width, height), standing
    for the whole ``photo``, pixel for pixel in a ``view`` of that many device pixels, when the
    picture is the photo fitted into the view (each side within a pixel's rounding of the fit,
    and inside the view); else None. The two scales differ by that rounding only (< 1 pixel
    over the picture's side), which no one sees; equal scales would resample every pixel."""
    (pw, ph), (width, height), (vw, vh) = picture, photo, view
    fit = min(vw / width, vh / height)
    if pw > vw + 1e-6 or ph > vh + 1e-6:
        return None
    if abs(pw - width * fit) > 1 or abs(ph - height * fit) > 1:
        return None
    return pw / width, ph / height


class ViewSync:
    """Keeps a group of panes at the same zoom and centre: whichever the user moves leads."""

    def __init__(self, panes: list[ImagePane]) -> None:
        self.panes = panes
        self._busy = False
        for pane in panes:
            pane.viewChanged.connect(lambda p=pane: self._lead(p))

    def _lead(self, leader: ImagePane) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for pane in self.panes:
                if pane is not leader:
                    pane.follow(leader)
        finally:
            self._busy = False

    def fit_all(self) -> None:
        self.panes[0].fit_to_window()

    def actual_size_all(self) -> None:
        self.panes[0].zoom_actual_size()

    def zoom_all(self, factor: float) -> None:
        self.panes[0].zoom_by(factor)
