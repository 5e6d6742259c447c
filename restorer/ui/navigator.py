"""NavigatorPanel: an overview of the whole photo with the part the canvas shows; click or drag to go there.

It paints the display pyramid's smallest level (a few hundred pixels, whatever the scan's size)
and follows the canvas by repainting whenever the canvas paints, so pans, zooms and fills show
without any signal wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QDockWidget, QSizePolicy, QWidget

if TYPE_CHECKING:
    from restorer.ui.canvas import CanvasView


class NavigatorPanel(QWidget):
    """The overview; ``image_rect`` is where the photo is drawn in the panel."""

    def __init__(self, canvas: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("The whole photo; the frame is what the canvas shows. Click or drag to move there.")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        canvas.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Paint and self.isVisible():
            self.update()
        return False

    def image_rect(self) -> QRectF:
        h, w = self.canvas.image_size()
        if not h:
            return QRectF()
        s = min((self.width() - 8) / w, (self.height() - 8) / h)
        return QRectF((self.width() - w * s) / 2, (self.height() - h * s) / 2, w * s, h * s)

    def visible_rect(self) -> QRectF:
        """The part of the photo the canvas shows, in photo pixels (may reach past the photo)."""
        c = self.canvas
        x0, y0 = c.widget_to_image(QPointF(0, 0))
        x1, y1 = c.widget_to_image(QPointF(c.width(), c.height()))
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        display = self.canvas.display
        target = self.image_rect()
        if display is None or target.isEmpty():
            painter.end()
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, display.qimage(len(display.levels) - 1))
        s = target.width() / self.canvas.image_size()[1]
        view = self.visible_rect()
        frame = QRectF(target.x() + view.x() * s, target.y() + view.y() * s, view.width() * s, view.height() * s)
        painter.setClipRect(target.adjusted(-1, -1, 1, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for color, width in ((QColor(0, 0, 0, 180), 3), (QColor(255, 80, 60), 1)):
            painter.setPen(QPen(color, width))
            painter.drawRect(frame)
        painter.end()

    def _go(self, pos: QPointF) -> None:
        target = self.image_rect()
        if target.isEmpty():
            return
        c = self.canvas
        s = target.width() / c.image_size()[1]
        spot = c.image_to_widget((pos.x() - target.x()) / s, (pos.y() - target.y()) / s)
        c.pan_by(c.width() / 2 - spot.x(), c.height() / 2 - spot.y())  # that photo point to the centre

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._go(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())


def navigator_dock(canvas: CanvasView, parent: QWidget) -> tuple[NavigatorPanel, QDockWidget]:
    """The Navigator panel in its dock (the window puts it under the History panel, its toggle in View)."""
    panel = NavigatorPanel(canvas)
    dock = QDockWidget("Navigator", parent)
    dock.setObjectName("navigator")
    dock.setWidget(panel)
    return panel, dock
