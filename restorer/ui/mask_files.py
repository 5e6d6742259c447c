"""Mask files: Import Mask and Export Mask (Mask and File menus), read and written in the file thread.

They share the photo files' task runner (its thread, and the window's busy bar that follows it), so
one file is read or written at a time; an imported mask becomes one 'Import mask' step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from restorer.core.document import Document
from restorer.errors import RestorerError
from restorer.ui import files
from restorer.ui.canvas import CanvasView
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings
from restorer.ui.tasks import TaskRunner


class MaskFiles(QObject):
    """Import and export of the open document's mask."""

    def __init__(self, session: DocumentSession, file_tasks: TaskRunner, settings: Settings, canvas: CanvasView,
                 dialog_parent: QWidget) -> None:
        super().__init__(session)
        self.session = session
        self.tasks = file_tasks
        self.settings = settings
        self.canvas = canvas
        self.dialog_parent = dialog_parent

    def import_mask(self) -> None:
        """Read and decode the mask file in the file thread; it becomes one 'Import mask' step here."""
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import load_mask

        doc = self.session.document
        if doc is None:
            return
        name, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Import Mask", self.settings.last_folder, files.MASK_FILTER)
        if not name:
            return
        path, shape = Path(name), doc.shape
        self.tasks.submit(lambda cancel, report: load_mask(path, shape),
                          on_done=lambda mask: self._apply_mask(doc, path, mask),
                          on_failed=lambda message: self.session.show_error("Cannot import mask", message))
        self.session.show_status(f"Reading mask {path.name}…", 0)

    def _apply_mask(self, doc: Document, path: Path, mask: Any) -> None:
        if doc is not self.session.document:
            self.session.show_status(f"Mask {path.name} was not imported: another photo was opened")
            return
        if self.canvas.stroking:  # replacing the mask mid-drag would cut the stroke off
            QTimer.singleShot(50, self, lambda: self._apply_mask(doc, path, mask))
            return
        try:
            doc.set_mask(mask, label="Import mask")
        except RestorerError as exc:
            self.session.show_error("Cannot import mask", str(exc))
            return
        self.session.show_status(f"Mask imported from {path.name}")

    def export_mask(self) -> None:
        """Write the mask as a PNG in the file thread, from a copy: the mask stays editable meanwhile
        (a copy is one byte a pixel, a sixth of a 16-bit RGB photo, so here it is worth it)."""
        from PySide6.QtWidgets import QFileDialog

        from restorer.core.maskfile import save_mask

        doc = self.session.document
        if doc is None:
            return
        start = Path(doc.photo.path).with_name(Path(doc.photo.path).stem + "-mask.png") if doc.photo.path else Path("mask.png")
        name, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Export Mask", str(start), files.MASK_FILTER)
        if not name:
            return
        path, mask = Path(name), doc.mask.copy()
        self.tasks.submit(lambda cancel, report: save_mask(mask, path),
                          on_done=lambda _value: self.session.show_status(f"Mask saved to {path}"),
                          on_failed=lambda message: self.session.show_error("Cannot export mask", message))
        self.session.show_status(f"Writing mask {path.name}…", 0)
