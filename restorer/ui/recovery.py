"""The recovery project: after every step the open document is written, in the background, to a
.restorer file in the user's data folder; a clean quit removes it, a crash leaves it for the next start.

Each running app owns one file, ``recovery-PID.restorer``, held with a QLockFile beside it. At
start, a recovery file whose lock can be taken belongs to an app that is gone (Qt sees that its
process no longer runs) and is offered. Writes go through ``ProjectWriter``: only the new steps
are written, each in its own SQLite transaction, so a kill -9 loses at most the step in flight.
The folder is ``RESTORER_RECOVERY_DIR`` when set (tests), else QStandardPaths' AppDataLocation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal

from restorer.core.document import Document
from restorer.ui.tasks import TaskRunner

PREFIX = "recovery-"


def recovery_folder() -> Path:
    override = os.environ.get("RESTORER_RECOVERY_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".restorer") / "recovery"


def _lock_path(project: Path) -> Path:
    return project.with_suffix(".lock")


def left_behind(folder: Path | None = None) -> list[tuple[Path, QLockFile]]:
    """Recovery projects of apps that did not quit cleanly, newest first, each with its lock now held by us."""
    folder = recovery_folder() if folder is None else folder
    found: list[tuple[float, Path, QLockFile]] = []
    try:
        candidates = list(folder.glob(f"{PREFIX}*.restorer"))
    except OSError:
        return []
    for path in candidates:
        if path.name == f"{PREFIX}{os.getpid()}.restorer":
            continue  # this app's own (another window of it)
        lock = QLockFile(str(_lock_path(path)))
        lock.setStaleLockTime(0)  # age says nothing: a live app keeps its lock for days
        if not lock.tryLock(0):
            continue  # another Restorer that is running owns it
        try:
            found.append((path.stat().st_mtime, path, lock))
        except OSError:
            lock.unlock()
    return [(p, lock) for _, p, lock in sorted(found, key=lambda t: -t[0])]


def remove(path: Path, lock: QLockFile | None = None) -> None:
    """Delete a recovery project with its WAL and shared-memory files (and its lock)."""
    for extra in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{extra}")
        except OSError:
            pass
    if lock is not None:
        lock.unlock()


class RecoveryKeeper(QObject):
    """Keeps this app's recovery project in step with the window's document."""

    written = Signal(str)  # the recovery file, after each write
    writeFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = TaskRunner("recovery", self)
        self.path: Path | None = None
        self._lock: QLockFile | None = None
        self._doc: Document | None = None
        self._writer: Any = None  # a ProjectWriter, used only in the recovery thread
        self._sha: tuple[tuple[Any, ...], Any] | None = None  # the original's info, by (path, size, mtime)
        self._busy = False
        self._pending = False
        self._base_sent: int | None = None
        self._warned = False

    @property
    def busy(self) -> bool:
        return self._busy or self._pending

    def watch(self, doc: Document | None) -> None:
        """Follow ``doc`` (the window's new document): the old document's recovery file goes."""
        if doc is self._doc:
            return
        self.forget()
        self._doc = doc
        if doc is not None:
            doc.add_listener(self._on_event)
            if len(doc.history):  # an opened project or recovery: its steps are worth keeping at once
                self._schedule()

    def forget(self) -> None:
        """Stop following the document and remove its recovery file (the work is saved or discarded)."""
        if self._doc is not None:
            self._doc.remove_listener(self._on_event)
            self._doc = None
        if self._busy:  # the write in flight finishes first; the file goes after it
            self._pending = False
            self._submit(self._close_writer)
        else:
            self._close_writer()
        if self.path is not None:
            remove(self.path, self._lock)
            self.path, self._lock = None, None
        self._base_sent = None

    def shutdown(self) -> None:
        """A clean quit: wait for the recovery thread, then remove this app's recovery file."""
        self.runner.shutdown()
        self._busy = self._pending = False
        self.forget()

    # --- writing -------------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        if event.kind == "history":
            self._schedule()

    def _schedule(self) -> None:
        if self._busy:
            self._pending = True  # the newest state is written once the write in flight is done
            return
        self._busy = True
        QTimer.singleShot(0, self, self._write)  # events of one user action arrive as one write

    def _write(self) -> None:
        from restorer.core.project import snapshot

        doc = self._doc
        if doc is None or doc.stroke_active:
            # Never end the user's drag (snapshot commits it, and the canvas would paint into a
            # closed stroke): its commit sends a history event, which writes then.
            self._busy = False
            return
        if self.path is None:
            self._claim()
        snap = snapshot(doc, with_base=self._base_sent != doc.history.dropped)
        path = self.path
        assert path is not None
        self._submit(lambda: self._sync(path, snap))

    def _submit(self, fn: Any) -> None:
        self.runner.submit(lambda cancel, report: fn(), on_done=self._done, on_failed=self._failed,
                           on_cancelled=self._end_write)

    def _claim(self) -> None:
        folder = recovery_folder()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{PREFIX}{os.getpid()}.restorer"
        remove(self.path)  # a file of an earlier app with our pid is not ours to extend
        self._lock = QLockFile(str(_lock_path(self.path)))
        self._lock.setStaleLockTime(0)
        self._lock.tryLock(0)

    def _sync(self, path: Path, snap: Any) -> Any:
        """In the recovery thread: write what changed since the last sync."""
        from restorer.core.project import ProjectWriter
        from restorer.core.provenance import software_version, utc_now

        if self._writer is None or self._writer.path != path:
            self._close_writer()
            self._writer = ProjectWriter(path, software="Restorer", version=software_version(), written=utc_now())
        self._writer.sync(snap, self._original(snap.original))
        return snap.dropped if snap.base_photo is not None else None

    def _original(self, path: Path | None) -> Any:
        from restorer.core.project import original_info

        key: tuple[Any, ...] = (None,)
        if path is not None:
            try:
                st = path.stat()
                key = (path, st.st_size, st.st_mtime_ns)
            except OSError:
                key = (path,)
        if self._sha is None or self._sha[0] != key:
            self._sha = (key, original_info(path))  # hashing a big scan takes a second: once per file
        return self._sha[1]

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def _done(self, base_dropped: Any) -> None:
        if base_dropped is not None:
            self._base_sent = base_dropped
        if self.path is not None:
            self.written.emit(str(self.path))
        self._end_write()

    def _failed(self, message: str) -> None:
        if not self._warned:  # once: a full disk must not fill the status bar after every stroke
            self._warned = True
            self.writeFailed.emit(message)
        self._end_write()

    def _end_write(self) -> None:
        self._busy = False
        if self._pending and self._doc is not None:
            self._pending = False
            self._schedule()
