"""The task runner on its own: queued cancel, stale handles, failures as one line, shutdown, order, progress."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from restorer.errors import Cancelled, ImageError
from restorer.ui.tasks import TaskRunner, drain_engine


class Outcomes:
    """Records every callback of the tasks it makes callbacks for, in the order they arrive."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any, Any]] = []
        self.threads: list[threading.Thread] = []

    def of(self, name: str) -> dict[str, Any]:
        return {
            "on_progress": lambda done, total, message: self.events.append((name, "progress", (done, total, message))),
            "on_done": lambda value: self.events.append((name, "done", value)),
            "on_failed": lambda message: self.events.append((name, "failed", message)),
            "on_cancelled": lambda: self.events.append((name, "cancelled", None)),
        }

    def ends(self) -> list[tuple[str, str]]:
        return [(name, kind) for name, kind, _ in self.events if kind != "progress"]


@pytest.fixture
def runner(qtbot: Any) -> Any:
    r = TaskRunner("test-tasks")
    yield r
    r.shutdown(10000)
    assert r.finished


def _gate() -> tuple[threading.Event, threading.Event, Any]:
    """A task that says it started and waits until released (or cancelled)."""
    started, release = threading.Event(), threading.Event()

    def fn(cancel: threading.Event, report: Any) -> str:
        started.set()
        while not release.wait(0.01):
            if cancel.is_set():
                raise Cancelled("stopped")
        return "gate"

    return started, release, fn


def test_a_task_runs_in_the_worker_thread_and_its_value_comes_back_on_the_gui_thread(qtbot, runner):
    out = Outcomes()
    seen: list[threading.Thread] = []

    def fn(cancel, report):
        seen.append(threading.current_thread())
        report(1, 2, "half")
        return 42

    handle = runner.submit(fn, **out.of("a"))
    assert handle.id > 0 and not handle.done and runner.busy
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert seen and seen[0] is not threading.main_thread()
    assert out.events == [("a", "progress", (1, 2, "half")), ("a", "done", 42)]
    assert not runner.busy


def test_a_task_cancelled_while_queued_never_runs_and_gets_on_cancelled(qtbot, runner):
    out = Outcomes()
    started, release, gate = _gate()
    ran = threading.Event()
    first = runner.submit(gate, **out.of("first"))
    queued = runner.submit(lambda cancel, report: ran.set(), **out.of("queued"))
    assert started.wait(5)
    queued.cancel()  # still waiting behind the first
    release.set()
    qtbot.waitUntil(lambda: first.done and queued.done, timeout=5000)
    assert not ran.is_set()
    assert out.ends() == [("first", "done"), ("queued", "cancelled")]


def test_cancelling_a_running_task_reaches_on_cancelled_not_on_done(qtbot, runner):
    out = Outcomes()
    started, _release, gate = _gate()
    handle = runner.submit(gate, **out.of("a"))
    assert started.wait(5)
    handle.cancel()
    qtbot.waitUntil(lambda: handle.done, timeout=5000)
    assert out.ends() == [("a", "cancelled")]


def test_a_task_that_returns_after_its_cancel_is_cancelled(qtbot, runner):
    out = Outcomes()
    holder: dict[str, Any] = {}
    submitted = threading.Event()

    def fn(cancel, report):
        submitted.wait(5)
        holder["h"].cancel()  # as if the user pressed Esc just before it returned
        return "too late"

    holder["h"] = runner.submit(fn, **out.of("a"))
    submitted.set()
    qtbot.waitUntil(lambda: holder["h"].done, timeout=5000)
    assert out.ends() == [("a", "cancelled")]


def test_a_discarded_task_ends_without_any_callback(qtbot, runner):
    out = Outcomes()
    started, release, gate = _gate()
    running = runner.submit(gate, **out.of("running"))
    queued = runner.submit(lambda cancel, report: "never", **out.of("queued"))
    assert started.wait(5)
    running.discard()  # superseded: it stops at its next check and says nothing
    queued.discard()
    last = runner.submit(lambda cancel, report: "last", **out.of("last"))
    qtbot.waitUntil(lambda: last.done, timeout=5000)
    assert running.done and queued.done and running.cancelled
    assert out.events == [("last", "done", "last")]


def test_stale_handles_are_inert_and_ids_are_never_reused(qtbot, runner):
    out = Outcomes()
    old = runner.submit(lambda cancel, report: "old", **out.of("old"))
    qtbot.waitUntil(lambda: old.done, timeout=5000)
    old.cancel()  # a finished task: nothing happens, no second outcome
    assert not old.cancelled
    new = runner.submit(lambda cancel, report: "new", **out.of("new"))
    other = TaskRunner("other")
    try:
        elsewhere = other.submit(lambda cancel, report: None)
        assert len({old.id, new.id, elsewhere.id}) == 3  # unique across runners too
        qtbot.waitUntil(lambda: new.done and elsewhere.done, timeout=5000)
    finally:
        other.shutdown()
    assert out.ends() == [("old", "done"), ("new", "done")]


def test_exceptions_become_one_line_messages(qtbot, runner, caplog):
    out = Outcomes()

    def bug(cancel, report):
        raise ValueError("bad\nthing happened")

    def known(cancel, report):
        raise ImageError("scan.png: cannot read it")

    a = runner.submit(bug, **out.of("bug"))
    b = runner.submit(known, **out.of("known"))
    qtbot.waitUntil(lambda: a.done and b.done, timeout=5000)
    messages = {name: value for name, kind, value in out.events if kind == "failed"}
    assert messages["bug"] == "unexpected error: ValueError: bad thing happened"
    assert "\n" not in messages["bug"]
    assert messages["known"] == "scan.png: cannot read it"
    assert "Traceback" in caplog.text  # the bug's traceback went to the log
    # the thread survived both: a later task still runs
    c = runner.submit(lambda cancel, report: "alive", **out.of("after"))
    qtbot.waitUntil(lambda: c.done, timeout=5000)
    assert out.events[-1] == ("after", "done", "alive")


def test_tasks_run_and_report_in_submission_order(qtbot, runner):
    out = Outcomes()
    order: list[int] = []
    handles = [runner.submit(lambda cancel, report, k=k: order.append(k) or k, **out.of(str(k))) for k in range(8)]
    qtbot.waitUntil(lambda: all(h.done for h in handles), timeout=5000)
    assert order == list(range(8))
    assert out.ends() == [(str(k), "done") for k in range(8)]


def test_shutdown_with_a_running_task_joins_it_and_no_callback_runs_after(qtbot):
    runner = TaskRunner("shutdown-test")
    out = Outcomes()
    started, release, gate = _gate()
    running = runner.submit(gate, **out.of("running"))
    queued = runner.submit(lambda cancel, report: "never", **out.of("queued"))
    assert started.wait(5)
    assert runner.shutdown(10000)  # cancels the running one (it checks its token) and joins
    assert runner.finished and running.done and queued.done
    qtbot.wait(100)  # outcomes the worker emitted on its way out are not delivered
    assert out.events == []
    ran = threading.Event()
    late = runner.submit(lambda cancel, report: ran.set(), **out.of("late"))  # a timer firing after close
    qtbot.wait(50)
    assert late.done and not ran.is_set() and out.events == []


def test_busy_changes_when_the_first_task_comes_and_the_last_goes(qtbot, runner):
    states: list[bool] = []
    runner.busyChanged.connect(states.append)
    started, release, gate = _gate()
    a = runner.submit(gate)
    b = runner.submit(lambda cancel, report: None)
    release.set()
    qtbot.waitUntil(lambda: a.done and b.done, timeout=5000)
    assert states == [True, False]


def test_drain_engine_reports_each_step_and_returns_the_generators_value():
    class P:
        def __init__(self, done: int) -> None:
            self.done, self.total, self.message = done, 2, "crop"

    def steps():
        yield P(1)
        yield P(2)
        return "result"

    seen: list[tuple[int, int, str]] = []
    assert drain_engine(steps(), lambda d, t, m: seen.append((d, t, m))) == "result"
    assert seen == [(1, 2, "crop"), (2, 2, "crop")]
