"""The comparison view: before/after of two same-size images as a split, either side, or their difference.

Public API::

    view = CompareView(parent=None, max_side=2048)
    view.set_pair(before, after, title="", difference=None)
        # before/after: photo arrays (H x W x C, uint8 or uint16; the view makes its own 8-bit
        # display copies no larger than max_side) or QImages; the same height and width.
        # difference: optional uint8 change map (0 = unchanged), e.g. from document_pair(), when
        # it was computed at full resolution; otherwise the view computes it from the inputs.
    view.set_comparison(pair)            # a comparison_images.ComparisonPair (document_pair/step_pair)
    view.clear()
    view.set_mode('split' | 'after' | 'before' | 'difference'); view.mode() -> str
    view.set_divider(fraction 0..1); view.divider() -> float    # split position, 0 = all "after"
    view.show_before(held: bool)         # hold-to-see-original: wire the main window's key to it
    view.modeChanged: Signal(str); view.dividerMoved: Signal(float)
    view.image_rect() -> QRect           # where the image is drawn, in widget coordinates

Split mode: the left part shows "before", the right part "after"; drag anywhere on the image with
the left button to move the divider, or use Left/Right (Shift: bigger steps), Home and End.
Difference mode: black where the pixels are equal, dark red to yellow to white as the change
grows (amplified so that a one-level change still shows). The image is fitted to the widget
with its aspect kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from restorer.core.comparison import DISPLAY_MAX_SIDE, ComparisonPair, fit_size
from restorer.core.difference_maps import difference_map, heat_colours, resize_levels
from restorer.ui.comparison_images import display_copy
from restorer.ui.convert import qimage_to_rgb8, rgb8_to_qimage

MODES = ("split", "after", "before", "difference")
_KEY_STEP = 0.02
_KEY_BIG_STEP = 0.1
_GRAB_PX = 6  # how close (px) to the divider the cursor turns into a split cursor


def _as_array(image: np.ndarray | QImage) -> np.ndarray:
    if isinstance(image, QImage):
        return qimage_to_rgb8(image)
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an H x W x C image, got shape {arr.shape}")
    return arr[:, :, :3] if arr.shape[2] == 4 else arr


class CompareView(QWidget):
    """Shows a before/after pair; see the module docstring for the API."""

    modeChanged = Signal(str)
    dividerMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None, *, max_side: int = DISPLAY_MAX_SIDE) -> None:
        super().__init__(parent)
        self.setObjectName("CompareView")
        self.setAccessibleName("Before and after comparison")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._max_side = max_side
        self._mode = "split"
        self._divider = 0.5
        self._holding_before = False
        self._dragging = False
        self._title = ""
        self._note = ""
        self._images: dict[str, QImage] = {}  # 'before' | 'after' | 'difference' at display size
        self._scaled: dict[str, QPixmap] = {}  # the same, scaled to image_rect(); rebuilt on resize
        self._scaled_size = QSize()

    # --- content -----------------------------------------------------------------------------

    def set_pair(
        self,
        before: np.ndarray | QImage,
        after: np.ndarray | QImage,
        title: str = "",
        difference: np.ndarray | None = None,
        icc: bytes | None = None,
    ) -> None:
        """Show before against after (same height and width). See the module docstring. ``icc``:
        the photo arrays' profile, converted for the screen as the canvas shows them."""
        b, a = _as_array(before), _as_array(after)
        if b.shape[:2] != a.shape[:2]:
            raise ValueError(f"before is {b.shape[1]}x{b.shape[0]} but after is {a.shape[1]}x{a.shape[0]}")
        size = fit_size(b.shape[0], b.shape[1], self._max_side)
        if difference is None:
            if b.shape != a.shape or b.dtype != a.dtype:
                b8, a8 = display_copy(b, max(b.shape[:2])), display_copy(a, max(a.shape[:2]))
                difference = difference_map(b8, a8, size)
            else:
                difference = difference_map(b, a, size)
        self._images = {
            "before": rgb8_to_qimage(display_copy(b, self._max_side, icc)),
            "after": rgb8_to_qimage(display_copy(a, self._max_side, icc)),
            "difference": rgb8_to_qimage(heat_colours(resize_levels(difference, size))),
        }
        self._title = title
        self._note = ""
        self._scaled.clear()
        self.setAccessibleDescription(title)
        self.update()

    def set_comparison(self, pair: ComparisonPair) -> None:
        """Show a ComparisonPair from restorer.ui.comparison_images (document_pair, step_pair)."""
        self.set_pair(pair.before, pair.after, pair.title, pair.difference, pair.icc)
        self._note = pair.note

    def clear(self) -> None:
        self._images = {}
        self._scaled.clear()
        self._title = self._note = ""
        self.update()

    def has_pair(self) -> bool:
        return bool(self._images)

    def title(self) -> str:
        return self._title

    # --- mode and divider --------------------------------------------------------------------

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown comparison mode {mode!r}; expected one of {', '.join(MODES)}")
        if mode != self._mode:
            self._mode = mode
            self._dragging = False
            self.update()
            self.modeChanged.emit(mode)

    def divider(self) -> float:
        return self._divider

    def set_divider(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._divider:
            self._divider = fraction
            self.update()
            self.dividerMoved.emit(fraction)

    def show_before(self, held: bool) -> None:
        """While held is True the whole image shows "before" (whatever the mode)."""
        if held != self._holding_before:
            self._holding_before = held
            self.update()

    def showing_before(self) -> bool:
        return self._holding_before

    # --- geometry ----------------------------------------------------------------------------

    def image_rect(self) -> QRect:
        """The widget rectangle the image is drawn in (aspect kept, centred); empty without a pair."""
        img = self._images.get("before")
        area = self.contentsRect().adjusted(4, 4, -4, -4)
        if img is None or area.width() <= 0 or area.height() <= 0:
            return QRect()
        scale = min(area.width() / img.width(), area.height() / img.height())
        w, h = max(1, round(img.width() * scale)), max(1, round(img.height() * scale))
        return QRect(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h)

    def _divider_x(self, rect: QRect) -> int:
        return rect.x() + round(self._divider * rect.width())

    def _fraction_at(self, x: float) -> float:
        rect = self.image_rect()
        return 0.0 if rect.width() <= 0 else (x - rect.x()) / rect.width()

    # --- painting ----------------------------------------------------------------------------

    def _pixmap(self, name: str, rect: QRect) -> QPixmap:
        if self._scaled_size != rect.size():
            self._scaled.clear()
            self._scaled_size = rect.size()
        if name not in self._scaled:
            img = self._images[name]
            # Smooth when shrinking; when enlarging a small step region keep its pixels crisp.
            smooth = rect.width() < img.width()
            mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
            scaled = img.scaled(rect.size(), Qt.AspectRatioMode.IgnoreAspectRatio, mode)
            self._scaled[name] = QPixmap.fromImage(scaled)
        return self._scaled[name]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().dark())
        rect = self.image_rect()
        if rect.isEmpty():
            painter.setPen(self.palette().brightText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing to compare")
            return
        mode = "before" if self._holding_before else self._mode
        if mode == "split":
            x = self._divider_x(rect)
            left = QRect(rect.x(), rect.y(), x - rect.x(), rect.height())
            right = QRect(x, rect.y(), rect.right() + 1 - x, rect.height())
            if left.width() > 0:
                painter.drawPixmap(left, self._pixmap("before", rect), left.translated(-rect.topLeft()))
            if right.width() > 0:
                painter.drawPixmap(right, self._pixmap("after", rect), right.translated(-rect.topLeft()))
            self._paint_divider(painter, rect, x)
            self._paint_tag(painter, rect, "Before", Qt.AlignmentFlag.AlignLeft)
            self._paint_tag(painter, rect, "After", Qt.AlignmentFlag.AlignRight)
        else:
            painter.drawPixmap(rect, self._pixmap(mode, rect))
            self._paint_tag(painter, rect, mode.capitalize(), Qt.AlignmentFlag.AlignLeft)
        if self._title or self._note:
            text = f"{self._title} - {self._note}" if self._title and self._note else self._title or self._note
            self._paint_tag(painter, rect, text, Qt.AlignmentFlag.AlignHCenter, bottom=True)

    def _paint_divider(self, painter: QPainter, rect: QRect, x: int) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.setPen(QPen(QColor(0, 0, 0, 160), 1))
        painter.drawEllipse(QPointF(x, rect.center().y()), 7, 7)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_tag(
        self, painter: QPainter, rect: QRect, text: str, align: Qt.AlignmentFlag, bottom: bool = False
    ) -> None:
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
        if w > rect.width() or 2 * h > rect.height():
            return  # too small to label without covering the picture
        y = rect.bottom() - h - 4 if bottom else rect.top() + 4
        if align == Qt.AlignmentFlag.AlignLeft:
            x = rect.left() + 4
        elif align == Qt.AlignmentFlag.AlignRight:
            x = rect.right() - w - 4
        else:
            x = rect.center().x() - w // 2
        box = QRectF(x, y, w, h)
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._scaled.clear()
        super().resizeEvent(event)

    # --- input -------------------------------------------------------------------------------

    def _splitting(self) -> bool:
        return self._mode == "split" and not self._holding_before and self.has_pair()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._splitting():
            rect = self.image_rect()
            if rect.adjusted(-_GRAB_PX, 0, _GRAB_PX, 0).contains(event.position().toPoint()):
                self._dragging = True
                self.set_divider(self._fraction_at(event.position().x()))
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self.set_divider(self._fraction_at(event.position().x()))
            event.accept()
            return
        near = False
        if self._splitting():
            rect = self.image_rect()
            near = abs(event.position().x() - self._divider_x(rect)) <= _GRAB_PX and rect.contains(
                event.position().toPoint()
            )
        self.setCursor(Qt.CursorShape.SplitHCursor if near else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._splitting():
            step = _KEY_BIG_STEP if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else _KEY_STEP
            moves: dict[Any, float] = {
                Qt.Key.Key_Left: self._divider - step,
                Qt.Key.Key_Right: self._divider + step,
                Qt.Key.Key_Home: 0.0,
                Qt.Key.Key_End: 1.0,
            }
            if event.key() in moves:
                self.set_divider(moves[event.key()])
                event.accept()
                return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._dragging = False
        super().focusOutEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(640, 480)
