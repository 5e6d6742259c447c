"""Edges mode (EdgeConnect): show the predicted edge map for the current mask and let the user correct it.

The guide layer is a bool H x W array the brush draws thin lines into (the eraser removes them);
it starts as the model's predicted edges inside the hole and goes to the fill as
EngineOptions.guide_edges, where it replaces the edges the model would have predicted.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.models import registry
from restorer.ui.fill import fill_threads, supports_edges
from restorer.ui.paint_layer import PaintLayer

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow

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
    """Turns Edges mode on and off, predicts edges in the worker, and owns the guide layer."""

    edgesPredicted = Signal()
    enabledChanged = Signal(bool)  # Edges mode on / off (the window's actions follow it)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = False
        self.guide: GuideLayer | None = None
        self._job: int | None = None
        self._job_revision = -1
        self._repredict = QTimer(self)
        self._repredict.setSingleShot(True)
        self._repredict.setInterval(0)
        self._repredict.timeout.connect(self.predict)
        # Predictions share the fill's worker thread (the window makes its FillController first).
        runner = self._runner()
        runner.computed.connect(self._on_computed)
        runner.failed.connect(self._on_failed)
        runner.cancelled.connect(self._on_cancelled)

    def _runner(self) -> Any:
        return self.window.fills.runner

    def available(self) -> tuple[bool, str]:
        name = self.window.model_picker.current_model()
        if name is None:
            return False, "no model is chosen"
        if not supports_edges(registry.get_spec(name)):
            return False, f"Edges mode needs an EdgeConnect model; {name} does not predict edges"
        return True, ""

    def set_enabled(self, on: bool) -> None:
        doc = self.window.document
        if on:
            ok, why = self.available()
            if not ok or doc is None:
                self.window.show_status(why or "Open a photo first")
                self.window.actions.edges.setChecked(False)
                return
            if self.guide is None or self.guide.edges.shape != doc.shape:
                self.guide = GuideLayer(doc.shape, self._guide_changed)
                # context first, so the editable guides are drawn over it
                self.window.canvas.set_overlay("edges-context", self.guide.context, EDGE_COLOR, CONTEXT_OPACITY)
                self.window.canvas.set_overlay("edges", self.guide.edges, EDGE_COLOR, 0.95)
            self.window.canvas.set_overlay_visible("edges-context", True)
            self.window.canvas.set_overlay_visible("edges", True)
            self.window.canvas.target = self.guide
            self.enabled = True
            self.predict()
            self.window.show_status("Edges mode: brush (B) draws guide lines, eraser (E) removes them; Enter fills")
        else:
            self.enabled = False
            self._cancel()
            self.window.canvas.set_overlay_visible("edges", False)
            self.window.canvas.set_overlay_visible("edges-context", False)
            self.window.canvas.target = doc
        self.enabledChanged.emit(self.enabled)

    def reset(self) -> None:
        """A new document: drop the guide layer and leave Edges mode."""
        self._cancel()
        self.guide = None
        self.window.canvas.set_overlay("edges", None, EDGE_COLOR, 0)
        self.window.canvas.set_overlay("edges-context", None, EDGE_COLOR, 0)
        if self.enabled:
            self.enabled = False
            self.window.actions.edges.setChecked(False)

    def undo(self) -> bool:
        """In Edges mode, undo acts on the guide strokes first (False: none left, the document's turn)."""
        if self.enabled and self.guide is not None and self.guide.undo():
            self.window.show_status("Guide line undone (Ctrl+Shift+Z redoes it)")
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
        self.window.canvas.overlay_changed("edges", None if box is None else tuple(box))
        if box is None:
            self.window.canvas.overlay_changed("edges-context", None)

    # --- prediction in the worker ------------------------------------------------------------
    def predict(self) -> None:
        doc = self.window.document
        if not self.enabled or doc is None or self.guide is None:
            return
        if self.window.canvas.stroking:
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
        model = self.window.model_picker.current_model()
        options = engine.EngineOptions(device=self.window.settings.device, threads=fill_threads())

        def work(cancel: threading.Event) -> list[tuple[BBox, np.ndarray]]:
            pieces = engine.predict_edges(pixels, mask, model, options)
            return [(BBox(*b).offset(region.y0, region.x0), e) for b, e in pieces]

        self._job_revision = doc.revision
        self._job = self._runner().submit_call(work)
        self.window.show_status(f"Predicting edges with {model}…")

    def _cancel(self) -> None:
        if self._job is not None:
            self._runner().cancel(self._job)
            self._job = None

    def _on_computed(self, job_id: int, pieces: Any) -> None:
        if job_id != self._job:
            return
        self._job = None
        doc = self.window.document
        if doc is None or self.guide is None or doc.revision != self._job_revision:
            return  # the mask changed meanwhile; a newer prediction is queued
        self.guide.set_predicted(pieces, doc.mask)
        if not self.guide.edges.any():
            self.window.show_status(f"{self.window.model_picker.current_model()} predicted no edges inside the hole: "
                                    "draw guide lines (B) where edges should continue, then press Enter")
        else:
            self.window.show_status("Predicted edges shown in cyan: correct them with B / E, then press Enter to fill")
        self.edgesPredicted.emit()

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id == self._job:
            self._job = None
            self.window.show_error("Edge prediction failed", message)

    def _on_cancelled(self, job_id: int) -> None:
        if job_id == self._job:
            self._job = None
