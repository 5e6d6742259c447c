"""Edges mode (EdgeConnect): show the predicted edge map for the current mask and let the user correct it.

What guides the fill is ``(predicted | drawn) & ~erased`` inside the hole: the model's predicted
edges, redone whenever the mask changes, with the user's corrections over them. The corrections
are the document's: ``Document.guides`` (lines drawn) and ``Document.unguides`` (where the eraser
took edges away), painted by guide strokes that are history steps with their own rows ("Guide
line", "Erase guide lines"), undone and redone like mask strokes and kept in projects. The result
goes to the fill as EngineOptions.guide_edges, where it replaces the edges the model would predict.
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
from restorer.core.document import Document
from restorer.models import registry
from restorer.ui.canvas import CanvasView
from restorer.ui.fill import fill_threads, supports_edges
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskHandle, TaskRunner

EDGE_COLOR = QColor(40, 220, 255)
CONTEXT_OPACITY = 0.35  # known edges around the hole: shown for orientation, dimmer than the guides
GUIDE_RADIUS = 1.0  # drawn guide lines are thin like Canny edges, whatever the brush size (the cursor shows it)
DEEP = 8  # a hole this many pixels thick (from its border inwards) is "large": edges should reach inside
CONTEXT = 96  # pixels of known photo around the hole that the edge model sees


class GuideLayer:
    """The edge map Edges mode shows and the fill gets, and the paint target its brush draws with.

    ``edges`` = ``(predicted | doc.guides) & ~doc.unguides``, kept composed for the canvas overlay
    (``compose`` after the document's guide layers change). Strokes go to the document
    (``begin_stroke(layer='guides')``), so each is one history step; the brush draws thin lines like
    Canny edges at any brush size (``brush_radius``: the canvas draws its cursor that size), the
    eraser erases at the brush's size.
    """

    brush_radius = GUIDE_RADIUS

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.predicted = np.zeros(doc.shape, dtype=np.bool_)  # the model's edges inside the hole
        self.context = np.zeros(doc.shape, dtype=np.bool_)  # the photo's own edges around the hole
        self.edges = np.zeros(doc.shape, dtype=np.bool_)
        self._erase = False
        self.compose(None)

    def compose(self, box: BBox | None) -> None:
        s = (box or BBox.full(self.doc.shape)).slices
        self.edges[s] = (self.predicted[s] | self.doc.guides[s]) & ~self.doc.unguides[s]

    def set_predicted(self, pieces: list[tuple[BBox, np.ndarray]], hole: np.ndarray) -> None:
        """Predicted := the model's edges inside ``hole``; its edges outside it become context.
        The user's guide strokes stay (they are the document's) and are drawn over the new prediction."""
        self.predicted[:] = False
        self.context[:] = False
        for box, edge in pieces:
            box = BBox(*box)
            found = np.asarray(edge).reshape(box.height, box.width) > 0.5
            inside = hole[box.slices]
            self.predicted[box.slices] |= found & inside
            self.context[box.slices] |= found & ~inside
        self.compose(None)

    def stops_at_border(self, hole: np.ndarray) -> bool:
        """Whether the hole is large (thicker than 2 x DEEP) and the predicted edges, though there are
        some, never get DEEP pixels inside it: the model gave up towards the middle."""
        box = masks.bbox(hole)
        if box is None or not self.predicted.any():
            return False
        region = box.pad(1, hole.shape)
        inner = masks.shrink(hole[region.slices], DEEP)
        return bool(inner.any() and not (self.predicted[region.slices] & inner).any())

    # --- the paint target: strokes are the document's guide steps ----------------------------
    def begin_stroke(self, erase: bool = False) -> None:
        self._erase = erase
        self.doc.begin_stroke(erase, layer="guides")

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        return self.doc.paint(p0, p1, radius if self._erase else GUIDE_RADIUS)

    def commit_stroke(self, label: str | None = None) -> object:
        return self.doc.commit_stroke(label)

    def abort_stroke(self) -> None:
        self.doc.abort_stroke()


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
        self._mask_revision = 0  # counts mask changes: a prediction made for an older mask is dropped
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
            if self.guide is None or self.guide.doc is not doc:
                self.guide = GuideLayer(doc)
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

    def guide_edges(self) -> np.ndarray | None:
        """What the fill gets as EngineOptions.guide_edges (None outside Edges mode)."""
        return self.guide.edges.copy() if self.enabled and self.guide is not None else None

    def mask_changed(self) -> None:
        self._mask_revision += 1
        if self.enabled:
            self._repredict.start()

    def guides_changed(self, box: tuple[int, int, int, int] | None) -> None:
        """The document's guide lines changed (a stroke, its undo or redo): redraw them."""
        if self.guide is not None and self.guide.doc is self.session.document:
            self.guide.compose(None if box is None else BBox(*box))
            self.canvas.overlay_changed("edges", box)

    def _shown(self) -> None:
        self.canvas.overlay_changed("edges", None)
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
            self._shown()
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

        revision = self._mask_revision
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
        if doc is None or self.guide is None or self._mask_revision != revision:
            return  # the mask changed meanwhile; a newer prediction is queued
        self.guide.set_predicted(pieces, doc.mask)
        self._shown()
        if not self.guide.predicted.any():
            self.session.show_status(f"{self.current_model()} predicted no edges inside the hole: "
                                     "draw guide lines (B) where edges should continue, then press Enter")
        elif self.guide.stops_at_border(doc.mask):
            self.session.show_status(f"{self.current_model()}'s edges stop near the hole's border and predict "
                                     "nothing in its middle: draw guide lines (B) across it, then press Enter")
        else:
            self.session.show_status("Predicted edges shown in cyan: correct them with B / E, then press Enter to fill")
        self.edgesPredicted.emit()

    def _failed(self, message: str) -> None:
        self._task = None
        self.session.show_error("Edge prediction failed", message)
