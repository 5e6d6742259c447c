"""The app's icons, drawn with QPainter at run time (no image files to ship or license)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

SIZE = 64
INK = QColor(60, 60, 66)
ACCENT = QColor(220, 70, 60)


def _pen(width: float = 5, color: QColor = INK) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _open(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor(240, 200, 110))
    path = QPainterPath()
    path.moveTo(6, 16)
    path.lineTo(24, 16)
    path.lineTo(30, 22)
    path.lineTo(58, 22)
    path.lineTo(58, 52)
    path.lineTo(6, 52)
    path.closeSubpath()
    p.drawPath(path)


def _save(p: QPainter) -> None:
    p.setPen(_pen())
    p.setBrush(QColor(120, 160, 220))
    p.drawRoundedRect(QRectF(8, 8, 48, 48), 4, 4)
    p.setBrush(QColor(250, 250, 250))
    p.drawRect(QRectF(18, 8, 28, 16))
    p.drawRect(QRectF(16, 36, 32, 20))


def _arrow(p: QPainter, mirror: bool) -> None:
    if mirror:
        p.translate(SIZE, 0)
        p.scale(-1, 1)
    p.setPen(_pen(6))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath()
    path.moveTo(16, 26)
    path.lineTo(40, 26)
    path.cubicTo(60, 26, 60, 54, 40, 54)
    path.lineTo(26, 54)
    p.drawPath(path)
    p.setBrush(INK)
    p.drawPolygon(QPolygonF([QPointF(6, 26), QPointF(20, 14), QPointF(20, 38)]))


def _brush(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(QColor(170, 120, 80))
    p.save()
    p.translate(32, 32)
    p.rotate(45)
    p.drawRoundedRect(QRectF(-5, -30, 10, 34), 3, 3)
    p.setBrush(ACCENT)
    path = QPainterPath()
    path.moveTo(-8, 4)
    path.lineTo(8, 4)
    path.cubicTo(8, 20, 0, 26, 0, 30)
    path.cubicTo(0, 26, -8, 20, -8, 4)
    p.drawPath(path)
    p.restore()


def _eraser(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.save()
    p.translate(32, 32)
    p.rotate(-35)
    p.setBrush(QColor(240, 150, 170))
    p.drawRoundedRect(QRectF(-24, -10, 30, 20), 3, 3)
    p.setBrush(QColor(235, 235, 240))
    p.drawRoundedRect(QRectF(6, -10, 18, 20), 3, 3)
    p.restore()


def _fill(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(QColor(235, 235, 240))
    p.drawRect(QRectF(8, 8, 48, 48))
    p.setBrush(ACCENT)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QRectF(20, 20, 24, 24))
    p.setPen(_pen(4, QColor(255, 255, 255)))
    p.drawLine(QPointF(26, 32), QPointF(31, 37))
    p.drawLine(QPointF(31, 37), QPointF(39, 27))


def _edges(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(QColor(235, 235, 240))
    p.drawRect(QRectF(8, 8, 48, 48))
    p.setPen(_pen(4, QColor(40, 170, 220)))
    path = QPainterPath()
    path.moveTo(12, 44)
    path.cubicTo(24, 20, 36, 50, 52, 18)
    p.drawPath(path)


def _fit(p: QPainter) -> None:
    p.setPen(_pen(5))
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        cx, cy = 32 - sx * 22, 32 - sy * 22
        p.drawLine(QPointF(cx, cy), QPointF(cx + sx * 12, cy))
        p.drawLine(QPointF(cx, cy), QPointF(cx, cy + sy * 12))


def _compare(p: QPainter) -> None:
    p.setPen(_pen(4))
    p.setBrush(QColor(190, 160, 120))
    p.drawRect(QRectF(8, 10, 24, 44))
    p.setBrush(QColor(235, 215, 180))
    p.drawRect(QRectF(32, 10, 24, 44))
    p.setPen(_pen(5, ACCENT))
    p.drawLine(QPointF(32, 4), QPointF(32, 60))


def _dashed(width: float = 4) -> QPen:
    pen = _pen(width)
    pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def _rect_select(p: QPainter) -> None:
    p.setPen(_dashed())
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(QRectF(10, 14, 44, 36))


def _lasso(p: QPainter) -> None:
    p.setPen(_dashed())
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolygon(QPolygonF([QPointF(12, 20), QPointF(34, 8), QPointF(56, 22), QPointF(46, 50), QPointF(18, 44)]))


def _wand(p: QPainter) -> None:
    p.setPen(_pen(7))
    p.drawLine(QPointF(12, 54), QPointF(40, 26))
    p.setPen(_pen(4, ACCENT))
    for dx, dy in ((0, -12), (12, 0), (8, -8), (-8, -8), (8, 8)):
        p.drawLine(QPointF(46, 20), QPointF(46 + dx * 0.7, 20 + dy * 0.7))


def _app(p: QPainter) -> None:
    # A photo with a scratch half-healed: the app's purpose at a glance.
    p.setPen(_pen(3))
    p.setBrush(QColor(245, 240, 225))
    p.drawRoundedRect(QRectF(4, 8, 56, 48), 4, 4)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(110, 160, 210))
    p.drawRect(QRectF(8, 12, 48, 24))
    p.setBrush(QColor(90, 140, 80))
    mountains = QPolygonF([QPointF(8, 44), QPointF(24, 24), QPointF(36, 36), QPointF(44, 28), QPointF(56, 44), QPointF(56, 52), QPointF(8, 52)])
    p.drawPolygon(mountains)
    p.setPen(_pen(3, ACCENT))
    p.drawLine(QPointF(14, 18), QPointF(32, 46))
    pen = _pen(3, QColor(255, 255, 255, 160))
    pen.setStyle(Qt.PenStyle.DotLine)
    p.setPen(pen)
    p.drawLine(QPointF(32, 46), QPointF(50, 18))


_PAINTERS: dict[str, Callable[[QPainter], None]] = {
    "open": _open,
    "save": _save,
    "undo": lambda p: _arrow(p, False),
    "redo": lambda p: _arrow(p, True),
    "brush": _brush,
    "eraser": _eraser,
    "fill": _fill,
    "edges": _edges,
    "fit": _fit,
    "compare": _compare,
    "rect_select": _rect_select,
    "lasso": _lasso,
    "wand": _wand,
    "app": _app,
}


def pixmap(name: str, size: int = SIZE) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / SIZE, size / SIZE)
    _PAINTERS[name](p)
    p.end()
    return pm


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    result = QIcon()
    for size in (16, 24, 32, 64):
        result.addPixmap(pixmap(name, size))
    return result


def app_icon() -> QIcon:
    """The packaged app icon (the .desktop file's), when present; otherwise the drawn one."""
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller bundle: icons/ beside the programs
    folders = [Path(frozen) / "icons"] if frozen else []
    folders.append(Path(__file__).resolve().parents[2] / "packaging" / "icons")
    for folder in folders:
        png = folder / "restorer-256.png"
        if png.is_file():
            return QIcon(str(png))
    return icon("app")
