"""The one task runner: background work as functions of (cancel, report), each with its own outcome callbacks.

``TaskRunner.submit(fn, on_progress=, on_done=, on_failed=, on_cancelled=)`` queues ``fn`` for the
runner's thread (a QObject worker moved to a QThread) and returns a ``TaskHandle``. ``fn(cancel,
report)`` gets its own fresh ``threading.Event`` and a ``report(done, total, message)`` it may call
as it goes; an engine fill is just a function that drains the engine's generator (``drain_engine``).
Exactly one outcome reaches the GUI thread per task, and only that task's callbacks see it, so no
controller filters shared signals by id:

- ``on_done(value)``: ``fn`` returned and was not cancelled meanwhile;
- ``on_cancelled()``: it raised ``Cancelled``, its token was set when it returned, or it was
  cancelled while queued (then ``fn`` never runs);
- ``on_failed(message)``: it raised anything else; the message is one line (a bug's traceback goes
  to the log).

``handle.discard()`` cancels a task and drops its callbacks (a newer task superseded it).

Tasks run one after another in submission order. ``shutdown`` cancels them all, quits the thread and
waits for it; no callback runs after it, even for an outcome already on its way, and a task submitted
after it is done at once without running.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot

from restorer.errors import Cancelled, RestorerError

log = logging.getLogger(__name__)

Report = Callable[[int, int, str], None]
TaskFn = Callable[[threading.Event, Report], Any]

_ids = itertools.count(1)


class _Progress(Protocol):
    done: int
    total: int
    message: str


def drain_engine(steps: Generator[_Progress, None, Any], report: Report) -> Any:
    """Run an engine generator to its end inside a task, reporting each step; returns its value."""
    while True:
        try:
            p = next(steps)
        except StopIteration as stop:
            return stop.value
        report(int(p.done), int(p.total), str(p.message))


def failure_message(exc: BaseException) -> str:
    """One line for the user: a RestorerError says its own; anything else is a bug, logged in full."""
    if isinstance(exc, RestorerError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for this job; try a smaller mask or close other programs"
    log.error("background task failed:\n%s", "".join(traceback.format_exception(exc)))
    return " ".join(f"unexpected error: {type(exc).__name__}: {exc}".split())


@dataclass(eq=False)
class TaskHandle:
    """One submitted task: its id (unique across runners, never reused), its cancel token and whether it is over."""

    id: int
    fn: TaskFn
    on_progress: Callable[[int, int, str], object] | None
    on_done: Callable[[Any], object] | None
    on_failed: Callable[[str], object] | None
    on_cancelled: Callable[[], object] | None
    token: threading.Event = field(default_factory=threading.Event)
    _done: bool = False
    _discarded: bool = False

    @property
    def done(self) -> bool:
        """True once its outcome was delivered (or its runner shut down)."""
        return self._done

    @property
    def cancelled(self) -> bool:
        return self.token.is_set()

    def cancel(self) -> None:
        """Ask the task to stop at its next check (a queued one never starts); its outcome still arrives.
        A no-op once it is done."""
        if not self._done:
            self.token.set()

    def discard(self) -> None:
        """Cancel it and drop its callbacks: a task superseded by a newer one ends without a word."""
        self._discarded = True
        self.cancel()


class _Worker(QObject):
    """Lives in the runner's thread; runs each task to its end and emits exactly one outcome."""

    progressed = Signal(object, int, int, str)  # handle, done, total, message
    ended = Signal(object, str, object)  # handle, "done" | "failed" | "cancelled", value or message

    @Slot(object)
    def run(self, task: TaskHandle) -> None:
        if task.token.is_set():  # cancelled while it waited in the queue
            self.ended.emit(task, "cancelled", None)
            return

        def report(done: int, total: int, message: str = "") -> None:
            self.progressed.emit(task, int(done), int(total), str(message))

        try:
            value = task.fn(task.token, report)
        except Cancelled:
            self.ended.emit(task, "cancelled", None)
            return
        except BaseException as exc:  # noqa: BLE001 - any failure must reach the user, not kill the thread
            self.ended.emit(task, "failed", failure_message(exc))
            return
        self.ended.emit(task, "cancelled" if task.token.is_set() else "done", value)


class TaskRunner(QObject):
    """Owns one worker thread and the tasks queued on it."""

    busyChanged = Signal(bool)  # some task is queued or running / none is any more

    _requested = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pending: dict[int, TaskHandle] = {}
        self._closed = False
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._requested.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress)
        self._worker.ended.connect(self._on_ended)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def finished(self) -> bool:
        """The thread has stopped (after ``shutdown``)."""
        return bool(self._thread.isFinished())

    def submit(self, fn: TaskFn, *, on_progress: Callable[[int, int, str], object] | None = None,
               on_done: Callable[[Any], object] | None = None, on_failed: Callable[[str], object] | None = None,
               on_cancelled: Callable[[], object] | None = None) -> TaskHandle:
        """Queue ``fn(cancel, report)`` for the worker thread; the callbacks run on the GUI thread."""
        task = TaskHandle(next(_ids), fn, on_progress, on_done, on_failed, on_cancelled)
        if self._closed:  # the window is closing (a timer fired late): the task never runs nor calls back
            task._done = True
            return task
        was_busy = self.busy
        self._pending[task.id] = task
        self._requested.emit(task)
        if not was_busy:
            self.busyChanged.emit(True)
        return task

    def cancel_all(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything, quit and wait for the thread; True when it finished within ``timeout_ms``.
        From here on no callback runs, even for an outcome already queued."""
        self.cancel_all()
        self._closed = True
        self._thread.quit()
        finished = bool(self._thread.wait(timeout_ms))
        for task in self._pending.values():
            task._done = True
        self._pending.clear()
        return finished

    # --- outcomes (GUI thread) -------------------------------------------------------------------
    def _on_progress(self, task: TaskHandle, done: int, total: int, message: str) -> None:
        if not self._closed and not task.done and not task._discarded and task.on_progress is not None:
            task.on_progress(done, total, message)

    def _on_ended(self, task: TaskHandle, kind: str, value: Any) -> None:
        if self._closed or task.done:
            return
        task._done = True
        self._pending.pop(task.id, None)
        try:
            if task._discarded:
                pass
            elif kind == "done" and task.on_done is not None:
                task.on_done(value)
            elif kind == "failed" and task.on_failed is not None:
                task.on_failed(str(value))
            elif kind == "cancelled" and task.on_cancelled is not None:
                task.on_cancelled()
        finally:
            if not self._pending:
                self.busyChanged.emit(False)
