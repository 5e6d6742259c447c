"""Background work off the GUI thread: InferenceWorker (a QObject in a QThread) and the JobRunner that feeds it.

The GUI thread plans a job (engine.plan copies the crops it needs, so nothing is shared), makes a
fresh threading.Event as that job's cancel token and queues it; the worker runs engine.run, which
loads the model lazily in this thread, and reports back through signals that Qt delivers on the GUI
thread. The same thread runs other slow calls (edge prediction, photo loading) via ``submit_call``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from restorer.errors import Cancelled, RestorerError

log = logging.getLogger(__name__)

_ids = itertools.count(1)


def next_job_id() -> int:
    """Job ids are unique across runners, so a stale signal can never match a newer job."""
    return next(_ids)


def _message(exc: BaseException) -> str:
    if isinstance(exc, RestorerError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for this job; try a smaller mask or close other programs"
    # Anything else is a bug: keep the app alive, log the traceback, show one line.
    log.error("background job failed:\n%s", traceback.format_exc())
    return f"unexpected error: {type(exc).__name__}: {exc}"


class InferenceWorker(QObject):
    """Lives in the worker thread; each slot runs one job to its end and emits exactly one outcome."""

    progressed = Signal(int, int, int, str)  # job id, done, total, message
    finished = Signal(object)  # engine Result (its job_id says which job)
    computed = Signal(int, object)  # job id, return value of a submit_call function
    failed = Signal(int, str)  # job id, one-line message
    cancelled = Signal(int)  # job id

    @Slot(int, object, object)
    def run_job(self, job_id: int, job: Any, cancel: threading.Event) -> None:
        """Run an engine Job, or a function that plans one here (its arguments are snapshots)."""
        if cancel.is_set():  # cancelled while it waited in the queue
            self.cancelled.emit(job_id)
            return
        from restorer.inference import engine

        try:
            if callable(job):
                job = job()
            steps = engine.run(job, cancel)
            while True:
                try:
                    p = next(steps)
                except StopIteration as stop:
                    result = stop.value
                    break
                self.progressed.emit(job_id, int(p.done), int(p.total), str(p.message))
        except Cancelled:
            self.cancelled.emit(job_id)
            return
        except BaseException as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            self.failed.emit(job_id, _message(exc))
            return
        self.finished.emit(result)

    @Slot(int, object, object)
    def run_call(self, job_id: int, fn: Callable[[threading.Event], Any], cancel: threading.Event) -> None:
        if cancel.is_set():
            self.cancelled.emit(job_id)
            return
        try:
            value = fn(cancel)
        except Cancelled:
            self.cancelled.emit(job_id)
            return
        except BaseException as exc:  # noqa: BLE001
            self.failed.emit(job_id, _message(exc))
            return
        if cancel.is_set():
            self.cancelled.emit(job_id)
        else:
            self.computed.emit(job_id, value)


class JobRunner(QObject):
    """Owns one worker thread: queue jobs, cancel them, and stop the thread cleanly on close."""

    progressed = Signal(int, int, int, str)
    finished = Signal(object)
    computed = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)

    _job_requested = Signal(int, object, object)
    _call_requested = Signal(int, object, object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tokens: dict[int, threading.Event] = {}
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = InferenceWorker()
        self.worker.moveToThread(self.thread)
        self._job_requested.connect(self.worker.run_job)
        self._call_requested.connect(self.worker.run_call)
        self.worker.progressed.connect(self.progressed)
        self.worker.finished.connect(self._on_finished)
        self.worker.computed.connect(self._on_computed)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._tokens)

    def submit(self, job: Any, job_id: int | None = None) -> threading.Event:
        """Queue an engine Job, or a no-argument function returning one (planned in the worker);
        returns its cancel token. ``job_id`` must match the Job's id (default: ``job.id``)."""
        job_id = job.id if job_id is None else job_id
        cancel = threading.Event()
        self._tokens[job_id] = cancel
        self._job_requested.emit(job_id, job, cancel)
        return cancel

    def submit_call(self, fn: Callable[[threading.Event], Any], job_id: int | None = None) -> int:
        """Run ``fn(cancel)`` in the worker thread; its return value comes back through ``computed``."""
        job_id = next_job_id() if job_id is None else job_id
        cancel = threading.Event()
        self._tokens[job_id] = cancel
        self._call_requested.emit(job_id, fn, cancel)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Ask one job (or every job) to stop at its next check; its outcome still arrives as a signal."""
        for jid, token in list(self._tokens.items()):
            if job_id is None or jid == job_id:
                token.set()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything, then quit and wait for the thread; True when it has finished."""
        self.cancel()
        self.thread.quit()
        done = self.thread.wait(timeout_ms)
        self._tokens.clear()
        return bool(done)

    def _on_finished(self, result: Any) -> None:
        self._tokens.pop(result.job_id, None)
        self.finished.emit(result)

    def _on_computed(self, job_id: int, value: Any) -> None:
        self._tokens.pop(job_id, None)
        self.computed.emit(job_id, value)

    def _on_failed(self, job_id: int, message: str) -> None:
        self._tokens.pop(job_id, None)
        self.failed.emit(job_id, message)

    def _on_cancelled(self, job_id: int) -> None:
        self._tokens.pop(job_id, None)
        self.cancelled.emit(job_id)
