"""CanvasView: paints the photo's display pyramid with overlays, zooms and pans, and turns drags into strokes.

A custom QWidget (not QGraphicsView): each paint draws only the exposed part of one pyramid level,
so the cost follows the window size, not the photo size. Strokes go to a paint target (the
Document's mask, or the Edges mode's guide layer) through begin_stroke / paint / commit_stroke.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from restorer.ui.canvas_paint import Overlay, paint_photo
from restorer.ui.canvas_select import SELECT_TOOLS, SelectionGesture
from restorer.ui.convert import MaskPyramid, OverlayCache, RgbPyramid
from restorer.ui.display_tiles import PyramidTiles
from restorer.ui.paint_layer import PaintTarget

MIN_SCALE = 1 / 256
MAX_SCALE = 32.0
MIN_BRUSH, MAX_BRUSH = 1, 1000


class CanvasView(QWidget):
    """The photo view: zoom, pan, brush/eraser strokes, an outline cursor the size of the brush."""

    zoomChanged = Signal(float)
    cursorMoved = Signal(object)  # (x, y) image pixel under the cursor, or None
    strokeFinished = Signal()  # a stroke was committed (auto-fill listens)
    brushSizeChanged = Signal(int)
    toolChanged = Signal(str)
    selectionFinished = Signal(object)  # canvas_select.Selected: a rectangle, lasso or wand gesture ended

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        self.display: RgbPyramid | None = None
        self.alternate: RgbPyramid | None = None  # shown instead while "show original" is held
        self.overlays: dict[str, Overlay] = {}
        self.target: PaintTarget | None = None
        self.scale = 1.0
        self.tx = 0.0  # widget position of image pixel (0, 0)
        self.ty = 0.0
        self._fit_mode = True
        self._tool = "brush"
        self._brush = 24
        self._space = False
        self._pan_from: QPointF | None = None
        self._stroke_last: tuple[float, float] | None = None
        self._cursor: QPointF | None = None
        self._gesture = SelectionGesture()
        self.setCursor(Qt.CursorShape.CrossCursor)

    # --- content ---------------------------------------------------------------------------------
    def set_display(self, display: RgbPyramid | None) -> None:
        self.display = display
        self.alternate = None
        self._fit_mode = True
        self.fit()

    def set_overlay(self, name: str, layer: np.ndarray | MaskPyramid | None, color: QColor, opacity: float) -> None:
        """Show a bool layer (or its prebuilt pyramid) in ``color``; None removes the overlay."""
        if layer is None:
            self.overlays.pop(name, None)
        else:
            old = self.overlays.get(name)
            visible = old.visible if old else True
            pyramid = layer if isinstance(layer, MaskPyramid) else MaskPyramid(layer)
            self.overlays[name] = Overlay(OverlayCache(pyramid, color, opacity), opacity, visible)
        self.update()

    def set_overlay_visible(self, name: str, visible: bool) -> None:
        if name in self.overlays:
            self.overlays[name].visible = visible
            self.update()

    def set_overlay_opacity(self, name: str, opacity: float) -> None:
        if name in self.overlays:
            self.overlays[name].opacity = opacity
            self.overlays[name].cache.set_opacity(opacity)
            self.update()

    def overlay_changed(self, name: str, box: tuple[int, int, int, int] | None,
                        tiles: PyramidTiles | None = None) -> None:
        """The layer's level 0 changed inside ``box`` (None = everywhere): refresh and repaint that box.
        ``tiles`` made in a worker (ui/display_tiles.py) are swapped in instead, if made for this layer."""
        if name in self.overlays:
            cache = self.overlays[name].cache
            if tiles is not None and tiles.swap(cache.pyramid):
                cache.recolour(tiles.levels)
            else:
                cache.update(box)
            self.update_image_box(box)

    def photo_changed(self, pixels: np.ndarray, box: tuple[int, int, int, int] | None,
                      tiles: PyramidTiles | None = None) -> None:
        if self.display is not None:
            if tiles is None or not tiles.swap(self.display):
                self.display.refresh(pixels, box)
            self.update_image_box(box)

    def set_alternate(self, display: RgbPyramid | None) -> None:
        """Show ``display`` instead of the photo (hold-for-original); None returns to the photo."""
        self.alternate = display
        self.update()

    def update_image_box(self, box: tuple[int, int, int, int] | None) -> None:
        if box is None:
            self.update()
            return
        y0, x0, y1, x1 = box
        rect = QRectF(self.tx + x0 * self.scale, self.ty + y0 * self.scale, (x1 - x0) * self.scale, (y1 - y0) * self.scale)
        self.update(rect.toAlignedRect().adjusted(-2, -2, 2, 2))

    # --- tools -----------------------------------------------------------------------------------
    @property
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in ("brush", "eraser", *SELECT_TOOLS):
            raise ValueError(tool)
        if tool != self._tool:
            self._gesture.cancel()
            self.update()
            self._tool = tool
            self.toolChanged.emit(tool)
            self._update_cursor_outline(None)

    @property
    def brush_size(self) -> int:
        return self._brush

    def set_brush_size(self, size: int) -> None:
        size = int(max(MIN_BRUSH, min(MAX_BRUSH, size)))
        if size != self._brush:
            old = self._cursor_rect()
            self._brush = size
            self.update(old)
            self._update_cursor_outline(None)
            self.brushSizeChanged.emit(size)

    def step_brush(self, direction: int) -> None:
        """[ and ]: steps that feel even at any size (about 15 %, at least 1 px)."""
        step = max(1, round(self._brush * 0.15))
        self.set_brush_size(self._brush + direction * step)

    # --- geometry --------------------------------------------------------------------------------
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the photo, (0, 0) when none is open."""
        return self.display.shape if self.display is not None else (0, 0)

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self.tx) / self.scale, (pos.y() - self.ty) / self.scale)

    def _brush_point(self, pos: QPointF) -> tuple[float, float]:
        # core.mask puts pixel (r, c)'s centre at (x=c, y=r); on the widget pixel c spans [c, c + 1).
        x, y = self.widget_to_image(pos)
        return (x - 0.5, y - 0.5)

    def image_to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(self.tx + x * self.scale, self.ty + y * self.scale)

    def fit(self) -> None:
        h, w = self.image_size()
        self._fit_mode = True
        if not h:
            self.update()
            return
        scale = min(self.width() / w, self.height() / h)
        self._set_view(scale, (self.width() - w * scale) / 2, (self.height() - h * scale) / 2)

    def actual_size(self) -> None:
        """100 %: one photo pixel per screen pixel, keeping the centre of the view where it is."""
        self.zoom_at(1.0 / self.scale, QPointF(self.width() / 2, self.height() / 2))

    def zoom_at(self, factor: float, pos: QPointF) -> None:
        if self.display is None:
            return
        scale = max(MIN_SCALE, min(MAX_SCALE, self.scale * factor))
        # Keep the image point under ``pos`` fixed on screen.
        ix, iy = self.widget_to_image(pos)
        self._fit_mode = False
        self._set_view(scale, pos.x() - ix * scale, pos.y() - iy * scale)

    def pan_by(self, dx: float, dy: float) -> None:
        self._fit_mode = False
        self._set_view(self.scale, self.tx + dx, self.ty + dy)

    def _set_view(self, scale: float, tx: float, ty: float) -> None:
        changed = scale != self.scale
        self.scale, self.tx, self.ty = scale, tx, ty
        self.update()
        if changed:
            self.zoomChanged.emit(scale)

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, QColor(40, 40, 40))
        shown = self.alternate or self.display
        if shown is not None:
            paint_photo(painter, exposed, shown, self.overlays.values(), self.scale, self.tx, self.ty,
                        self.devicePixelRatioF())
        self._gesture.paint(painter, self.image_to_widget)
        self._paint_cursor(painter)
        painter.end()

    def _cursor_rect(self) -> QRect:
        if self._cursor is None:
            return QRect()
        r = self._brush * self.scale / 2 + 3
        c = self._cursor
        return QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect()

    def _paint_cursor(self, painter: QPainter) -> None:
        if self._cursor is None or self.display is None or self._panning_active() or self._tool in SELECT_TOOLS:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        fixed = getattr(self.target, "brush_radius", None) if self._tool == "brush" else None
        r = max(1.0, (self._brush / 2 if fixed is None else fixed) * self.scale)  # what a stroke will draw
        # Black then white: the outline reads on dark and light photos alike.
        for color, width in ((QColor(0, 0, 0, 200), 3), (QColor(255, 255, 255), 1)):
            pen = QPen(color, width)
            if self._tool == "eraser":
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawEllipse(self._cursor, r, r)

    def _update_cursor_outline(self, pos: QPointF | None) -> None:
        old = self._cursor_rect()
        if pos is not None:
            self._cursor = QPointF(pos)
        self.update(old.united(self._cursor_rect()))

    # --- input -----------------------------------------------------------------------------------
    def _panning_active(self) -> bool:
        return self._pan_from is not None or self._space

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # Shift+wheel scrolls sideways (Qt may already have turned the delta horizontal):
            # one notch moves a tenth of the view.
            self.pan_by(delta / 120 * self.width() / 10, 0)
            event.accept()
            return
        # 120 units is one notch: about 20 % per notch, smooth for touchpads sending small deltas.
        self.zoom_at(1.2 ** (delta / 120), event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Backspace and self._gesture.polygon_open:
            self._gesture.undo_point()
            self.update()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            self.update(self._cursor_rect())
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            if self._pan_from is None:
                self.setCursor(Qt.CursorShape.CrossCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self._tool in SELECT_TOOLS and self.display is not None:
            self._selected(self._gesture.press(self._tool, self._brush_point(pos), event.modifiers()))
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton and self.target is not None and self.display is not None:
            if self._stroke_last is not None:  # a press without a release (lost grab): close it first
                self._finish_stroke()
            p = self._brush_point(pos)
            self.target.begin_stroke(erase=self._tool == "eraser")
            self._stroke_last = p
            self.target.paint(p, p, self._brush / 2)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self.pan_by(d.x(), d.y())
            return
        self._update_cursor_outline(pos)
        if self.display is not None:
            x, y = self.widget_to_image(pos)
            h, w = self.image_size()
            self.cursorMoved.emit((int(x), int(y)) if 0 <= x < w and 0 <= y < h else None)
        if self._tool in SELECT_TOOLS:
            self._gesture.move(self._brush_point(pos), self.scale)
            if self._gesture.active:
                self.update()
        if self._stroke_last is not None and self.target is not None:
            p = self._brush_point(pos)
            self.target.paint(self._stroke_last, p, self._brush / 2)
            self._stroke_last = p

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.CrossCursor)
            return
        if event.button() == Qt.MouseButton.LeftButton and self._tool in SELECT_TOOLS:
            self._selected(self._gesture.release(self._brush_point(event.position()), event.modifiers(), self.scale))
            return
        if event.button() == Qt.MouseButton.LeftButton and self._stroke_last is not None:
            self._finish_stroke()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._tool == "lasso" and event.button() == Qt.MouseButton.LeftButton:
            self._selected(self._gesture.close(event.modifiers()))  # the double-click closes the polygon
            return
        super().mouseDoubleClickEvent(event)

    def _selected(self, selected: object) -> None:
        self.update()
        if selected is not None:
            self.selectionFinished.emit(selected)

    def finish_polygon(self) -> bool:
        """Enter: close a polygon lasso in progress; False when there is none."""
        if not self._gesture.polygon_open:
            return False
        self._selected(self._gesture.close())
        if self._gesture.active:  # under 3 points: nothing to close
            self._gesture.cancel()
        return True

    def _finish_stroke(self) -> None:
        self._stroke_last = None
        if self.target is not None:
            self.target.commit_stroke()
            self.strokeFinished.emit()

    def abort_stroke(self) -> None:
        """Drop a stroke in progress (Esc, or the document is replaced mid-drag)."""
        if self._gesture.active:
            self._gesture.cancel()
            self.update()
        if self._stroke_last is not None:
            self._stroke_last = None
            if self.target is not None:
                self.target.abort_stroke()

    @property
    def stroking(self) -> bool:
        """A drag (or a selection gesture) is in progress."""
        return self._stroke_last is not None or self._gesture.active

    def leaveEvent(self, event: object) -> None:
        old = self._cursor_rect()
        self._cursor = None
        self.update(old)
        self.cursorMoved.emit(None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)
