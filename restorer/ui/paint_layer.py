"""PaintLayer: a bool H x W layer the canvas paints into (same calls as the Document's mask), with its
own undo and redo stroke by stroke: the sampling area is one. (Edges mode's guide lines are the
Document's own layers, so their strokes are history steps: ui/edges.py GuideLayer.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from restorer.core import mask as masks
from restorer.core.box import BBox


class PaintTarget(Protocol):
    """What a drag paints into: Document (the mask), the guide lines (ui/edges.py), a PaintLayer (sampling area) or the proposals."""

    def begin_stroke(self, erase: bool = False) -> None: ...
    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> object: ...
    def commit_stroke(self, label: str | None = None) -> object: ...
    def abort_stroke(self) -> None: ...


class PaintLayer:
    """Strokes paint (or erase) ``pixels``; each committed stroke is one undo step, kept here."""

    # The radius the brush (not the eraser) draws with, whatever its size; None = the brush's own.
    # The canvas draws its cursor at this size too, so what is shown is what is drawn.
    brush_radius: float | None = None

    def __init__(self, shape: tuple[int, int], on_change: Callable[[BBox | None], object]) -> None:
        self.pixels = np.zeros(shape, dtype=np.bool_)
        self._on_change = on_change
        self._erase = False
        self._before: np.ndarray | None = None
        self._box: BBox | None = None
        self._undo: list[tuple[BBox, np.ndarray]] = []  # (box, the pixels before the stroke)
        self._redo: list[tuple[BBox, np.ndarray]] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def begin_stroke(self, erase: bool = False) -> None:
        self._erase = erase
        self._before = self.pixels.copy()
        self._box = None

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        r = radius if self._erase or self.brush_radius is None else self.brush_radius
        box = masks.segment(self.pixels, p0, p1, r, value=not self._erase)
        if box is not None:
            self._box = box if self._box is None else self._box.union(box)
            self._on_change(box)
        return box

    def commit_stroke(self, label: str | None = None) -> BBox | None:
        if self._before is not None and self._box is not None:
            self._undo.append((self._box, self._before[self._box.slices].copy()))
            self._redo.clear()
        self._before = None
        return self._box

    def abort_stroke(self) -> None:
        if self._before is not None and self._box is not None:
            self.pixels[self._box.slices] = self._before[self._box.slices]
            self._on_change(self._box)
        self._before = None

    def _swap(self, source: list[tuple[BBox, np.ndarray]], dest: list[tuple[BBox, np.ndarray]]) -> bool:
        if not source:
            return False
        box, pixels = source.pop()
        dest.append((box, self.pixels[box.slices].copy()))
        self.pixels[box.slices] = pixels
        self._on_change(box)
        return True

    def undo(self) -> bool:
        return self._swap(self._undo, self._redo)

    def redo(self) -> bool:
        return self._swap(self._redo, self._undo)

    def clear(self) -> None:
        """Empty the layer as one undoable step."""
        if self.pixels.any():
            self._undo.append((BBox(0, 0, *self.pixels.shape), self.pixels.copy()))
            self._redo.clear()
            self.pixels[:] = False
            self._on_change(None)

    def forget_history(self) -> None:
        self._undo.clear()
        self._redo.clear()
