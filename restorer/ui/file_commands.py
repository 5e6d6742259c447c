"""The File menu's work: open (dialog, drop, recent, command line) in a loader thread, save beside the
original or Save As, import/export the mask, and ask before unsaved work is lost."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from restorer.core.image import save_format
from restorer.errors import ImageError, RestorerError
from restorer.ui import files
from restorer.ui.worker import JobRunner

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow


class FileCommands(QObject):
    """Owns the loader thread and where the document is saved; reports through the window's signals."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._loading: int | None = None
        self._save_path: Path | None = None
        self.loader = JobRunner("photo-loader", self)
        self.loader.computed.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.cancelled.connect(self._end_loading)

    @property
    def loading(self) -> bool:
        return self._loading is not None

    def cancel_loading(self) -> None:
        if self._loading is not None:
            self.loader.cancel(self._loading)

    def forget_save_path(self) -> None:
        """A new document: Ctrl+S starts again from NAME-restored beside its original."""
        self._save_path = None

    def shutdown(self) -> None:
        self.loader.shutdown()
        if self._loading is not None:
            self._loading = None
            self.window.load_bar.hide()
            QApplication.restoreOverrideCursor()

    # --- opening ---------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        name, _ = QFileDialog.getOpenFileName(self.window, "Open Photo", self.window.settings.last_folder, files.OPEN_FILTER)
        if name:
            self.open_path(name)

    def open_path(self, path: str | Path) -> bool:
        """Start loading ``path`` in the background; False when the user kept the current photo."""
        path = Path(path)
        if not self.confirm_discard():
            return False
        if self._loading is not None:
            self.loader.cancel(self._loading)
        self._loading = self.loader.submit_call(lambda cancel: files.load_for_display(path))
        self.window.load_bar.show()
        self.window.show_status(f"Opening {path.name}…", 0)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        return True

    def _end_loading(self, job_id: int) -> bool:
        if job_id != self._loading:
            return False
        self._loading = None
        self.window.load_bar.hide()
        QApplication.restoreOverrideCursor()
        return True

    def _on_loaded(self, job_id: int, value: Any) -> None:
        if self._end_loading(job_id):
            self.window.install(*value)

    def _on_load_failed(self, job_id: int, message: str) -> None:
        if self._end_loading(job_id):
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

    # --- saving ----------------------------------------------------------------------------------
    def save(self) -> bool:
        """Ctrl+S: a new file beside the original (NAME-restored.ext), then that file on later saves."""
        doc = self.window.document
        if doc is None:
            return False
        if self._save_path is None:
            if doc.photo.path is None:
                return self.save_as()
            self._save_path = files.restored_path(Path(doc.photo.path))
        return self._write(self._save_path)

    def save_as(self) -> bool:
        doc = self.window.document
        if doc is None:
            return False
        original = Path(doc.photo.path) if doc.photo.path else None
        start = self._save_path or (files.restored_path(original) if original else Path(self.window.settings.last_folder) / "restored.tif")
        path = files.ask_save_path(self.window, start, start.suffix)
        if path is None:
            return False
        try:
            save_format(path)  # the same check and message as save_photo and the CLI
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
        elif path.exists():
            answer = QMessageBox.question(
                self.window, "Replace file?", f"{path.name} already exists. Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if self._write(path):
            self._save_path = path
            return True
        return False

    def _write(self, path: Path) -> bool:
        from restorer.core.image import save_photo

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
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            save_photo(doc.photo, path, allow_8bit=allow_8bit, drop_alpha=drop_alpha)
        except (RestorerError, OSError) as exc:
            QApplication.restoreOverrideCursor()
            self.window.show_error("Cannot save", str(exc))
            return False
        QApplication.restoreOverrideCursor()
        doc.mark_saved(path)
        self.window.settings.last_folder = str(path.parent)
        self.window.show_status(f"Saved {path}")
        self.window.photoSaved.emit(str(path))
        return True

    def _ask_yes(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def confirm_discard(self) -> bool:
        """True when there is no unsaved work, or the user saved or discarded it."""
        doc = self.window.document
        if doc is None or not doc.dirty:
            return True
        answer = QMessageBox.question(
            self.window, "Unsaved changes",
            "This photo has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def import_mask(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import load_mask

        doc = self.window.document
        if doc is None:
            return
        name, _ = QFileDialog.getOpenFileName(self.window, "Import Mask", self.window.settings.last_folder, files.MASK_FILTER)
        if not name:
            return
        try:
            doc.set_mask(load_mask(Path(name), doc.shape), label="Import mask")
        except RestorerError as exc:
            self.window.show_error("Cannot import mask", str(exc))

    def export_mask(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import save_mask

        doc = self.window.document
        if doc is None:
            return
        start = Path(doc.photo.path).with_name(Path(doc.photo.path).stem + "-mask.png") if doc.photo.path else Path("mask.png")
        name, _ = QFileDialog.getSaveFileName(self.window, "Export Mask", str(start), files.MASK_FILTER)
        if not name:
            return
        try:
            save_mask(doc.mask, Path(name))
        except (RestorerError, OSError) as exc:
            self.window.show_error("Cannot export mask", str(exc))
            return
        self.window.show_status(f"Mask saved to {name}")
