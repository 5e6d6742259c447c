"""Edges mode (EdgeConnect): show the predicted edge map for the current mask and let the user correct it.

The guide layer is a bool H x W array the brush draws thin lines into (the eraser removes them);
it starts as the model's predicted edges inside the hole and goes to the fill as
EngineOptions.guide_edges, where it replaces the edges the model would have predicted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.models import registry
from restorer.ui.canvas import CanvasView
from restorer.ui.fill import fill_threads, supports_edges
from restorer.ui.paint_layer import PaintLayer
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskHandle, TaskRunner

EDGE_COLOR = QColor(40, 220, 255)
CONTEXT_OPACITY = 0.35  # known edges around the hole: shown for orientation, dimmer than the guides
GUIDE_RADIUS = 1.0  # drawn guide lines are thin like Canny edges, whatever the brush size
CONTEXT = 96  # pixels of known photo around the hole that the edge model sees


class GuideLayer(PaintLayer):
    """The user-editable edge map: a paint layer (guide strokes undo and redo one by one) whose brush
    draws thin lines like Canny edges at any brush size; the canvas shows the cursor that size."""

    brush_radius = GUIDE_RADIUS

    def __init__(self, shape: tuple[int, int], on_change: Any) -> None:
        super().__init__(shape, on_change)
        self.context = np.zeros(shape, dtype=np.bool_)  # the photo's own edges around the hole

    @property
    def edges(self) -> np.ndarray:
        """Inside the hole: what guides the fill."""
        return self.pixels

    def set_predicted(self, pieces: list[tuple[BBox, np.ndarray]], hole: np.ndarray) -> None:
        """Guides := the predicted edges inside ``hole``; the known edges outside it become context.
        A new prediction replaces the guides, so their undo steps go with them."""
        self.forget_history()
        self.edges[:] = False
        self.context[:] = False
        for box, edge in pieces:
            box = BBox(*box)
            found = np.asarray(edge).reshape(box.height, box.width) > 0.5
            inside = hole[box.slices]
            self.edges[box.slices] |= found & inside
            self.context[box.slices] |= found & ~inside
        self._on_change(None)


class EdgesController(QObject):
    """Turns Edges mode on and off, predicts edges in the worker, and owns the guide layer.

    Drives the canvas (its overlays and paint target); asks ``current_model`` which model is
    chosen; predictions are tasks on ``tasks``. The Edges Mode toggle belongs to whoever wires it:
    ``leaveRequested`` asks it to switch off (which calls ``set_enabled(False)``).
    """

    edgesPredicted = Signal()
    enabledChanged = Signal(bool)  # Edges mode on / off (the window's actions follow it)
    leaveRequested = Signal()  # refused, or the new model predicts no edges: switch the toggle off

    def __init__(self, session: DocumentSession, tasks: TaskRunner, settings: Settings, canvas: CanvasView,
                 current_model: Callable[[], str | None]) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = tasks
        self.settings = settings
        self.canvas = canvas
        self.current_model = current_model
        self.enabled = False
        self.guide: GuideLayer | None = None
        self._task: TaskHandle | None = None
        self._repredict = QTimer(self)
        self._repredict.setSingleShot(True)
        self._repredict.setInterval(0)
        self._repredict.timeout.connect(self.predict)

    def available(self) -> tuple[bool, str]:
        name = self.current_model()
        if name is None:
            return False, "no model is chosen"
        if not supports_edges(registry.get_spec(name)):
            return False, f"Edges mode needs an EdgeConnect model; {name} does not predict edges"
        return True, ""

    def set_enabled(self, on: bool) -> None:
        doc = self.session.document
        canvas = self.canvas
        if on:
            ok, why = self.available()
            if not ok or doc is None:
                self.session.show_status(why or "Open a photo first")
                self.leaveRequested.emit()
                return
            if self.guide is None or self.guide.edges.shape != doc.shape:
                self.guide = GuideLayer(doc.shape, self._guide_changed)
                # context first, so the editable guides are drawn over it
                canvas.set_overlay("edges-context", self.guide.context, EDGE_COLOR, CONTEXT_OPACITY)
                canvas.set_overlay("edges", self.guide.edges, EDGE_COLOR, 0.95)
            canvas.set_overlay_visible("edges-context", True)
            canvas.set_overlay_visible("edges", True)
            canvas.target = self.guide
            self.enabled = True
            self.predict()
            self.session.show_status("Edges mode: brush (B) draws guide lines, eraser (E) removes them; Enter fills")
        else:
            self.enabled = False
            self._cancel()
            canvas.set_overlay_visible("edges", False)
            canvas.set_overlay_visible("edges-context", False)
            canvas.target = doc
        self.enabledChanged.emit(self.enabled)

    def reset(self) -> None:
        """A new document: drop the guide layer and leave Edges mode."""
        self._cancel()
        self.guide = None
        self.canvas.set_overlay("edges", None, EDGE_COLOR, 0)
        self.canvas.set_overlay("edges-context", None, EDGE_COLOR, 0)
        if self.enabled:
            self.enabled = False
            self.leaveRequested.emit()

    def model_changed(self) -> None:
        """Another model was chosen: leave Edges mode if it predicts no edges, else predict with it."""
        if self.enabled and not self.available()[0]:
            self.leaveRequested.emit()
        elif self.enabled:
            self.predict()

    def undo(self) -> bool:
        """In Edges mode, undo acts on the guide strokes first (False: none left, the document's turn)."""
        if self.enabled and self.guide is not None and self.guide.undo():
            self.session.show_status("Guide line undone (Ctrl+Shift+Z redoes it)")
            return True
        return False

    def redo(self) -> bool:
        return bool(self.enabled and self.guide is not None and self.guide.redo())

    def guide_edges(self) -> np.ndarray | None:
        """What the fill gets as EngineOptions.guide_edges (None outside Edges mode)."""
        return self.guide.edges.copy() if self.enabled and self.guide is not None else None

    def mask_changed(self) -> None:
        if self.enabled:
            self._repredict.start()

    def _guide_changed(self, box: BBox | None) -> None:
        self.canvas.overlay_changed("edges", None if box is None else tuple(box))
        if box is None:
            self.canvas.overlay_changed("edges-context", None)

    # --- prediction in the worker ------------------------------------------------------------
    def predict(self) -> None:
        doc = self.session.document
        if not self.enabled or doc is None or self.guide is None:
            return
        if self.canvas.stroking:
            return
        hole = masks.bbox(doc.mask)
        if hole is None:
            self.guide.set_predicted([], doc.mask)
            return
        from restorer.inference import engine

        self._cancel()
        region = hole.pad(CONTEXT, doc.shape)
        # Copies, so the worker never reads arrays the GUI thread may change meanwhile.
        pixels = doc.pixels[region.slices].copy()
        mask = doc.mask[region.slices].copy()
        model = self.current_model()
        options = engine.EngineOptions(device=self.settings.device, threads=fill_threads())

        def work(cancel: threading.Event, report: Any) -> list[tuple[BBox, np.ndarray]]:
            pieces = engine.predict_edges(pixels, mask, model, options)
            return [(BBox(*b).offset(region.y0, region.x0), e) for b, e in pieces]

        revision = doc.revision
        self._task = self.tasks.submit(work, on_done=lambda pieces: self._predicted(pieces, revision),
                                       on_failed=self._failed, on_cancelled=self._ended)
        self.session.show_status(f"Predicting edges with {model}…")

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.discard()  # a newer prediction (or none) replaces it
            self._task = None

    def _ended(self) -> None:
        self._task = None

    def _predicted(self, pieces: Any, revision: int) -> None:
        self._task = None
        doc = self.session.document
        if doc is None or self.guide is None or doc.revision != revision:
            return  # the mask changed meanwhile; a newer prediction is queued
        self.guide.set_predicted(pieces, doc.mask)
        if not self.guide.edges.any():
            self.session.show_status(f"{self.current_model()} predicted no edges inside the hole: "
                                     "draw guide lines (B) where edges should continue, then press Enter")
        else:
            self.session.show_status("Predicted edges shown in cyan: correct them with B / E, then press Enter to fill")
        self.edgesPredicted.emit()

    def _failed(self, message: str) -> None:
        self._task = None
        self.session.show_error("Edge prediction failed", message)
