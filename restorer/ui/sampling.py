"""Sampling area: where patch synthesis may copy from ("copy from here"), or where it must never
copy from ("never copy from here"), painted with the brush like the mask and undoable stroke by stroke.

The area goes to the fill as EngineOptions.sample_area / sample_mode; models that do not copy
patches (diffusion, learned) ignore it, and the status bar says so.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from restorer.core.box import BBox
from restorer.ui.canvas import CanvasView
from restorer.ui.paint_layer import PaintLayer
from restorer.ui.session import DocumentSession

ALLOW_COLOR = QColor(60, 220, 90)
DENY_COLOR = QColor(250, 170, 30)
OPACITY = 0.4


class SamplingLayer(PaintLayer):
    """The sampling area: a paint layer with its own undo and redo."""

    @property
    def area(self) -> np.ndarray:
        return self.pixels


class SamplingController(QObject):
    """Sampling-area mode: the brush paints the area; undo/redo act on it while the mode is on.

    Drives the canvas's "sampling" overlay and paint target. The mode's toggle belongs to whoever
    wires it: ``leaveRequested`` asks it to switch off; ``entering`` comes just before the mode
    takes the canvas (another mode that owns it leaves first).
    """

    enabledChanged = Signal(bool)
    entering = Signal()
    leaveRequested = Signal()

    def __init__(self, session: DocumentSession, canvas: CanvasView) -> None:
        super().__init__(session)
        self.session = session
        self.canvas = canvas
        self.layer: SamplingLayer | None = None
        self.enabled = False
        self.mode = "allow"

    def set_enabled(self, on: bool) -> None:
        doc = self.session.document
        if on:
            if doc is None:
                self.session.show_status("Open a photo first")
                self.leaveRequested.emit()
                return
            self.entering.emit()
            if self.layer is None or self.layer.area.shape != doc.shape:
                self.layer = SamplingLayer(doc.shape, self._changed)
                self.canvas.set_overlay("sampling", self.layer.area, self._color(), OPACITY)
            self.canvas.set_overlay_visible("sampling", True)
            self.canvas.target = self.layer
            self.enabled = True
            self.session.show_status(self._hint())
        else:
            self.enabled = False
            if self.layer is not None and not self.layer.area.any():
                self.canvas.set_overlay_visible("sampling", False)
            if self.canvas.target is self.layer:
                self.canvas.target = doc
        self.enabledChanged.emit(self.enabled)

    def set_never(self, never: bool) -> None:
        """Paint where never to copy from (True) or where to copy from (False)."""
        self.mode = "deny" if never else "allow"
        if self.layer is not None:
            self.canvas.set_overlay("sampling", self.layer.area, self._color(), OPACITY)
        if self.enabled:
            self.session.show_status(self._hint())

    def _color(self) -> QColor:
        return DENY_COLOR if self.mode == "deny" else ALLOW_COLOR

    def _hint(self) -> str:
        where = "never copy from" if self.mode == "deny" else "copy only from"
        return f"Sampling area: paint where synthesis should {where} (S again to go back to the mask)"

    def _changed(self, box: BBox | None) -> None:
        self.canvas.overlay_changed("sampling", None if box is None else tuple(box))

    def _active(self) -> bool:
        return self.enabled and self.layer is not None and self.canvas.target is self.layer

    def undo(self) -> bool:
        return self._active() and self.layer.undo()  # type: ignore[union-attr]

    def redo(self) -> bool:
        return self._active() and self.layer.redo()  # type: ignore[union-attr]

    def clear(self) -> None:
        if self.layer is not None:
            self.layer.clear()

    def area(self) -> tuple[np.ndarray | None, str]:
        """What the fill gets: (a copy of the area or None when nothing is painted, the mode)."""
        if self.layer is None or not self.layer.area.any():
            return None, self.mode
        return self.layer.area.copy(), self.mode

    def reset(self) -> None:
        """A new document: the old area does not fit it."""
        if self.enabled:
            self.leaveRequested.emit()
        self.layer = None
        self.canvas.set_overlay("sampling", None, ALLOW_COLOR, 0)
