"""The File menu's work: open (dialog, drop, paste, recent, command line), save beside the original
or Save As, and ask before unsaved work is lost (mask files: mask_files.py, on the same thread).

Reading and writing a big scan takes seconds, so every file is read or written as a task on the
file thread (its own TaskRunner) and the outcome comes back to the GUI thread through that task's
callbacks. Questions (8-bit, transparency, overwrite, unsaved changes) are asked on the GUI
thread before a job starts. While a save writes the live pixels, the document's photo is locked
(``Document.lock_photo``): fills and undo of photo edits wait, the mask stays editable, and no
copy of the photo is made. What must wait for a save to succeed (closing the window, opening
another photo after "Save them first?") is the command itself, run again from the save's ``then``
callbacks once the file is written, and dropped if the save fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QWidget

from restorer.core import image, jpegmaster
from restorer.core.document import Document
from restorer.core.provenance import SaveProvenance, history_steps, save_with_provenance
from restorer.errors import ImageError, PhotoBusy
from restorer.ui import files
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskHandle, TaskRunner

Then = Callable[[], object]


@dataclass
class _Save:
    """The write in flight: which document state goes to which file, and who waits for it."""

    doc: Document
    path: Path
    revision: int
    started: float
    then: list[Then] = field(default_factory=list)


def _write_photo(photo: image.Photo, path: Path, allow_8bit: bool, drop_alpha: bool,
                 prov: SaveProvenance | None = None, reencode: bool = False) -> list[str]:
    """Runs in the file thread: encode and write atomically (with the sidecar when ``prov``; a JPEG
    as a master unless ``reencode``); every failure is one line. Returns notes for the status bar
    (a block the format cannot carry, a sidecar that could not be written)."""
    try:
        if prov is not None:
            return save_with_provenance(photo, path, prov, allow_8bit=allow_8bit, drop_alpha=drop_alpha,
                                        reencode=reencode)
        return jpegmaster.save(photo, path, allow_8bit=allow_8bit, drop_alpha=drop_alpha, reencode=reencode)[0]
    except OSError as exc:  # save_photo words its own; this is a last guard against a traceback
        raise ImageError(f"{path}: cannot save: {exc.strerror or exc}") from None


class FileCommands(QObject):
    """Where the session's document comes from and is saved to; files are read and written on ``tasks``.

    ``dialog_parent`` owns its dialogs; ``open_project`` opens a .restorer file named where a photo
    was expected (drop, recent files, command line). It owns the Open Recent menu.
    """

    saveStarted = Signal()
    saveEnded = Signal()  # written or failed: the photo can change again
    recentChanged = Signal(list)  # the recent photos, newest first
    loadingChanged = Signal()  # a photo started or stopped loading
    openFailed = Signal(str)
    photoSaved = Signal(str)
    saveFailed = Signal(str)

    def __init__(self, session: DocumentSession, tasks: TaskRunner, settings: Settings, dialog_parent: QWidget,
                 open_project: Callable[[Path], bool]) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = tasks
        self.settings = settings
        self.dialog_parent = dialog_parent
        self.open_project = open_project
        self.recent_menu = QMenu("Open &Recent", dialog_parent)
        self._loading: TaskHandle | None = None
        self._saving: _Save | None = None
        self._save_path: Path | None = None

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def saving(self) -> bool:
        return self._saving is not None

    def cancel_loading(self) -> None:
        if self._loading is not None:
            self._loading.cancel()

    def forget_save_path(self) -> None:
        """A new document: Ctrl+S starts again from NAME-restored beside its original."""
        self._save_path = None

    def shutdown(self) -> None:
        """The file thread has been shut down (it waited for a write in flight: the file is whole or untouched)."""
        if self._saving is not None:
            self._saving.doc.unlock_photo()
            self._saving = None
        if self._loading is not None:
            self._loading = None
            QApplication.restoreOverrideCursor()

    # --- opening ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open Photo", self.settings.last_folder, files.OPEN_FILTER)
        if name:
            self.open_path(name)

    def open_path(self, path: str | Path, partial: bool = False) -> bool:
        """Start loading ``path`` in the background; False when it did not start now (the user kept
        the current photo, or it opens once the save of the current one has written its file).
        ``partial``: open what can be read of a truncated JPEG (asked for after a failed load)."""
        path = Path(path)
        if path.suffix.lower() == ".restorer":  # a project: its own loader, asked for its original if it moved
            return self.open_project(path)
        if not partial and not self.confirm_discard(lambda: self.open_path(path), f"{path.name} opens"):
            return False
        self._load(lambda: files.load_for_display(path, partial), None if partial else path)
        self.session.show_status(f"Opening {path.name}…", 0)
        return True

    def _load(self, fn: Callable[[], Any], path: Path | None) -> None:
        """Read and prepare a photo on the file thread; a load still running is superseded."""
        if self._loading is not None:
            self._loading.discard()
        else:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        self._loading = self.tasks.submit(
            lambda cancel, report: fn(),
            on_done=lambda value: self._end_loading() and self._opened(value),
            on_failed=lambda message: self._end_loading() and self._load_failed(message, path),
            on_cancelled=self._end_loading)
        self.loadingChanged.emit()

    def open_image(self, qimage: Any, source: str = "the clipboard") -> bool:
        """A photo from image data (pasted, or dropped from a browser): an untitled document whose
        first Save asks where to write it. False when there was no image or the user kept the current photo."""
        from restorer.ui.clipboard import photo_from_qimage

        if qimage is None:
            self.session.show_status(f"There is no image in {source} to paste")
            return False
        if not self.confirm_discard(lambda: self.open_image(qimage, source), f"the image from {source} opens"):
            return False
        try:
            photo = photo_from_qimage(qimage)
        except (ValueError, MemoryError) as exc:
            self.session.show_error("Cannot paste", f"The image from {source} cannot be used: {exc}")
            return False
        self._load(lambda: (None, *files.prepare_for_display(photo)), None)
        self.session.show_status(f"Opening the image from {source}…", 0)
        return True

    def _end_loading(self) -> bool:
        """The photo being opened is read (or failed, or was cancelled); a superseded one never gets here."""
        if self._loading is None:
            return False
        self._loading = None
        QApplication.restoreOverrideCursor()
        self.loadingChanged.emit()
        return True

    def _opened(self, value: tuple[Any, ...]) -> None:
        self.session.install(*value)
        path, doc = value[0], value[1]
        notes = doc.photo.meta.extra.get("notes", [])
        if notes:  # what loading changed (pages dropped, CMYK to RGB...) must not pass silently
            self.session.show_status(f"Opened {path.name if path else 'untitled'}; note: {'; '.join(notes)}", 20000)

    def _load_failed(self, message: str, path: Path | None = None) -> None:
        from restorer.core.partial import can_read_partly

        if path is not None and can_read_partly(path, message):
            # As GIMP does: the readable part of an incomplete download is often worth restoring.
            if self._ask_yes("Open the readable part?",
                             f"{path.name} is truncated (an incomplete download or copy?).\n\n"
                             "Open the part that could be read? The rest shows gray, and the photo is marked "
                             "as partly read."):
                self.open_path(path, partial=True)
                return
        self.session.show_error("Cannot open photo", message)
        self.openFailed.emit(message)

    def rebuild_recent(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_files
        for entry in recent:
            action = menu.addAction(Path(entry).name)
            action.setToolTip(entry)
            action.setStatusTip(entry)
            action.triggered.connect(lambda _checked=False, p=entry: self.open_path(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent", lambda: (self.settings.clear_recent(), self.rebuild_recent()))
        menu.setEnabled(bool(recent))
        self.recentChanged.emit(recent)

    # --- saving ----------------------------------------------------------------------------------
    def save(self, *, then: Then | None = None) -> bool:
        """Ctrl+S: a new file beside the original (NAME-restored.ext), then that file on later saves.

        True when the write started in the file thread; ``then`` runs on the GUI thread once the
        file is written, never when the save fails or does not start.
        """
        doc = self.session.document
        if doc is None or self._refuse_second_save():
            return False
        if self._save_path is None:
            if doc.photo.path is None:
                return self.save_as(then=then)
            self._save_path = files.restored_path(Path(doc.photo.path))
        return self._write(self._save_path, then)

    def save_as(self, *, then: Then | None = None) -> bool:
        """Save As: the same as ``save`` to a file the user picks (asking before replacing one)."""
        doc = self.session.document
        if doc is None or self._refuse_second_save():
            return False
        original = Path(doc.photo.path) if doc.photo.path else None
        # A pasted photo has no original: PNG keeps its bits losslessly (16-bit too).
        start = self._save_path or (files.restored_path(original) if original else Path(self.settings.last_folder) / "untitled.png")
        path = files.ask_save_path(self.dialog_parent, start, start.suffix)
        if path is None:
            return False
        try:
            image.save_format(path)  # the same check and message as save_photo and the CLI
        except ImageError as exc:
            self.session.show_error("Cannot save", str(exc))
            return False
        if files.same_file(path, original):
            answer = QMessageBox.warning(
                self.dialog_parent, "Overwrite the original?",
                f"{path.name} is the original photo. Replacing it cannot be undone after you close Restorer.\n\n"
                "Overwrite the original?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        elif path.exists() and not self._ask_yes("Replace file?", f"{path.name} already exists. Replace it?"):
            return False
        return self._write(path, then)

    def _refuse_second_save(self) -> bool:
        if self._saving is None:
            return False
        self.session.show_status(f"Already saving {self._saving.path.name}…")
        return True

    def _write(self, path: Path, then: Then | None) -> bool:
        """Ask what the format needs here, then write in the file thread with the photo locked."""
        doc = self.session.document
        assert doc is not None
        only_8bit, no_alpha = files.format_limits(path)
        allow_8bit = drop_alpha = False
        if only_8bit and doc.pixels.dtype.itemsize > 1:
            if not self._ask_yes("Save as 8-bit?", f"This photo has 16 bits per channel; {path.suffix} files hold only 8. "
                                 "Save a reduced 8-bit copy? (Choose No and save as .tif or .png to keep 16 bits.)"):
                return False
            allow_8bit = True
        if no_alpha and doc.photo.alpha is not None:
            if not self._ask_yes("Drop transparency?", f"{path.suffix} files cannot hold this photo's transparency. "
                                 "Save without it?"):
                return False
            drop_alpha = True
        # The worker reads the live pixels (no 600 MB copy of a big scan): they stay as they are
        # until the file is written, and the revision says which state that file holds.
        try:
            doc.lock_photo(f"Saving {path.name}: the photo can change again once the file is written")
        except PhotoBusy as exc:  # a fill is copying its crops (a moment): the save is not started
            self.session.show_status(str(exc))
            return False
        self._saving = _Save(doc, path, doc.revision, time.monotonic(), [then] if then else [])
        photo = doc.photo
        prov = None
        if self.settings.write_sidecar:
            applied = doc.history.steps[: doc.history.index]
            prov = SaveProvenance(history_steps(applied), doc.history.dropped, replace=path.exists())
        reencode = not self.settings.jpeg_master
        self.tasks.submit(lambda cancel, report: _write_photo(photo, path, allow_8bit, drop_alpha, prov, reencode),
                          on_done=self._written, on_failed=self._write_failed, on_cancelled=self._end_save)
        self.session.show_status(f"Saving {path.name}…", 0)
        self.saveStarted.emit()
        return True

    def _end_save(self) -> _Save:
        save, self._saving = self._saving, None
        assert save is not None
        save.doc.unlock_photo()
        return save

    def _written(self, notes: Any) -> None:
        save = self._end_save()
        path = save.path
        save.doc.mark_saved(path, revision=save.revision)
        if save.doc is self.session.document:  # another photo may have been opened meanwhile
            self._save_path = path
        self.settings.last_folder = str(path.parent)
        said = f" — note: {'; '.join(notes)}" if notes else ""
        self.session.show_status(f"Saved {path.name} in {time.monotonic() - save.started:.1f} s — {path.parent}{said}",
                                20000 if notes else 8000)
        self.photoSaved.emit(str(path))
        # Before saveEnded, so a fill result held back by the save cannot dirty a document
        # that is about to be closed or replaced.
        for then in save.then:
            then()
        self.saveEnded.emit()

    def _write_failed(self, message: str) -> None:
        self._end_save()  # its ``then`` callbacks are dropped: nothing unsaved is discarded
        self.saveEnded.emit()
        self.session.show_error("Cannot save", message)
        self.saveFailed.emit(message)

    def _ask_yes(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.dialog_parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_discard(self, then: Then, after_save: str) -> bool:
        """True when going on now loses no unsaved work: there is none, or the user discards it.

        False when the user cancels, or when going on must wait for a save (the one the user
        chooses here, or one already writing): ``then``, the command to try again, runs once that
        save has written its file, and never if it fails. ``after_save`` says what then happens
        ("the window closes"), for the status bar.
        """
        if self._saving is None:
            doc = self.session.document
            if doc is None or not doc.dirty:
                return True
            if not doc.photo_dirty:  # only the mask changed: saving the photo would not keep it
                since = "the last save" if doc.saved_path is not None else "it was opened"
                answer = QMessageBox.question(
                    self.dialog_parent, "Unsaved mask",
                    f"The photo has no unsaved changes; only the mask changed since {since}. The mask is not "
                    "saved with the photo (File > Save Project or Mask > Export Mask keeps it).\n\nDiscard the mask?",
                    QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Discard)
                return answer == QMessageBox.StandardButton.Discard
            answer = QMessageBox.question(
                self.dialog_parent, "Unsaved changes",
                "This photo has changes that are not saved. Save them first?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save)
            if answer != QMessageBox.StandardButton.Save:
                return answer == QMessageBox.StandardButton.Discard
            if not self.save(then=then):
                return False
        elif then not in self._saving.then:
            self._saving.then.append(then)
        assert self._saving is not None
        self.session.show_status(f"Saving {self._saving.path.name}… {after_save} once it is written", 0)
        return False
