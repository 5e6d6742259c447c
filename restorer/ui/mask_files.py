"""Mask files: Import Mask and Export Mask (Mask and File menus), read and written in the file thread.

They share the photo files' thread and busy bar (FileCommands._run), so one file is read or
written at a time; an imported mask becomes one 'Import mask' step.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from restorer.core.document import Document
from restorer.errors import RestorerError
from restorer.ui import files
from restorer.ui.file_commands import Outcome

if TYPE_CHECKING:
    from restorer.ui.file_commands import FileCommands
    from restorer.ui.main_window import MainWindow


class MaskFiles(QObject):
    """Import and export of the open document's mask."""

    def __init__(self, window: MainWindow, photo_files: FileCommands) -> None:
        super().__init__(window)
        self.window = window
        self.files = photo_files

    def import_mask(self) -> None:
        """Read and decode the mask file in the file thread; it becomes one 'Import mask' step here."""
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import load_mask

        doc = self.window.document
        if doc is None:
            return
        name, _ = QFileDialog.getOpenFileName(self.window, "Import Mask", self.window.settings.last_folder, files.MASK_FILTER)
        if not name:
            return
        path, shape = Path(name), doc.shape
        self.files.run(lambda: load_mask(path, shape), Outcome(
            done=lambda mask: self._apply_mask(doc, path, mask),
            failed=lambda message: self.window.show_error("Cannot import mask", message)))
        self.window.show_status(f"Reading mask {path.name}…", 0)

    def _apply_mask(self, doc: Document, path: Path, mask: Any) -> None:
        if doc is not self.window.document:
            self.window.show_status(f"Mask {path.name} was not imported: another photo was opened")
            return
        if self.window.canvas.stroking:  # replacing the mask mid-drag would cut the stroke off
            QTimer.singleShot(50, self, lambda: self._apply_mask(doc, path, mask))
            return
        try:
            doc.set_mask(mask, label="Import mask")
        except RestorerError as exc:
            self.window.show_error("Cannot import mask", str(exc))
            return
        self.window.show_status(f"Mask imported from {path.name}")

    def export_mask(self) -> None:
        """Write the mask as a PNG in the file thread, from a copy: the mask stays editable meanwhile
        (a copy is one byte a pixel, a sixth of a 16-bit RGB photo, so here it is worth it)."""
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import save_mask

        doc = self.window.document
        if doc is None:
            return
        start = Path(doc.photo.path).with_name(Path(doc.photo.path).stem + "-mask.png") if doc.photo.path else Path("mask.png")
        name, _ = QFileDialog.getSaveFileName(self.window, "Export Mask", str(start), files.MASK_FILTER)
        if not name:
            return
        path, mask = Path(name), doc.mask.copy()
        self.files.run(lambda: save_mask(mask, path), Outcome(
            done=lambda _value: self.window.show_status(f"Mask saved to {path}"),
            failed=lambda message: self.window.show_error("Cannot export mask", message)))
        self.window.show_status(f"Writing mask {path.name}…", 0)
