"""The mouse side of the correction tools: strokes and clicks on the panes, and the brush outline.

``BrushInput`` is the panes' mouse handler (``ImagePane.mouse_handler``). With a brush tool a
left drag paints (the stroke's points in photo pixels: a pane's scene is measured in them,
whatever the zoom), with the Subject tool a click chooses (Shift adds). The brush outline is a
circle item in every pane's scene at the mouse's photo position, so all three panes show where
the brush is; its radius is the tool's on-screen size divided by the zoom, so it looks the same
at any zoom while the stroke is computed at the photo's full resolution.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QImage, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPixmapItem, QGraphicsView

from petseg_gui.ui.image_view import ImagePane
from petseg_gui.ui.tools import MatteTools, Tool


class _Outline:
    """A two-tone circle (dark under light) that stays visible on any photo."""

    def __init__(self, pane: ImagePane) -> None:
        self.items = []
        for colour, width in ((QColor(0, 0, 0, 170), 3), (QColor(255, 255, 255, 230), 1)):
            item = QGraphicsEllipseItem()
            pen = QPen(colour, width)
            pen.setCosmetic(True)  # the same line width at every zoom
            item.setPen(pen)
            item.setZValue(10)
            item.setVisible(False)
            pane.scene().addItem(item)
            self.items.append(item)

    def place(self, centre: QPointF, radius: float, visible: bool) -> None:
        for item in self.items:
            item.setRect(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
            item.setVisible(visible)


class BrushInput(QObject):
    """Feeds mouse events on ``panes`` to ``tools`` and draws the brush outline."""

    def __init__(self, tools: MatteTools, panes: list[ImagePane], parent=None) -> None:
        super().__init__(parent)
        self.tools = tools
        self.panes = panes
        self._outlines = [_Outline(pane) for pane in panes]
        self._last: tuple[ImagePane, QPointF] | None = None  # pane and scene point under mouse
        self._painting: ImagePane | None = None
        for pane in panes:
            pane.mouse_handler = self
            pane.viewport().setMouseTracking(True)
        tools.toolChanged.connect(self._tool_changed)
        tools.radiusChanged.connect(lambda _r: self._update_outline())
        tools.busyChanged.connect(lambda _b: self._tool_changed(tools.tool))

    # -- tool and cursor -------------------------------------------------------------------
    def _tool_changed(self, tool: Tool) -> None:
        viewing = tool is Tool.VIEW
        if tool is Tool.SUBJECT:
            shape = (
                Qt.CursorShape.BusyCursor
                if self.tools.pending
                else Qt.CursorShape.PointingHandCursor
            )
        else:
            shape = Qt.CursorShape.CrossCursor
        for pane in self.panes:
            pane.setDragMode(
                QGraphicsView.DragMode.ScrollHandDrag if viewing else QGraphicsView.DragMode.NoDrag
            )
            if viewing:
                pane.viewport().unsetCursor()
            else:
                pane.viewport().setCursor(QCursor(shape))
        self._update_outline()

    def radius_on(self, pane: ImagePane) -> float:
        """The brush radius in photo pixels at ``pane``'s zoom."""
        return self.tools.radius / max(pane.scale_factor(), 1e-6)

    def _update_outline(self) -> None:
        brush = self.tools.tool in (Tool.ADD, Tool.REMOVE)
        if self._last is None:
            for outline in self._outlines:
                outline.place(QPointF(), 0, False)
            return
        pane, point = self._last
        radius = self.radius_on(pane)
        for outline in self._outlines:
            outline.place(point, radius, brush)

    # -- events ----------------------------------------------------------------------------
    def left(self, pane: ImagePane) -> None:
        if self._painting is None:
            self._last = None
            self._update_outline()

    def mouse(self, pane: ImagePane, event) -> bool:
        """A press, move or release on ``pane``'s viewport: True when the tools used it (the
        pane then does not pan or pass it on)."""
        kind = event.type()
        point = pane.mapToScene(event.position().toPoint())
        self._last = (pane, point)
        tool = self.tools.tool
        if tool is Tool.VIEW:
            return False
        self._update_outline()
        # Photo pixel centres are at integer coordinates; the scene's pixel i spans [i, i + 1).
        x, y = point.x() - 0.5, point.y() - 0.5
        left = event.button() == Qt.MouseButton.LeftButton
        if kind == QEvent.Type.MouseButtonPress and left:
            if tool is Tool.SUBJECT:
                add = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self.tools.click(x, y, add=add)
            else:
                self._painting = pane
                self.tools.begin_stroke(x, y, self.radius_on(pane))
            return True
        if kind == QEvent.Type.MouseMove and self._painting is not None:
            self.tools.extend_stroke(x, y)
            return True
        if kind == QEvent.Type.MouseButtonRelease and left and self._painting is not None:
            self.tools.extend_stroke(x, y)
            self._painting = None
            self.tools.end_stroke()
            return True
        return kind != QEvent.Type.MouseMove  # keep hover moves for the panes' own use


class LiveLayer(QObject):
    """While painting: the painted trimap rectangles as small pictures over the trimap pane, and
    the live portrait preview over the result pane, until the panes show the corrected matte.
    Small items keep each mouse move's repaint to the brush's neighbourhood."""

    def __init__(self, tools: MatteTools, trimap: ImagePane, result: ImagePane, parent=None):
        super().__init__(parent)
        self._trimap, self._result = trimap, result
        self._patches: list[QGraphicsPixmapItem] = []
        self._portrait: QGraphicsPixmapItem | None = None
        tools.livePatch.connect(self._patch)
        tools.livePortrait.connect(self._show_portrait)
        tools.liveTrimapDone.connect(self._drop_patches)
        tools.livePortraitDone.connect(self._drop_portrait)

    def _patch(self, image: QImage, rect: QRectF) -> None:
        item = QGraphicsPixmapItem(QPixmap.fromImage(image))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setTransform(
            QTransform.fromScale(rect.width() / image.width(), rect.height() / image.height())
        )
        item.setPos(rect.topLeft())
        item.setZValue(5)  # over the picture, under the brush outline
        self._trimap.scene().addItem(item)
        self._patches.append(item)

    def _show_portrait(self, image: QImage) -> None:
        size = self._result.sceneRect().size()
        if self._portrait is None:
            self._portrait = QGraphicsPixmapItem()
            self._portrait.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self._portrait.setZValue(5)
            self._result.scene().addItem(self._portrait)
        self._portrait.setPixmap(QPixmap.fromImage(image))
        self._portrait.setTransform(
            QTransform.fromScale(size.width() / image.width(), size.height() / image.height())
        )

    def _drop_patches(self) -> None:
        for item in self._patches:
            self._trimap.scene().removeItem(item)
        self._patches.clear()

    def _drop_portrait(self) -> None:
        if self._portrait is not None:
            self._result.scene().removeItem(self._portrait)
            self._portrait = None
