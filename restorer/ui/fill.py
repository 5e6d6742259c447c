"""Filling the mask: the fill task's life (plan, run in the worker, apply or drop), progress and errors.

Planning (finding holes, copying crops) takes 50-200 ms on a large photo, so it runs in the task
on a copy of the mask; the crops of the photo it copies are read under the document's photo lock
(``_PlanLock``), taken on the GUI thread when the fill is submitted and let go as soon as the
crops are copied, so nothing can change those pixels while they are read. The result is applied
only if the document's revision is still the one the fill was planned at: a stale one is dropped.
"""

from __future__ import annotations

import importlib
import itertools
import sys
import threading
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from restorer.core.document import Document
from restorer.errors import RestorerError
from restorer.models import registry
from restorer.models.device import idle_cores, usable_cores
from restorer.ui.fill_result import Finished, prepare_result
from restorer.ui.progress import ProgressWidget
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskHandle, TaskRunner, drain_engine

PLANNING = "Preparing the fill: the photo can change again in a moment"
_job_ids = itertools.count(1)


def supports_edges(spec: registry.ModelSpec) -> bool:
    """Models that predict an edge map (declared on their spec) let the user see and correct it (Edges mode)."""
    return spec.predicts_edges


def fill_threads() -> int:
    """CPU threads for a fill: the cores idle now, and never all of them, so the GUI thread always
    has a core to repaint on."""
    return max(1, min(usable_cores() - 1, idle_cores()))


class _PlanLock:
    """The document's photo lock, held from a fill's submission until its task has copied the crops.

    Taken on the GUI thread; ``release`` may come from the worker (right after planning) or the GUI
    thread (a task cancelled before it ran), whichever is first. ``hand_over`` passes a held lock to
    the next fill, so a fill replacing one still planning never leaves the pixels unguarded.
    """

    def __init__(self, doc: Document, previous: _PlanLock | None = None) -> None:
        self.doc = doc
        self._guard = threading.Lock()
        self.held = previous is not None and previous.hand_over(doc)
        if not self.held:
            doc.lock_photo(PLANNING)
            self.held = True

    def hand_over(self, doc: Document) -> bool:
        with self._guard:
            if not self.held or self.doc is not doc:
                return False
            self.held = False
            return True

    def release(self) -> None:
        with self._guard:
            if self.held:
                self.held = False
                if self.doc.photo_lock == PLANNING:
                    self.doc.unlock_photo()


class FillController(QObject):
    """Runs fills for the session's document; one task at a time, a stale result is dropped."""

    fillApplied = Signal(object)  # the Edit the fill made
    fillDropped = Signal(str)  # why a result was not applied (stale, cancelled, failed)

    def __init__(self, session: DocumentSession, tasks: TaskRunner, settings: Settings,
                 dialog_parent: QWidget | None = None) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = tasks
        self.settings = settings
        self.dialog_parent = dialog_parent
        self.progress = ProgressWidget()
        self.progress.cancel_button.clicked.connect(self.cancel)
        self.device_label = QLabel("Device: cpu")
        self.device_label.setToolTip("Where fills run: the chosen model's device, then where the last fill ran")
        self._warm: TaskHandle | None = None
        self._task: TaskHandle | None = None
        self._plan_lock: _PlanLock | None = None
        self._job_doc: Document | None = None
        self._job_model = ""
        self._job_revision = -1
        self._job_facts: dict[str, Any] = {}
        self._started = 0.0
        self._held: Any = None  # a result that arrived while a save held the photo still

    @property
    def running(self) -> bool:
        return self._task is not None

    def fill(self, model: str, guide_edges: np.ndarray | None = None,
             sample: tuple[np.ndarray | None, str] = (None, "allow")) -> int | None:
        """Plan a fill of the current mask with ``model`` and queue it; returns the task id (None = nothing to do)."""
        doc = self.session.document
        if doc is None:
            return None
        planning = self._plan_lock is not None and self._plan_lock.held and self._plan_lock.doc is doc
        if doc.photo_lock is not None and not planning:
            self.session.show_status(doc.photo_lock)
            return None
        if not doc.mask.any():
            self.session.show_status("Nothing to fill: brush over the damage first (B)")
            return None
        from restorer.inference import engine

        if self._held is not None:
            self.cancel()
        elif self._task is not None:
            self._task.discard()  # superseded: its outcome is not reported
        spec = registry.get_spec(model)
        area, area_mode = sample
        if area is not None and spec.kind != "synthesis":
            self.session.show_status(f"{model} does not copy patches: the sampling area is ignored")
            area = None
        s = self.settings
        # Thread limits are set through torch, so only learned models get one (OpenCV's fills are short).
        # The guide layer starts as the predicted edges, so inside the hole it replaces them.
        options = engine.EngineOptions(device=s.device, threads=fill_threads() if spec.runs_network else None,
                                       guide_edges=guide_edges, guide_mode="replace", grain=s.grain,
                                       feather=s.feather_px != 0, feather_px=None if s.feather_px <= 0 else s.feather_px,
                                       sample_area=area, sample_mode=area_mode)
        # The mask is copied in the worker (24 MB on 24 MP: 5-100 ms here on a loaded machine): should
        # it change before the copy, the revision moves on and the fill's result is dropped anyway.
        pixels, live_mask, revision, job_id = doc.pixels, doc.mask, doc.revision, next(_job_ids)
        display, mask_display = self.session.display, self.session.mask_display
        lock = self._plan_lock = _PlanLock(doc, self._plan_lock)
        # What the history step (so the project and the provenance sidecar) says of this fill, made
        # in the worker: the mask's hash and the guide's and sampling area's crops take a while.
        facts: dict[str, Any] = {}
        weights = registry.check(spec).sha256

        def work(cancel: threading.Event, report: Any) -> Any:
            from restorer.core.provenance import mask_sha256, utc_now
            from restorer.inference.replay import fill_meta

            try:
                mask = live_mask.copy()
                facts.update(fill_meta(model, options, weights_sha256=weights, device="", mask_sha256=mask_sha256(mask),
                                       mask_pixels=int(mask.sum()), time=utc_now()))
                job = engine.plan(pixels, mask, model, options, job_id=job_id, revision=revision)
            finally:
                lock.release()  # the crops are copied: the photo may change again
            result = drain_engine(engine.run(job, cancel), report)
            # The guide layers are read live: any change of them bumps the revision, and a fill
            # whose revision is not current when it ends is dropped (so is what was prepared here).
            layers = {"mask": mask, "guides": doc.guides, "unguides": doc.unguides}
            return prepare_result(job, result, layers, display, mask_display)

        self._job_doc, self._job_model, self._job_facts, self._job_revision = doc, model, facts, revision
        self._started = time.monotonic()
        self._task = self.tasks.submit(work, on_progress=self._on_progress, on_done=self._on_finished,
                                       on_failed=self._on_failed, on_cancelled=self._on_cancelled)
        self.progress.start(f"Filling with {model}…")
        if not spec.runs_network:
            self.device_label.setText("Device: cpu (OpenCV)")
        self.session.show_status(f"Filling with {model}…")
        return self._task.id

    def ask_feather(self) -> None:
        """Fill > Seam Feather: -1 = chosen from each fill's scale (the default), 0 = off, else pixels."""
        from PySide6.QtWidgets import QInputDialog

        px, ok = QInputDialog.getInt(self.dialog_parent, "Seam Feather",
                                     "Fade each fill into its surroundings over (pixels; -1 = automatic, 0 = off):",
                                     self.settings.feather_px, -1, 64)
        if ok:
            self.settings.feather_px = px
            said = "automatic" if px < 0 else "off" if px == 0 else f"{px} px"
            self.session.show_status(f"Seam feather: {said} (from the next fill)")

    def warm_up(self, model: str | None) -> None:
        """Import torch in the worker as soon as a learned model is chosen, not at the first fill.

        Importing torch holds the GIL for about a second; done when the model is picked, the
        hiccup comes with the user's click instead of in the middle of a fill's progress.
        """
        try:
            neural = registry.get_spec(model).runs_network if model else False
        except RestorerError:
            return
        if not neural:
            self.device_label.setText("Device: cpu")
            if "restorer.inference.engine" not in sys.modules:  # a first fill then does not import it
                self.tasks.submit(lambda cancel, report: importlib.import_module("restorer.inference.engine"))
            return
        if not self.running:
            self.device_label.setText(f"Device: {self.settings.device} (checking…)")
        preference = self.settings.device

        def warm(cancel: object, report: object) -> str:
            importlib.import_module("restorer.inference.engine")  # first: a fill may come before torch is in
            importlib.import_module("torch")
            from restorer.models.device import resolve_device

            try:
                return resolve_device(preference)  # where the fill will run, shown before the first fill
            except RestorerError:
                return f"{preference} is not available here"

        def warmed(device: object) -> None:
            if not self.running:
                self.device_label.setText(f"Device: {device}")

        if self._warm is not None:
            self._warm.discard()  # only the latest choice's device is shown
        self._warm = self.tasks.submit(warm, on_done=warmed)

    def cancel(self) -> None:
        if self._task is None:
            return
        if self._held is not None:  # the task is over: drop the result it left
            self._held = None
            self._on_cancelled()
        else:
            self._task.cancel()
            self.session.show_status("Cancelling…")

    def resume(self) -> None:
        """Apply the result held back while a save locked the photo (or hold it again if one still does)."""
        result, self._held = self._held, None
        if result is not None:
            self._on_finished(result)

    def shutdown(self) -> None:
        """The window closes (its runner is shut down): forget the fill in flight."""
        self._task = None
        self._held = None
        if self._plan_lock is not None:
            self._plan_lock.release()

    # --- outcomes (GUI thread) -------------------------------------------------------------------
    def _end(self) -> None:
        self._task = None
        self._job_doc = None
        if self._plan_lock is not None:
            self._plan_lock.release()  # a task cancelled before it ran never planned
            self._plan_lock = None
        self.progress.hide()

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.progress.report(done, total, message or "Filling")

    def _on_finished(self, finished: Finished) -> None:
        doc, result = self._job_doc, finished.result
        if doc is self.session.document and doc is not None and doc.photo_lock is not None:
            self._held = finished  # resume() applies it once the save has written the photo
            self.progress.start("Waiting for the save…")
            return
        self._end()
        self.device_label.setText(f"Device: {result.device}")
        if doc is None or doc is not self.session.document or self._job_revision != doc.revision:
            why = "The photo or mask changed while the fill ran; its result was dropped. Press Enter to fill again."
            self.session.show_status(why)
            self.fillDropped.emit(why)
            return
        if not result.patches:
            self.session.show_status("The fill changed nothing")
            self.fillDropped.emit("empty result")
            return
        meta = {**self._job_facts, "device": result.device, "notes": list(result.notes)}
        label = f"Fill ({self._job_model})"
        edit = None if finished.step is None else self.session.apply_fill_step(finished.step, finished.tiles, label, meta)
        if edit is None:  # nothing prepared (or prepared for another state): diff and copy here
            edit = doc.apply_fill(result.patches, label, meta=meta)
        seconds = time.monotonic() - self._started
        notes = f" — {'; '.join(result.notes)}" if result.notes else ""
        self.session.show_status(f"Filled with {self._job_model} on {result.device} in {seconds:.1f} s{notes}")
        self.fillApplied.emit(edit)

    def _on_failed(self, message: str) -> None:
        self._end()
        self.session.show_status(f"Fill failed: {message}")
        self.fillDropped.emit(message)
        QMessageBox.warning(self.dialog_parent, "Fill failed", f"The fill did not run:\n\n{message}")

    def _on_cancelled(self) -> None:
        self._end()
        self.session.show_status("Fill cancelled")
        self.fillDropped.emit("cancelled")
