"""Detect Damage: run a detector in the worker, show its proposals for review, and add the accepted ones to the mask.

Proposals are the connected components of the damage map at the current threshold. They are
drawn in their own colours (accepted amber, rejected blue), apart from the red mask, as canvas
overlays, so they follow pan and zoom. The sensitivity slider re-thresholds the map the worker
already computed (no new detection); a click on a proposal toggles it; Add to Mask puts the
accepted ones, grown a little, into the mask as one undoable edit. Esc or a new detection clears them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSlider, QToolBar, QWidget

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.core.document import Document
from restorer.detection.damage import proposals
from restorer.ui.canvas import CanvasView
from restorer.ui.detector_picker import DetectorPicker
from restorer.ui.progress import ProgressWidget
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskHandle, TaskRunner

ACCEPTED_COLOR = QColor(255, 190, 0)
REJECTED_COLOR = QColor(60, 150, 255)
OPACITY = 0.8
CLICK_PX = 4  # a press and release closer than this (photo px) is a click, not a drag


class ProposalLayer:
    """The proposals of one detection; a canvas PaintTarget whose click toggles the proposal under it."""

    def __init__(self, levels: np.ndarray, threshold: float, on_change: Any, grow: int,
                 labelled: tuple[int, np.ndarray] | None = None, confirm: float = 0.0) -> None:
        self.levels = levels  # uint8 H x W: damage probability x 255, the detector's output
        self.confirm = confirm  # the detector's: how sure a proposal must be somewhere
        self.grow = grow
        self.accepted = np.zeros(levels.shape, np.bool_)  # overlay layers (the canvas keeps references)
        self.rejected = np.zeros(levels.shape, np.bool_)
        self._refused = np.zeros(levels.shape, np.bool_)  # pixels of proposals the user turned off
        self._on_change = on_change
        self._press: tuple[float, float] | None = None
        self._last: tuple[float, float] | None = None
        self.threshold = threshold
        # ``labelled``: the components at ``threshold``, when the worker has already found them
        self.count, self.labels = labelled if labelled is not None else proposals(levels, threshold, confirm)
        self._paint()

    # --- what the controller asks -------------------------------------------------------------
    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        self.count, self.labels = proposals(self.levels, threshold, self.confirm)
        self._paint()

    def toggle_at(self, x: float, y: float) -> bool | None:
        """Toggle the proposal at photo point (x, y); returns whether it is now accepted (None: no proposal there)."""
        h, w = self.levels.shape
        c, r = round(x), round(y)
        if not (0 <= r < h and 0 <= c < w):
            return None
        label = self._label_near(r, c)
        if label == 0:
            return None
        piece = self.labels == label
        now_accepted = bool(self.rejected[piece].any())
        self._refused[piece] = not now_accepted
        if now_accepted:
            # accepting clears refusals anywhere in this proposal (it may have grown since)
            self._refused &= ~piece
        self._paint()
        return now_accepted

    def _label_near(self, r: int, c: int) -> int:
        """The proposal at (r, c), or within 2 px of it: thin scratches are hard to hit exactly."""
        y0, x0 = max(0, r - 2), max(0, c - 2)
        window = self.labels[y0:r + 3, x0:c + 3]
        if self.labels[r, c]:
            return int(self.labels[r, c])
        hits = np.argwhere(window > 0)
        if not len(hits):
            return 0
        d = ((hits - [r - y0, c - x0]) ** 2).sum(axis=1)
        yy, xx = hits[int(d.argmin())]
        return int(window[yy, xx])

    def accepted_mask(self) -> np.ndarray:
        """What Add to Mask adds: the accepted proposals grown by ``grow`` px, so a fill covers their rim."""
        return masks.grow(self.accepted, self.grow) if self.grow > 0 else self.accepted.copy()

    @property
    def accepted_count(self) -> int:
        return len(np.unique(self.labels[self.accepted])) if self.accepted.any() else 0

    def _paint(self) -> None:
        on = self.labels > 0
        # a proposal is rejected when the user refused any of its pixels
        refused_labels = np.unique(self.labels[self._refused & on])
        rejected = np.isin(self.labels, refused_labels[refused_labels > 0]) if len(refused_labels) else np.zeros_like(on)
        self.rejected[:] = rejected
        self.accepted[:] = on & ~rejected
        self._on_change()

    # --- PaintTarget: a click toggles, a drag does nothing ------------------------------------
    def begin_stroke(self, erase: bool = False) -> None:
        self._press = None
        self._last = None

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        if self._press is None:
            self._press = p0
        self._last = p1
        return None

    def commit_stroke(self, label: str | None = None) -> None:
        press, last = self._press, self._last
        self._press = self._last = None
        if press is not None and last is not None and max(abs(press[0] - last[0]), abs(press[1] - last[1])) <= CLICK_PX:
            self.toggle_at(press[0], press[1])  # brush points put pixel (r, c)'s centre at (x=c, y=r)

    def abort_stroke(self) -> None:
        self._press = self._last = None


class DetectController(QObject):
    """Detect Damage for the session's document: the task in the worker, the proposals, the review tools.

    It builds its own menu, tool bar (the detector picker, remembered in ``settings``, and the
    sensitivity slider) and progress bar; the window places them. ``leave_other_modes`` is called before a detection takes the canvas's clicks.
    """

    detected = Signal()  # proposals are shown
    cleared = Signal()
    proposalsChanged = Signal()

    def __init__(self, session: DocumentSession, tasks: TaskRunner, settings: Settings, canvas: CanvasView,
                 action_parent: QWidget, leave_other_modes: Callable[[], object] = lambda: None) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = tasks
        self.canvas = canvas
        self.leave_other_modes = leave_other_modes
        self.layer: ProposalLayer | None = None
        self._task: TaskHandle | None = None
        self._job_doc: Document | None = None
        self.detector_used: str | None = None  # the detector behind the proposals shown
        self._job_detector = ""
        self.picker = DetectorPicker(settings)
        self._started = 0.0
        self._started_value = 50
        self.progress = ProgressWidget()
        self.progress.cancel_button.clicked.connect(self.cancel)
        self._rethreshold = QTimer(self)
        self._rethreshold.setSingleShot(True)
        self._rethreshold.setInterval(30)  # coalesce slider steps: one re-threshold per pause
        self._rethreshold.timeout.connect(self._apply_threshold)
        self._build_ui(action_parent)
        session.documentReplaced.connect(lambda _doc: self.update_actions())

    # --- widgets --------------------------------------------------------------------------------
    def _build_ui(self, parent: QWidget) -> None:
        """The Detect menu, a tool bar with the sensitivity slider, and the progress bar (the window places them)."""
        self.detect_action = self._action(parent, "&Detect Damage", self.detect, "D",
                                          "Find scratches, dust and cracks and propose them for review")
        self.add_action = self._action(parent, "&Add Proposals to Mask", self.add_to_mask, "Shift+D",
                                       "Add the accepted (amber) proposals to the mask as one step")
        self.clear_action = self._action(parent, "&Clear Proposals", self.clear, None, "Remove the proposals (Esc)")
        self.menu = QMenu("&Detect", parent)
        for a in (self.detect_action, self.add_action, self.clear_action):
            self.menu.addAction(a)
        bar = QToolBar("Detect")
        bar.setObjectName("detect")
        bar.addAction(self.detect_action)
        bar.addWidget(self.picker)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, 99)
        self.slider.setValue(50)
        self.slider.setMaximumWidth(120)
        self.slider.setToolTip("Sensitivity: more finds fainter damage, and flags more that is not damage")
        self.slider.valueChanged.connect(lambda _v: self._rethreshold.start())
        bar.addWidget(QLabel(" Sensitivity "))
        bar.addWidget(self.slider)
        self.count_label = QLabel("")
        bar.addWidget(self.count_label)
        bar.addAction(self.add_action)
        self.toolbar = bar
        self.update_actions()

    def _action(self, parent: QWidget, text: str, slot: Any, key: str | None, tip: str) -> QAction:
        action = QAction(text, parent)
        if key:
            action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip + (f" ({key})" if key else ""))
        action.triggered.connect(slot)
        parent.addAction(action)
        return action

    def update_actions(self) -> None:
        has_doc = self.session.document is not None
        self.detect_action.setEnabled(has_doc)
        self.add_action.setEnabled(bool(self.layer is not None and self.layer.accepted.any()))
        self.clear_action.setEnabled(self.layer is not None)

    @property
    def threshold(self) -> float:
        return 1.0 - self.slider.value() / 100.0

    @property
    def running(self) -> bool:
        return self._task is not None

    # --- the task -------------------------------------------------------------------------------
    def detect(self) -> int | None:
        """Start a detection of the whole photo in the worker (a new one clears the old proposals)."""
        doc = self.session.document
        if doc is None:
            return None
        self.clear()
        if self._task is not None:
            self._task.discard()  # superseded: its outcome is not reported
            self._task = None
        self.leave_other_modes()  # one review mode at a time owns the clicks
        # Only the GUI thread changes the pixels; a result whose photo changed meanwhile is dropped.
        pixels = doc.pixels
        threshold = self.threshold
        self._started_value = self.slider.value()
        detector = self._job_detector = self.picker.current_detector()

        def work(cancel: threading.Event, report: Any) -> tuple[Any, int, np.ndarray, float]:
            from restorer.detection import detect_damage

            damage = detect_damage(pixels, detector, cancel=cancel, on_progress=lambda p: report(p.done, p.total, ""))
            levels = damage.levels()
            # the first threshold's proposals, off the GUI thread
            n, labels = proposals(levels, threshold, damage.confirm)
            return levels, n, labels, damage.confirm

        self._job_doc = doc
        self._started = time.monotonic()
        self._task = self.tasks.submit(work, on_progress=self._on_progress, on_done=self._on_computed,
                                       on_failed=self._on_failed, on_cancelled=self._on_cancelled)
        self.progress.start(f"Detecting damage ({detector})…")
        self.session.show_status(f"Detecting damage with {detector}…")
        return self._task.id

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.session.show_status("Cancelling detection…")

    def handle_escape(self) -> bool:
        """Esc: cancel a running detection, else clear the proposals; False when there was neither."""
        if self.running:
            self.cancel()
            return True
        if self.layer is not None:
            self.clear()
            self.session.show_status("Proposals cleared")
            return True
        return False

    def _end(self) -> None:
        self._task = None
        self._job_doc = None
        self.progress.hide()

    def _on_progress(self, done: int, total: int, _message: str) -> None:
        self.progress.report(done, total, "Detecting")

    def _on_computed(self, value: Any) -> None:
        doc = self._job_doc
        self._end()
        if doc is not self.session.document:
            return
        levels, n, labels, confirm = value
        self.detector_used = self._job_detector
        self._install(levels, n, labels, confirm)
        seconds = time.monotonic() - self._started
        by = f"{self.detector_used} in {seconds:.1f} s"
        if self.layer is not None and self.layer.count > 1:
            self.session.show_status(f"{self.layer.count - 1} proposals from {by}: click one to toggle it, "
                                     "Shift+D adds the amber ones to the mask, Esc clears")
        else:
            self.session.show_status(f"No damage found at this sensitivity ({by}); raise it to see fainter damage")
        self.detected.emit()

    def _on_failed(self, message: str) -> None:
        self._end()
        self.session.show_error("Detection failed", message)

    def _on_cancelled(self) -> None:
        self._end()
        self.session.show_status("Detection cancelled")

    # --- proposals ------------------------------------------------------------------------------
    def _install(self, levels: np.ndarray, n: int, labels: np.ndarray, confirm: float) -> None:
        from restorer.detection import GROW_PX

        # the worker labelled the proposals at the threshold it started with; the slider may have moved since
        started_at = 1.0 - self._started_value / 100.0
        self.layer = ProposalLayer(levels, started_at, self._layer_changed, GROW_PX, labelled=(n, labels),
                                   confirm=confirm)
        canvas = self.canvas
        canvas.set_overlay("proposals-rejected", self.layer.rejected, REJECTED_COLOR, OPACITY * 0.6)
        canvas.set_overlay("proposals", self.layer.accepted, ACCEPTED_COLOR, OPACITY)
        canvas.target = self.layer
        if self.slider.value() != self._started_value:
            self.layer.set_threshold(self.threshold)
        self._layer_changed()

    def _layer_changed(self) -> None:
        canvas = self.canvas
        canvas.overlay_changed("proposals", None)
        canvas.overlay_changed("proposals-rejected", None)
        if self.layer is not None:
            shown = self.layer.count - 1
            self.count_label.setText(f" {self.layer.accepted_count}/{shown} ")
            self.count_label.setToolTip(f"Accepted / all proposals from the {self.detector_used} detector")
        self.update_actions()
        self.proposalsChanged.emit()

    def _apply_threshold(self) -> None:
        if self.layer is not None:
            self.layer.set_threshold(self.threshold)

    def add_to_mask(self) -> Any:
        """Put the accepted proposals into the mask as one edit (undo removes them all), then clear them."""
        doc = self.session.document
        if doc is None or self.layer is None or not self.layer.accepted.any():
            return None
        try:
            from restorer.errors import PhotoBusy

            edit = doc.set_mask(doc.mask | self.layer.accepted_mask(), f"Add detected damage ({self.detector_used})")
        except PhotoBusy as exc:
            self.session.show_status(str(exc))
            return None
        added = self.layer.accepted_count
        self.clear()
        self.session.show_status(f"Added {added} proposals to the mask; Enter fills, Ctrl+Z takes them back")
        return edit

    def clear(self) -> None:
        """Remove the proposals and hand the canvas back to the mask brush."""
        if self.layer is None:
            return
        canvas = self.canvas
        if canvas.target is self.layer:
            canvas.target = self.session.document
        self.layer = None
        canvas.set_overlay("proposals", None, ACCEPTED_COLOR, 0)
        canvas.set_overlay("proposals-rejected", None, REJECTED_COLOR, 0)
        self.count_label.setText("")
        self.count_label.setToolTip("")
        self.detector_used = None
        self.update_actions()
        self.cleared.emit()

    def reset(self) -> None:
        """A new document: cancel a running detection and drop the proposals."""
        if self._task is not None:
            self._task.discard()
            self._end()
        self.clear()
