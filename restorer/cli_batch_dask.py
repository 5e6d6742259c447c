"""restorer-cli batch --dask: the same per-photo work on a Dask distributed cluster.

The client (the CLI process) plans the batch exactly as the sequential run does, skips what that
run would skip, and writes every record line and the in-flight file itself, one line per photo as
its future completes (cli_batch_work.Tally): the record and resume logic stay in one place. A
worker only runs cli_batch_work.fill, the sequential run's own per-photo code, which writes the
output and its sidecar atomically into the output folder (shared storage on a real cluster) and
returns the record line; what it printed (notes, errors) comes back with it and is printed here.

A worker loads each model once: the engine keeps loaded models per process (inference.runner),
and a worker is a process that runs task after task. A worker that dies mid-photo (killed, out of
memory) loses nothing: the scheduler gives its photos to another worker (distributed's
allowed-failures, 3 by default), and a photo that kills every worker it meets is recorded as
failed with that reason. Only a bounded window of photos is handed out at a time, so the
in-flight file names just those, and a folder of millions does not become millions of futures.

Imported only for --dask: the CLI starts without Dask installed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO, cast

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from restorer.cli_batch_work import Tally, base, fill, key, precheck, write_inflight
from restorer.cli_common import PROG
from restorer.errors import RestorerError

# How long to try to reach a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10.0
# Reruns of a photo whose task raised (fill turns every error of a photo into its record line, so
# this covers what is left: a worker that could not unpickle the task, a lost connection).
RETRIES = 2
# Photos handed out per worker thread: enough that no worker waits for the client between photos.
PER_THREAD = 2
PLUGIN_NAME = "restorer-batch-setup"
# Dask settings of a --dask local:N cluster (packaging/dask/restorer.yaml holds the same for real clusters):
LOCAL_SETTINGS = {
    # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's adaptive
    # mmap threshold: every photo-sized array is then mapped and unmapped afresh, and the page faults
    # cost 4x the sequential batch's system time (0.028 against 0.007 CPU s per 640 x 480 photo).
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # One photo at a time on each worker thread, none queued behind it: a worker that dies counts
    # against every photo it held, and an innocent photo queued behind a photo that kills workers
    # would follow it around until it too was given up.
    "distributed.scheduler.worker-saturation": 1.0,
}

Job = tuple[Path, Path | None, Path]


def prepare(args: argparse.Namespace) -> None:
    """Before the plan. Workers elsewhere see only absolute paths (the same on every machine, on
    shared storage), so a remote cluster's batch names its folders absolutely; local workers share
    this process's working folder. Each task uses one CPU thread unless --threads says otherwise:
    parallelism comes from the workers, not from threads inside one fill."""
    if not args.dask.startswith("local:"):
        for name in ("input", "masks", "output", "sample_area", "never_copy_from"):
            value = getattr(args, name, None)
            if value:
                setattr(args, name, os.path.abspath(value))
    if args.threads is None:
        args.threads = 1


def run_on_cluster(args: argparse.Namespace, jobs: list[Job], tally: Tally, done: dict[str, str],
                   leftover: frozenset[str], inflight: Path) -> None:
    """Fill ``jobs`` on the cluster ``args.dask`` names; every photo ends as a line in ``tally``."""
    client, cluster = connect(args.dask)
    try:
        client.register_plugin(WorkerSetup(args.threads), name=PLUGIN_NAME)
        _Run(client, args, tally, inflight).go(jobs, done, leftover)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def connect(address: str) -> tuple[Client, LocalCluster | None]:
    """A client of a new LocalCluster (local:N: N worker processes, one thread each) or of the
    scheduler at ``address``."""
    if address.startswith("local:"):
        try:
            # The scheduler's HTTP routes (health, metrics; a dashboard if bokeh is installed) on this
            # machine only, at a free port: with None it would still take 8787 on every interface.
            with dask.config.set(LOCAL_SETTINGS):  # read as the scheduler and the nannies are made
                cluster = LocalCluster(n_workers=int(address.partition(":")[2]), threads_per_worker=1, processes=True,
                                       dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise RestorerError(f"could not start a local Dask cluster: {' '.join(str(exc).split())}") from None
        return Client(cluster), cluster
    try:
        return Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise RestorerError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


class WorkerSetup(WorkerPlugin):
    """Run on every worker as it starts (and on workers that join or restart later): one CPU thread
    per fill, and what a task prints kept for the client."""

    def __init__(self, threads: int | None) -> None:
        self.threads = threads

    def setup(self, worker: Any) -> None:
        from restorer.models.device import set_cpu_threads

        os.environ.setdefault("OMP_NUM_THREADS", str(self.threads or 1))
        set_cpu_threads(self.threads, torch_too="torch" in sys.modules)
        _install_streams()


def photo_task(args: argparse.Namespace, photo: Path, mask: Path | None, target: Path, label: str,
               own: bool) -> tuple[dict[str, Any], str, str]:
    """On a worker: fill one photo; (its record line, what it printed to stdout, to stderr)."""
    with _captured() as (out, err):
        record = fill(args, photo, mask, target, label, own)
    return record, out.getvalue(), err.getvalue()


class _Run:
    """One batch on the cluster: hand out photos a window at a time, record each as it completes."""

    def __init__(self, client: Client, args: argparse.Namespace, tally: Tally, inflight: Path) -> None:
        self.client, self.args, self.tally, self.inflight = client, args, tally, inflight
        self.out = Path(args.output)
        self.pending: dict[Future, tuple[Path, Path, str]] = {}
        self.claimed: set[str] = set()  # keys of the outputs being written now: the in-flight file
        self.completed = as_completed(loop=client.loop)  # this client's loop, not the default client's
        self.tag = uuid.uuid4().hex[:8]
        self.window = self._window()

    def _window(self) -> int:
        threads = sum(self.client.nthreads().values())
        if threads == 0:
            print(f"{PROG}: note: the Dask scheduler has no workers yet; the photos wait for them", file=sys.stderr)
        return max(2, PER_THREAD * threads)

    def go(self, jobs: list[Job], done: dict[str, str], leftover: frozenset[str]) -> None:
        todo = iter(enumerate(jobs, 1))
        try:
            self._top_up(todo, done, leftover)
            for n, future in enumerate(self.completed, 1):
                if future.status in ("lost", "pending"):
                    # Finished, then lost with its worker before its result was read (that worker
                    # died on another photo): the scheduler computes it again; wait for that.
                    self.completed.add(future)
                    continue
                photo, target, name = self.pending.pop(future)
                self.tally.add(self._outcome(future, photo, target), photo, target)
                self.claimed.discard(name)
                if n % 32 == 0:
                    self.window = self._window()  # workers may have joined or left
                if not self._top_up(todo, done, leftover):
                    write_inflight(self.inflight, self.claimed)
        except BaseException:
            # Ctrl+C, SIGTERM, a lost scheduler: photos still out stay named in the in-flight file, so
            # a rerun makes them again; the record holds only complete lines.
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.pending), force=True)
            raise

    def _top_up(self, todo: Iterator[tuple[int, Job]], done: dict[str, str], leftover: frozenset[str]) -> int:
        """Hand out photos until the window is full; the number handed out (skips are recorded here)."""
        from restorer.core.provenance import sidecar_path

        submitted = 0
        while len(self.pending) < self.window:
            item = next(todo, None)
            if item is None:
                break
            i, (photo, mask, target) = item
            record = precheck(self.args, photo, mask, target, done)
            if record is not None:
                self.tally.add(record, photo, target)
                continue
            name = key(target, self.out)
            # Ours to replace: a killed run's half-made output, or one that is not there now (a retry
            # after a worker died between writing it and reporting back). Anything else is refused
            # without --overwrite, as in the sequential run.
            own = name in leftover or not (target.exists() or sidecar_path(target).exists())
            self.claimed.add(name)
            write_inflight(self.inflight, self.claimed)  # on disk before any worker can write the output
            label = f"[{i}/{self.tally.total}] {photo.name}"
            future = self.client.submit(photo_task, self.args, photo, mask, target, label, own,
                                        key=f"restorer-photo-{self.tag}-{i}", retries=RETRIES, pure=False)
            self.pending[future] = (photo, target, name)
            self.completed.add(future)
            submitted += 1
        return submitted

    def _outcome(self, future: Future, photo: Path, target: Path) -> dict[str, Any]:
        if future.status == "finished":
            record, out, err = future.result()
            self._replay(out, sys.stdout)
            self._replay(err, sys.stderr)
            return cast(dict[str, Any], record)
        if future.status == "error":
            exc = future.exception()
            if isinstance(exc, KilledWorker):
                times = getattr(exc, "allowed_failures", 0) + 1
                text = f"{photo}: its worker died {times} times while filling it (a crash or out of memory); not tried again"
            else:
                if os.environ.get("RESTORER_DEBUG") and isinstance(exc, BaseException):
                    raise exc
                text = " ".join(f"{photo}: internal error on a worker: {type(exc).__name__}: {exc}".split())
            return {**base(self.args, photo, target), "status": "failed", "error": text}
        raise RestorerError(f"the Dask cluster dropped {photo.name} ({future.status}); rerun the same command to resume")

    def _replay(self, text: str, stream: TextIO) -> None:
        if not text:
            return
        bar = self.tally.bar
        if bar is not None:
            bar.write(text.rstrip("\n"), file=stream)
        else:
            stream.write(text)
            stream.flush()


# --- what a task prints, per task ----------------------------------------------------------------


class _TaskStreams(io.TextIOBase):
    """A worker's sys.stdout / sys.stderr: what a task prints goes to that task's buffer (one per
    thread: a worker may run several tasks at once), everything else to the real stream."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.local = threading.local()

    def _buffer(self) -> io.StringIO | None:
        return getattr(self.local, "buffer", None)

    def write(self, text: str) -> int:
        buffer = self._buffer()
        return buffer.write(text) if buffer is not None else self.real.write(text)

    def flush(self) -> None:
        if self._buffer() is None:
            self.real.flush()

    def isatty(self) -> bool:
        return self._buffer() is None and self.real.isatty()

    def writable(self) -> bool:
        return True


def _install_streams() -> tuple[_TaskStreams, _TaskStreams]:
    if not isinstance(sys.stdout, _TaskStreams):
        sys.stdout = cast(TextIO, _TaskStreams(sys.stdout))
    if not isinstance(sys.stderr, _TaskStreams):
        sys.stderr = cast(TextIO, _TaskStreams(sys.stderr))
    return cast(_TaskStreams, sys.stdout), cast(_TaskStreams, sys.stderr)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    streams = _install_streams()
    buffers = (io.StringIO(), io.StringIO())
    for stream, buffer in zip(streams, buffers):
        stream.local.buffer = buffer
    try:
        yield buffers
    finally:
        for stream in streams:
            stream.local.buffer = None
