"""The selection tools' gestures on the canvas: a rectangle drag, a lasso (freehand drag, or points
clicked one by one), a magic-wand click; and the outline drawn while one is in progress.

Points are in photo pixel-centre coordinates (``restorer.core.mask``'s convention). What a finished
gesture selects is computed by the selection controller (restorer.ui.selection) with core.mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

SELECT_TOOLS = ("rectangle", "lasso", "wand")
CLOSE_PX = 8.0  # screen pixels: a click this near the first lasso point closes the polygon
DRAG_PX = 3.0  # screen pixels a press must move to count as a drag, not a click


@dataclass(frozen=True)
class Selected:
    """A finished gesture: ``tool`` and its points, and whether it takes away from the mask."""

    tool: str
    points: tuple[tuple[float, float], ...]
    subtract: bool


def subtracting(modifiers: Qt.KeyboardModifier) -> bool:
    """Alt (Photoshop) or Ctrl (GIMP) held: the selection is taken away from the mask."""
    return bool(modifiers & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ControlModifier))


class SelectionGesture:
    """One gesture in progress; the canvas forwards presses, moves, releases and keys to it."""

    def __init__(self) -> None:
        self.tool = ""
        self.points: list[tuple[float, float]] = []
        self.hover: tuple[float, float] | None = None
        self._pressed: tuple[float, float] | None = None
        self._dragged = False
        self._polygon = False  # lasso points clicked one by one

    @property
    def active(self) -> bool:
        return bool(self.points)

    @property
    def polygon_open(self) -> bool:
        return self._polygon and bool(self.points)

    def cancel(self) -> None:
        self.points, self.hover, self._pressed, self._dragged, self._polygon = [], None, None, False, False

    def press(self, tool: str, p: tuple[float, float], modifiers: Qt.KeyboardModifier) -> Selected | None:
        if tool == "wand":
            return Selected("wand", (p,), subtracting(modifiers))
        if self.tool != tool:
            self.cancel()
        self.tool = tool
        self._pressed, self._dragged = p, False
        if not self._polygon:
            self.points = [p]
        return None

    def move(self, p: tuple[float, float], scale: float) -> None:
        self.hover = p
        if self._pressed is None:
            return
        if not self._dragged and math.dist(p, self._pressed) * scale >= DRAG_PX:
            self._dragged = True
        if not self._dragged:
            return
        if self.tool == "rectangle":
            self.points = [self.points[0], p]
        elif self.tool == "lasso" and not self._polygon:
            self.points.append(p)

    def release(self, p: tuple[float, float], modifiers: Qt.KeyboardModifier, scale: float) -> Selected | None:
        if self._pressed is None:
            return None
        self._pressed = None
        sub = subtracting(modifiers)
        if self.tool == "rectangle":
            if not self._dragged:
                self.cancel()
                return None
            return self._finish(Selected("rectangle", (self.points[0], p), sub))
        if self._dragged and not self._polygon:  # freehand lasso: closed on release
            self.points.append(p)
            return self._finish(Selected("lasso", tuple(self.points), sub))
        # A click: a point of the polygon lasso; near the first point it closes it.
        if self._polygon and len(self.points) >= 3 and math.dist(p, self.points[0]) * scale <= CLOSE_PX:
            return self.close(modifiers)
        if not self._polygon:
            self._polygon = True
            self.points = [p]
        elif self.points[-1] != p:
            self.points.append(p)
        return None

    def close(self, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> Selected | None:
        """Enter or a double-click: close the polygon lasso (None when it has under 3 points)."""
        if not self.polygon_open or len(self.points) < 3:
            return None
        return self._finish(Selected("lasso", tuple(self.points), subtracting(modifiers)))

    def undo_point(self) -> None:
        """Backspace: drop the newest polygon point."""
        if self.polygon_open:
            self.points.pop()
            if not self.points:
                self.cancel()

    def _finish(self, selected: Selected) -> Selected:
        self.cancel()
        return selected

    def paint(self, painter: QPainter, to_widget: object) -> None:
        """The outline in progress: marching-ants style, black dashes over white."""
        if not self.points:
            return
        pts = [to_widget(x + 0.5, y + 0.5) for x, y in self.points]  # type: ignore[operator]
        if self.tool == "rectangle" and len(pts) == 2:
            a, b = pts
            shape = QPolygonF([a, QPointF(b.x(), a.y()), b, QPointF(a.x(), b.y()), a])
        else:
            if self.polygon_open and self.hover is not None:
                pts.append(to_widget(self.hover[0] + 0.5, self.hover[1] + 0.5))  # type: ignore[operator]
            shape = QPolygonF(pts + ([pts[0]] if not self.polygon_open else []))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawPolyline(shape)
        dashes = QPen(QColor(0, 0, 0), 1, Qt.PenStyle.DashLine)
        painter.setPen(dashes)
        painter.drawPolyline(shape)
