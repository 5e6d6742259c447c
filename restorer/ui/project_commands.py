"""File > Save Project / Open Project, `restorer PROJECT.restorer`, and the offer to recover after a crash.

A project is written from a snapshot taken on the GUI thread (the edits are immutable, the mask is
copied), so the write runs in the project thread while editing goes on; opening reads, checks and
plays the project forward there too, and the GUI thread only installs the document. When the
original photo moved or changed, the user is asked for it and the file they pick must have the
recorded sha256. Saving a project counts as saving the work: the window is no longer "modified".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from restorer.core.document import Document
from restorer.ui import recovery
from restorer.ui.canvas import CanvasView
from restorer.ui.file_commands import FileCommands
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskRunner

PROJECT_FILTER = "Restorer project (*.restorer);;All files (*)"
SAVE_KEYS = "Ctrl+Alt+S"  # Ctrl+S saves the photo and Ctrl+Shift+S is Save As
OPEN_KEYS = "Ctrl+Alt+O"
Btn = QMessageBox.StandardButton


def _load(path: Path, original: Path | None) -> Any:
    """In the project thread: the opened document with its display, or the OriginalNotFound to ask about."""
    from restorer.core.project import OriginalNotFound, open_project
    from restorer.ui.convert import MaskPyramid, RgbPyramid

    try:
        doc = open_project(path, find_original=None if original is None else (lambda info, problem: original))
    except OriginalNotFound as missing:
        return missing
    return doc, RgbPyramid(doc.pixels), MaskPyramid(doc.mask)


class ProjectCommands(QObject):
    """The two File menu commands (``save_action``, ``open_action``: the window places them), the
    project tasks on ``tasks`` and the recovery keeper. Asks ``files`` before unsaved work is lost."""

    projectSaved = Signal(str)
    projectOpened = Signal(str)
    projectFailed = Signal(str)

    def __init__(self, session: DocumentSession, tasks: TaskRunner, settings: Settings, files: FileCommands,
                 canvas: CanvasView, dialog_parent: QWidget) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = tasks
        self.settings = settings
        self.files = files
        self.canvas = canvas
        self.dialog_parent = dialog_parent
        self._project_of: tuple[Document, Path] | None = None  # the document and the project it was saved to / opened from
        self._recovering: tuple[Path, Any] | None = None
        self.recovery = recovery.RecoveryKeeper(self)
        self.recovery.writeFailed.connect(
            lambda m: session.show_status(f"The recovery copy could not be written: {m}", 15000))
        session.documentReplaced.connect(self.recovery.watch)
        self.save_action = self._action("Save &Project…", SAVE_KEYS, self.save_dialog,
                                        "Save the photo's mask and whole history as a .restorer project")
        self.open_action = self._action("Open P&roject…", OPEN_KEYS, self.open_dialog,
                                        "Open a .restorer project with its whole history")

    def _action(self, text: str, keys: str, slot: Callable[[], object], tip: str) -> QAction:
        action = QAction(text, self.dialog_parent)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip} ({keys})")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.dialog_parent.addAction(action)
        return action

    def shutdown(self) -> None:
        """The project thread has been shut down: a clean quit, so the recovery copy goes."""
        self.recovery.shutdown()

    def _run(self, fn: Callable[[], Any], done: Callable[[Any], object], failed: Callable[[str], object]) -> None:
        self.tasks.submit(lambda cancel, report: fn(), on_done=done, on_failed=failed)

    # --- saving ----------------------------------------------------------------------------------
    def _start_path(self, doc: Document) -> Path:
        if self._project_of is not None and self._project_of[0] is doc:
            return self._project_of[1]
        if doc.photo.path is not None:
            return Path(doc.photo.path).with_suffix(".restorer")
        return Path(self.settings.last_folder) / "untitled.restorer"

    def save_dialog(self) -> bool:
        doc = self.session.document
        if doc is None:
            self.session.show_status("Open a photo first: a project holds a photo's mask and history")
            return False
        name, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Save Project", str(self._start_path(doc)), PROJECT_FILTER,
                                              "", QFileDialog.Option.DontConfirmOverwrite)
        if not name:
            return False
        path = Path(name)
        if path.suffix.lower() != ".restorer":
            path = path.with_name(path.name + ".restorer")
        if path.exists():
            answer = QMessageBox.question(self.dialog_parent, "Replace project?", f"{path.name} already exists. Replace it?",
                                          Btn.Yes | Btn.No, Btn.No)
            if answer != Btn.Yes:
                return False
        return self.save_to(path)

    def save_to(self, path: Path) -> bool:
        """Write the document as the project ``path`` in the project thread (True when the write started)."""
        from restorer.core.project import snapshot, write_project

        doc = self.session.document
        if doc is None:
            return False
        self.canvas.abort_stroke()
        snap, revision, photo_revision = snapshot(doc), doc.revision, doc.photo_revision
        embed = self.settings.embed_original
        self._run(lambda: write_project(snap, path, embed_original=embed),
                  done=lambda _value: self._saved(doc, path, (revision, photo_revision), len(snap.steps), embed),
                  failed=self._save_failed)
        self.session.show_status(f"Saving project {path.name}…", 0)
        return True

    def _saved(self, doc: Document, path: Path, revisions: tuple[int, int], steps: int, embed: bool = False) -> None:
        self._project_of = (doc, path)
        # The work is kept: closing need not ask again. The photo was not locked during the write,
        # so a fill that landed meanwhile still counts as an unsaved photo change.
        doc.mark_saved(path, revision=revisions[0], photo_revision=revisions[1])
        self.settings.add_recent(path)
        self.files.rebuild_recent()
        embedded = ", the original inside" if embed and doc.photo.path is not None else ""
        self.session.show_status(f"Saved project {path.name}: {steps} steps, {path.stat().st_size / 1e6:.1f} MB{embedded}")
        self.projectSaved.emit(str(path))

    def _save_failed(self, message: str) -> None:
        self.session.show_error("Cannot save project", message)
        self.projectFailed.emit(message)

    # --- opening ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open Project", self.settings.last_folder, PROJECT_FILTER)
        if name:
            self.open_path(name)

    def open_path(self, path: str | Path, original: Path | None = None, *, confirm: bool = True) -> bool:
        """Start opening the project ``path``; False when the user kept the current photo."""
        path = Path(path)
        if confirm and not self.files.confirm_discard(lambda: self.open_path(path, original), f"{path.name} opens"):
            return False
        self._run(lambda: _load(path, original), done=lambda value: self._loaded(path, value),
                  failed=lambda message: self._open_failed(path, message))
        self.session.show_status(f"Opening project {path.name}…", 0)
        return True

    def _loaded(self, path: Path, value: Any) -> None:
        from restorer.core.project import OriginalNotFound

        if isinstance(value, OriginalNotFound):
            self._ask_for_original(path, value)
            return
        doc, display, mask_pyramid = value
        recovering = self._recovering is not None and self._recovering[0] == path
        if recovering:
            doc.revision += 1  # recovered work is saved nowhere the user chose: closing asks first
        # A recovered photo goes into the recent files as itself, not as the recovery file.
        self.session.install(Path(doc.photo.path) if recovering and doc.photo.path else path, doc, display, mask_pyramid)
        if recovering:
            assert self._recovering is not None
            recovery.remove(*self._recovering)  # the keeper now writes this app's own recovery file
            self._recovering = None
            self.session.show_status(f"Recovered {len(doc.history)} steps on "
                                    f"{doc.photo.path.name if doc.photo.path else 'the photo'}", 15000)
        else:
            self._project_of = (doc, path)
            self.session.show_status(f"Opened project {path.name}: {len(doc.history)} steps, "
                                    f"at step {doc.history.index}")
        self.projectOpened.emit(str(path))

    def _ask_for_original(self, path: Path, missing: Any) -> None:
        answer = QMessageBox.question(
            self.dialog_parent, "Where is the original photo?",
            f"{missing.problem}.\n\nThe project {path.name} is played forward from its original photo. "
            "Find the original (the file must be the same, byte for byte)?", Btn.Yes | Btn.No, Btn.Yes)
        if answer == Btn.Yes:
            start = str(missing.info.path.parent if missing.info.path else self.settings.last_folder)
            from restorer.ui.files import OPEN_FILTER

            name, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Find the Original Photo", start, OPEN_FILTER)
            if name:
                self.open_path(path, Path(name), confirm=False)
                return
        self._open_failed(path, str(missing))

    def _open_failed(self, path: Path, message: str) -> None:
        if self._recovering is not None and self._recovering[0] == path:
            self._recovering[1].unlock()  # the file stays: it is offered again on the next start
            self._recovering = None
        self.session.show_error("Cannot open project", message)
        self.projectFailed.emit(message)

    # --- recovery --------------------------------------------------------------------------------
    def offer_recovery(self) -> bool:
        """At start: offer the work an app that crashed left behind; True when it is being recovered."""
        from restorer.core.project import read_project
        from restorer.errors import RestorerError

        found = recovery.left_behind()
        if not found:
            return False
        path, lock = found[0]
        for _other, other_lock in found[1:]:
            other_lock.unlock()  # one at a time: the others are offered on later starts
        try:
            data = read_project(path)
        except RestorerError as exc:
            recovery.remove(path, lock)  # torn beyond use (its last commit is always whole, so rare)
            self.session.show_status(f"A recovery file was left but cannot be read: {exc}", 15000)
            return False
        name = data.original.path.name if data.original.path else "an unsaved photo"
        answer = QMessageBox.question(
            self.dialog_parent, "Recover unsaved work?",
            f"Restorer did not quit properly last time. Recover the work on {name} "
            f"({len(data.steps)} steps)?\n\nNo discards it.", Btn.Yes | Btn.No, Btn.Yes)
        if answer != Btn.Yes:
            recovery.remove(path, lock)
            return False
        self._recovering = (path, lock)
        return self.open_path(path, confirm=False)

