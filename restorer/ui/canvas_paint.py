"""Drawing the canvas's content: the exposed part of one display-pyramid level and its bool overlays (QPainter)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QPainter

from restorer.ui.convert import MaskPyramid, OverlayCache, RgbPyramid, argb_qimage, overlay_argb


@dataclass
class Overlay:
    """A bool layer drawn in one colour over the photo."""

    cache: OverlayCache
    opacity: float
    visible: bool = True

    @property
    def pyramid(self) -> MaskPyramid:
        return self.cache.pyramid


def paint_photo(
    painter: QPainter,
    exposed: QRect,
    shown: RgbPyramid,
    overlays: Iterable[Overlay],
    scale: float,
    tx: float,
    ty: float,
    device_ratio: float,
) -> None:
    """Draw the part of ``shown`` and its visible overlays under ``exposed``, for a view whose image
    pixel (0, 0) is at widget (tx, ty) and ``scale`` widget pixels per image pixel."""
    # Device pixels, not logical ones: a 2x screen at fit needs the next finer level.
    level = shown.level_for_scale(scale * device_ratio)
    region = source_region(exposed, level, shown.levels[level].shape[:2], scale, tx, ty)
    if region is None:
        return
    (y0, x0, y1, x1), target = region
    if scale * device_ratio * (2**level) > 1.0:
        # Zoomed in: show hard pixels so the user sees exactly what they retouch.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    else:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    source = QRectF(x0, y0, x1 - x0, y1 - y0)
    painter.drawImage(target, shown.qimage(level), source)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
    for overlay in overlays:
        if overlay.visible and overlay.opacity > 0:
            paint_overlay(painter, overlay.cache, level, (y0, x0, y1, x1), target)


def paint_overlay(painter: QPainter, cache: OverlayCache, level: int, box: tuple[int, int, int, int], target: QRectF) -> None:
    """Draw the overlay's pixels in ``box`` of ``level`` (or its coarsest level) onto ``target``."""
    level = min(level, len(cache.pyramid.levels) - 1)
    y0, x0, y1, x1 = box
    argb = cache.cached(level)
    if argb is not None:
        painter.drawImage(target, argb_qimage(argb), QRectF(x0, y0, x1 - x0, y1 - y0))
        return
    # A level too big to keep coloured (level 0 of a big scan): colour just what shows.
    crop = cache.pyramid.levels[level][y0:y1, x0:x1]
    if crop.any():
        argb = overlay_argb(crop, cache.value)
        painter.drawImage(target, argb_qimage(argb))


def source_region(
    exposed: QRect, level: int, shape: tuple[int, int], scale: float, tx: float, ty: float
) -> tuple[tuple[int, int, int, int], QRectF] | None:
    """The level's pixel rows/columns under ``exposed`` and where they land on the widget."""
    f = 2**level
    s = scale * f  # screen pixels per level pixel
    lx0 = max(0, math.floor((exposed.left() - tx) / s))
    ly0 = max(0, math.floor((exposed.top() - ty) / s))
    lx1 = min(shape[1], math.ceil((exposed.right() + 1 - tx) / s))
    ly1 = min(shape[0], math.ceil((exposed.bottom() + 1 - ty) / s))
    if lx1 <= lx0 or ly1 <= ly0:
        return None
    target = QRectF(tx + lx0 * s, ty + ly0 * s, (lx1 - lx0) * s, (ly1 - ly0) * s)
    return (ly0, lx0, ly1, lx1), target
