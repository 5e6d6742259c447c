"""Filling the mask: the model picker, the fill job's life (plan, run in the worker, apply or drop), progress and errors."""

from __future__ import annotations

import importlib
import os
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from restorer.errors import RestorerError
from restorer.models import registry
from restorer.models.terms import model_terms
from restorer.ui.worker import JobRunner, next_job_id

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow


def supports_edges(spec: registry.ModelSpec) -> bool:
    """Models that predict an edge map (declared on their spec) let the user see and correct it (Edges mode)."""
    return spec.predicts_edges


def fill_threads() -> int:
    """CPU threads for a fill: all cores but one, so the GUI thread always has a core to repaint on."""
    return max(1, (os.cpu_count() or 2) - 1)


BEST_FOR_ROLE = Qt.ItemDataRole.UserRole + 1


class _BestForDelegate(QStyledItemDelegate):
    """The open list shows "name — best for"; the closed box keeps the bare name, so the tool bar stays narrow."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        best = index.data(BEST_FOR_ROLE)
        if best:
            option.text = f"{option.text}  —  {best}"


class ModelPicker(QComboBox):
    """Every registered model with what it is best for; ones that cannot run are disabled, with the
    reason as the tooltip. The tooltip of the box is the chosen model's: what it is and its terms."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumContentsLength(14)
        self.setItemDelegate(_BestForDelegate(self))
        self.currentIndexChanged.connect(self._update_tip)
        self.reload()

    def _update_tip(self, _index: int = -1) -> None:
        tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) if self.currentIndex() >= 0 else None
        self.setToolTip(f"Model used to fill the mask: {self.currentData()}\n{tip}" if tip else "Model used to fill the mask")

    def reload(self) -> None:
        current = self.current_model()
        self.blockSignals(True)
        self.clear()
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        for spec in registry.all_specs():
            try:
                state = registry.check(spec)
                ready, reason = state.ready, state.reason
            except Exception as exc:  # noqa: BLE001 - a broken entry must not stop the app from starting
                ready, reason = False, f"cannot check this model: {exc}"
            self.addItem(spec.name, spec.name)
            i = self.count() - 1
            self.setItemData(i, spec.best_for, BEST_FOR_ROLE)
            terms = model_terms(spec).short()
            tip = f"{spec.description}\n{terms}" if ready else f"Unavailable: {reason}"
            self.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            item = model.item(i)
            item.setEnabled(ready)
        self.blockSignals(False)
        if current:
            self.set_model(current)
        self._update_tip()

    def current_model(self) -> str | None:
        data = self.currentData()
        return str(data) if data is not None else None

    def set_model(self, name: str) -> bool:
        """Select ``name`` if it is listed and enabled; False (selection unchanged) otherwise."""
        i = self.findData(name)
        if i < 0 or not self.is_enabled_at(i):
            return False
        self.setCurrentIndex(i)
        return True

    def is_enabled_at(self, i: int) -> bool:
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(i)
        return bool(item is not None and item.isEnabled())

    def reason(self, name: str) -> str:
        i = self.findData(name)
        return str(self.itemData(i, Qt.ItemDataRole.ToolTipRole) or "") if i >= 0 else ""


class ProgressWidget(QWidget):
    """Status-bar progress: a bar and a Cancel button, shown while a job runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running job (Esc)")
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str) -> None:
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setFormat(text)
        self.show()

    def report(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{text} %v/%m" if text else "%v/%m")


class FillController(QObject):
    """Runs fills for the window's document; one job at a time, a stale result is dropped."""

    fillApplied = Signal(object)  # the Edit the fill made
    fillDropped = Signal(str)  # why a result was not applied (stale, cancelled, failed)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = JobRunner("inference", self)
        self.runner.progressed.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self._on_cancelled)
        self.progress = ProgressWidget()
        self.progress.cancel_button.clicked.connect(self.cancel)
        self.device_label = QLabel("Device: cpu")
        self.device_label.setToolTip("Where fills run: the chosen model's device, then where the last fill ran")
        self.runner.computed.connect(self._on_warmed)
        self._warm_id: int | None = None
        self.job_id: int | None = None
        self._job_doc: Any = None
        self._job_model = ""
        self._job_facts: dict[str, Any] = {}
        self._started = 0.0
        self._held: Any = None  # a result that arrived while a save held the photo still

    @property
    def running(self) -> bool:
        return self.job_id is not None

    def fill(self, model: str, guide_edges: Any = None) -> int | None:
        """Plan a fill of the current mask with ``model`` and queue it; returns the job id (None = nothing to do)."""
        doc = self.window.document
        if doc is None:
            return None
        if doc.photo_lock is not None:
            self.window.show_status(doc.photo_lock)
            return None
        if not doc.mask.any():
            self.window.show_status("Nothing to fill: brush over the damage first (B)")
            return None
        from restorer.inference import engine

        if self.running:
            self.cancel()
        spec = registry.get_spec(model)
        area, area_mode = self.window.sampling.area()
        if area is not None and spec.kind != "synthesis":
            self.window.show_status(f"{model} does not copy patches: the sampling area is ignored")
            area = None
        # Thread limits are set through torch, so only learned models get one (OpenCV's fills are short).
        # The guide layer starts as the predicted edges, so inside the hole it replaces them.
        options = engine.EngineOptions(device=self.window.settings.device,
                                       threads=fill_threads() if spec.runs_network else None,
                                       guide_edges=guide_edges, guide_mode="replace",
                                       grain=self.window.settings.grain,
                                       feather=self.window.settings.feather_px != 0,
                                       feather_px=None if self.window.settings.feather_px <= 0 else self.window.settings.feather_px,
                                       sample_area=area, sample_mode=area_mode)
        job_id = next_job_id()
        # Planning (finding holes, copying crops) takes 50-200 ms on a large photo, so it runs in
        # the worker on a copy of the mask. The pixels are read there live: only the GUI thread
        # changes them, and any change bumps the revision, so a job that saw one is dropped.
        pixels, mask, revision = doc.pixels, doc.mask.copy(), doc.revision
        # What the history step (so the project and the provenance sidecar) says of this fill, made
        # in the worker: the mask's hash and the guide's and sampling area's crops take a while.
        facts: dict[str, Any] = {}
        weights = registry.check(spec).sha256

        def plan() -> Any:
            from restorer.core.provenance import mask_sha256, utc_now
            from restorer.inference.replay import fill_meta

            facts.update(fill_meta(model, options, weights_sha256=weights, device="", mask_sha256=mask_sha256(mask),
                                   mask_pixels=int(mask.sum()), time=utc_now()))
            return engine.plan(pixels, mask, model, options, job_id=job_id, revision=revision)

        self.job_id, self._job_doc, self._job_model, self._job_facts = job_id, doc, model, facts
        self._started = time.monotonic()
        self.runner.submit(plan, job_id=job_id)
        self.progress.start(f"Filling with {model}…")
        if not spec.runs_network:
            self.device_label.setText("Device: cpu (OpenCV)")
        self.window.show_status(f"Filling with {model}…")
        return job_id

    def ask_feather(self) -> None:
        """Fill > Seam Feather: -1 = chosen from each fill's scale (the default), 0 = off, else pixels."""
        from PySide6.QtWidgets import QInputDialog

        px, ok = QInputDialog.getInt(self.window, "Seam Feather",
                                     "Fade each fill into its surroundings over (pixels; -1 = automatic, 0 = off):",
                                     self.window.settings.feather_px, -1, 64)
        if ok:
            self.window.settings.feather_px = px
            said = "automatic" if px < 0 else "off" if px == 0 else f"{px} px"
            self.window.show_status(f"Seam feather: {said} (from the next fill)")

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
            return
        if not self.running:
            self.device_label.setText(f"Device: {self.window.settings.device} (checking…)")
        preference = self.window.settings.device

        def warm(cancel: object) -> str:
            importlib.import_module("torch")
            from restorer.models.device import resolve_device

            try:
                return resolve_device(preference)  # where the fill will run, shown before the first fill
            except RestorerError:
                return f"{preference} is not available here"

        self._warm_id = self.runner.submit_call(warm)

    def _on_warmed(self, job_id: int, device: object) -> None:
        if job_id == self._warm_id and not self.running:
            self.device_label.setText(f"Device: {device}")

    def cancel(self) -> None:
        if self.job_id is None:
            return
        if self._held is not None:  # the job is over: drop the result it left
            self._held = None
            self._on_cancelled(self.job_id)
        else:
            self.runner.cancel(self.job_id)
            self.window.show_status("Cancelling…")

    def resume(self) -> None:
        """Apply the result held back while a save locked the photo (or hold it again if one still does)."""
        result, self._held = self._held, None
        if result is not None:
            self._on_finished(result)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel and stop the worker; True when its thread has finished within ``timeout_ms``."""
        self.job_id = None
        self._held = None
        return self.runner.shutdown(timeout_ms)

    # --- outcomes (GUI thread) -------------------------------------------------------------------
    def _end(self) -> None:
        self.job_id = None
        self._job_doc = None
        self.progress.hide()

    def _on_progress(self, job_id: int, done: int, total: int, message: str) -> None:
        if job_id == self.job_id:
            self.progress.report(done, total, message or "Filling")

    def _on_finished(self, result: Any) -> None:
        if result.job_id != self.job_id:
            return  # an older job that was superseded: its outcome was already reported
        doc = self._job_doc
        if doc is self.window.document and doc.photo_lock is not None:
            self._held = result  # resume() applies it once the save has written the photo
            self.progress.start("Waiting for the save…")
            return
        self._end()
        self.device_label.setText(f"Device: {result.device}")
        if doc is not self.window.document or result.revision != doc.revision:
            why = "The photo or mask changed while the fill ran; its result was dropped. Press Enter to fill again."
            self.window.show_status(why)
            self.fillDropped.emit(why)
            return
        if not result.patches:
            self.window.show_status("The fill changed nothing")
            self.fillDropped.emit("empty result")
            return
        meta = {**self._job_facts, "device": result.device, "notes": list(result.notes)}
        edit = doc.apply_fill(result.patches, f"Fill ({self._job_model})", meta=meta)
        seconds = time.monotonic() - self._started
        notes = f" — {'; '.join(result.notes)}" if result.notes else ""
        self.window.show_status(f"Filled with {self._job_model} on {result.device} in {seconds:.1f} s{notes}")
        self.fillApplied.emit(edit)

    def _on_failed(self, job_id: int, message: str) -> None:
        if job_id != self.job_id:
            return
        self._end()
        self._report_failure(message)

    def _on_cancelled(self, job_id: int) -> None:
        if job_id != self.job_id:
            return
        self._end()
        self.window.show_status("Fill cancelled")
        self.fillDropped.emit("cancelled")

    def _report_failure(self, message: str) -> None:
        self.window.show_status(f"Fill failed: {message}")
        self.fillDropped.emit(message)
        QMessageBox.warning(self.window, "Fill failed", f"The fill did not run:\n\n{message}")
