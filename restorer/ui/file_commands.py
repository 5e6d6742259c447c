"""The File menu's work: open (dialog, drop, paste, recent, command line), save beside the original
or Save As, and ask before unsaved work is lost (mask files: mask_files.py, on the same thread).

Reading and writing a big scan takes seconds, so every file is read or written in the file
thread (one JobRunner) and the outcome comes back to the GUI thread through ``_run``'s
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
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from restorer.core import image, jpegmaster
from restorer.core.provenance import SaveProvenance, history_steps, save_with_provenance
from restorer.errors import ImageError
from restorer.ui import files
from restorer.ui.worker import JobRunner

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow

Then = Callable[[], object]


@dataclass(frozen=True)
class Outcome:
    """What the GUI thread does with one file job's outcome."""

    done: Callable[[Any], None]
    failed: Callable[[str], None]
    cancelled: Callable[[], object] = lambda: None


@dataclass
class _Save:
    """The write in flight: which document state goes to which file, and who waits for it."""

    doc: Any
    path: Path
    revision: int
    started: float
    then: list[Then] = field(default_factory=list)


def _write_photo(photo: image.Photo, path: Path, allow_8bit: bool, drop_alpha: bool,
                 prov: SaveProvenance | None = None) -> list[str]:
    """Runs in the file thread: encode and write atomically (with the sidecar when ``prov``);
    every failure is one line. Returns notes for the status bar (a block the format cannot carry, a
    sidecar that could not be written)."""
    try:
        if prov is not None:
            return save_with_provenance(photo, path, prov, allow_8bit=allow_8bit, drop_alpha=drop_alpha)
        return jpegmaster.save(photo, path, allow_8bit=allow_8bit, drop_alpha=drop_alpha)[0]
    except OSError as exc:  # save_photo words its own; this is a last guard against a traceback
        raise ImageError(f"{path}: cannot save: {exc.strerror or exc}") from None


class FileCommands(QObject):
    """Owns the file thread and where the document is saved; reports through the window's signals."""

    saveStarted = Signal()
    saveEnded = Signal()  # written or failed: the photo can change again
    recentChanged = Signal(list)  # the recent photos, newest first
    loadingChanged = Signal()  # a photo started or stopped loading

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._loading: int | None = None
        self._saving: _Save | None = None
        self._save_path: Path | None = None
        self._outcomes: dict[int, Outcome] = {}
        self.io = JobRunner("file-io", self)
        self.io.computed.connect(lambda job_id, value: self._ended(job_id).done(value))
        self.io.failed.connect(lambda job_id, message: self._ended(job_id).failed(message))
        self.io.cancelled.connect(lambda job_id: self._ended(job_id).cancelled())

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def saving(self) -> bool:
        return self._saving is not None

    def cancel_loading(self) -> None:
        if self._loading is not None:
            self.io.cancel(self._loading)

    def forget_save_path(self) -> None:
        """A new document: Ctrl+S starts again from NAME-restored beside its original."""
        self._save_path = None

    def shutdown(self) -> None:
        # Waits for a write in flight: save_photo is atomic, so the file is then whole or untouched.
        self.io.shutdown()
        self._outcomes.clear()
        if self._saving is not None:
            self._saving.doc.unlock_photo()
            self._saving = None
        if self._loading is not None:
            self._loading = None
            QApplication.restoreOverrideCursor()
        self.window.file_bar.hide()

    # --- the file thread -------------------------------------------------------------------------
    def run(self, fn: Callable[[], Any], outcome: Outcome) -> int:
        """Run ``fn()`` in the file thread; ``outcome`` gets its value or one-line error on the GUI thread."""
        job_id = self.io.submit_call(lambda cancel: fn())
        self._outcomes[job_id] = outcome
        self.window.file_bar.show()
        return job_id

    def _ended(self, job_id: int) -> Outcome:
        outcome = self._outcomes.pop(job_id, None)
        self.window.file_bar.setVisible(bool(self._outcomes))
        return outcome or Outcome(lambda value: None, lambda message: None)

    # --- opening ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self.window, "Open Photo", self.window.settings.last_folder, files.OPEN_FILTER)
        if name:
            self.open_path(name)

    def open_path(self, path: str | Path, partial: bool = False) -> bool:
        """Start loading ``path`` in the background; False when it did not start now (the user kept
        the current photo, or it opens once the save of the current one has written its file).
        ``partial``: open what can be read of a truncated JPEG (asked for after a failed load)."""
        path = Path(path)
        if path.suffix.lower() == ".restorer":  # a project: its own loader, asked for its original if it moved
            return self.window.projects.open_path(path)
        if not partial and not self.confirm_discard(lambda: self.open_path(path), f"{path.name} opens"):
            return False
        if self._loading is not None:
            self.io.cancel(self._loading)
        else:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        job_id = self.run(lambda: files.load_for_display(path, partial), Outcome(
            done=lambda value: self._end_loading(job_id) and self._opened(value),
            failed=lambda message: self._end_loading(job_id) and self._load_failed(message, None if partial else path),
            cancelled=lambda: self._end_loading(job_id)))
        self._loading = job_id
        self.loadingChanged.emit()
        self.window.show_status(f"Opening {path.name}…", 0)
        return True

    def open_image(self, qimage: Any, source: str = "the clipboard") -> bool:
        """A photo from image data (pasted, or dropped from a browser): an untitled document whose
        first Save asks where to write it. False when there was no image or the user kept the current photo."""
        from restorer.ui.clipboard import photo_from_qimage

        if qimage is None:
            self.window.show_status(f"There is no image in {source} to paste")
            return False
        if not self.confirm_discard(lambda: self.open_image(qimage, source), f"the image from {source} opens"):
            return False
        try:
            photo = photo_from_qimage(qimage)
        except (ValueError, MemoryError) as exc:
            self.window.show_error("Cannot paste", f"The image from {source} cannot be used: {exc}")
            return False
        if self._loading is not None:
            self.io.cancel(self._loading)
        else:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        job_id = self.run(lambda: (None, *files.prepare_for_display(photo)), Outcome(
            done=lambda value: self._end_loading(job_id) and self._opened(value),
            failed=lambda message: self._end_loading(job_id) and self._load_failed(message),
            cancelled=lambda: self._end_loading(job_id)))
        self._loading = job_id
        self.loadingChanged.emit()
        self.window.show_status(f"Opening the image from {source}…", 0)
        return True

    def _end_loading(self, job_id: int) -> bool:
        """True when ``job_id`` is the photo being opened (a superseded one's outcome is ignored)."""
        if job_id != self._loading:
            return False
        self._loading = None
        QApplication.restoreOverrideCursor()
        self.loadingChanged.emit()
        return True

    def _opened(self, value: tuple[Any, ...]) -> None:
        self.window.install(*value)
        path, doc = value[0], value[1]
        notes = doc.photo.meta.extra.get("notes", [])
        if notes:  # what loading changed (pages dropped, CMYK to RGB...) must not pass silently
            self.window.show_status(f"Opened {path.name if path else 'untitled'}; note: {'; '.join(notes)}", 20000)

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
        self.window.show_error("Cannot open photo", message)
        self.window.openFailed.emit(message)

    def rebuild_recent(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        recent = self.window.settings.recent_files
        for entry in recent:
            action = menu.addAction(Path(entry).name)
            action.setToolTip(entry)
            action.setStatusTip(entry)
            action.triggered.connect(lambda _checked=False, p=entry: self.open_path(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent", lambda: (self.window.settings.clear_recent(), self.rebuild_recent()))
        menu.setEnabled(bool(recent))
        self.recentChanged.emit(recent)

    # --- saving ----------------------------------------------------------------------------------
    def save(self, *, then: Then | None = None) -> bool:
        """Ctrl+S: a new file beside the original (NAME-restored.ext), then that file on later saves.

        True when the write started in the file thread; ``then`` runs on the GUI thread once the
        file is written, never when the save fails or does not start.
        """
        doc = self.window.document
        if doc is None or self._refuse_second_save():
            return False
        if self._save_path is None:
            if doc.photo.path is None:
                return self.save_as(then=then)
            self._save_path = files.restored_path(Path(doc.photo.path))
        return self._write(self._save_path, then)

    def save_as(self, *, then: Then | None = None) -> bool:
        """Save As: the same as ``save`` to a file the user picks (asking before replacing one)."""
        doc = self.window.document
        if doc is None or self._refuse_second_save():
            return False
        original = Path(doc.photo.path) if doc.photo.path else None
        # A pasted photo has no original: PNG keeps its bits losslessly (16-bit too).
        start = self._save_path or (files.restored_path(original) if original else Path(self.window.settings.last_folder) / "untitled.png")
        path = files.ask_save_path(self.window, start, start.suffix)
        if path is None:
            return False
        try:
            image.save_format(path)  # the same check and message as save_photo and the CLI
        except ImageError as exc:
            self.window.show_error("Cannot save", str(exc))
            return False
        if files.same_file(path, original):
            answer = QMessageBox.warning(
                self.window, "Overwrite the original?",
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
        self.window.show_status(f"Already saving {self._saving.path.name}…")
        return True

    def _write(self, path: Path, then: Then | None) -> bool:
        """Ask what the format needs here, then write in the file thread with the photo locked."""
        doc = self.window.document
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
        doc.lock_photo(f"Saving {path.name}: the photo can change again once the file is written")
        self._saving = _Save(doc, path, doc.revision, time.monotonic(), [then] if then else [])
        photo = doc.photo
        prov = None
        if self.window.settings.write_sidecar:
            applied = doc.history.steps[: doc.history.index]
            prov = SaveProvenance(history_steps(applied), doc.history.dropped, replace=path.exists())
        self.run(lambda: _write_photo(photo, path, allow_8bit, drop_alpha, prov),
                  Outcome(done=self._written, failed=self._write_failed, cancelled=self._end_save))
        self.window.show_status(f"Saving {path.name}…", 0)
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
        if save.doc is self.window.document:  # another photo may have been opened meanwhile
            self._save_path = path
        self.window.settings.last_folder = str(path.parent)
        said = f" — note: {'; '.join(notes)}" if notes else ""
        self.window.show_status(f"Saved {path.name} in {time.monotonic() - save.started:.1f} s — {path.parent}{said}",
                                20000 if notes else 8000)
        self.window.photoSaved.emit(str(path))
        # Before saveEnded, so a fill result held back by the save cannot dirty a document
        # that is about to be closed or replaced.
        for then in save.then:
            then()
        self.saveEnded.emit()

    def _write_failed(self, message: str) -> None:
        self._end_save()  # its ``then`` callbacks are dropped: nothing unsaved is discarded
        self.saveEnded.emit()
        self.window.show_error("Cannot save", message)
        self.window.saveFailed.emit(message)

    def _ask_yes(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
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
            doc = self.window.document
            if doc is None or not doc.dirty:
                return True
            if not doc.photo_dirty:  # only the mask changed: saving the photo would not keep it
                since = "the last save" if doc.saved_path is not None else "it was opened"
                answer = QMessageBox.question(
                    self.window, "Unsaved mask",
                    f"The photo has no unsaved changes; only the mask changed since {since}. The mask is not "
                    "saved with the photo (File > Save Project or Mask > Export Mask keeps it).\n\nDiscard the mask?",
                    QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Discard)
                return answer == QMessageBox.StandardButton.Discard
            answer = QMessageBox.question(
                self.window, "Unsaved changes",
                "This photo has changes that are not saved. Save them first?",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Save)
            if answer != QMessageBox.StandardButton.Save:
                return answer == QMessageBox.StandardButton.Discard
            if not self.save(then=then):
                return False
        elif then not in self._saving.then:
            self._saving.then.append(then)
        self.window.show_status(f"Saving {self._saving.path.name}… {after_save} once it is written", 0)
        return False
