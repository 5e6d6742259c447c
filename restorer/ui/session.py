"""DocumentSession: the open Document and its display, as one Qt object every controller is given.

The session owns which document is open (``document``, ``display``, ``mask_display`` and the file
``path`` it came from) and turns the document's listener calls into Qt signals, so controllers and
the window react to changes without holding the window:

- ``aboutToReplace()``: another document is about to be installed (abort strokes, cancel jobs);
- ``documentReplaced(document)``: it is installed (reset per-document state, repaint);
- ``changed(kind, box)``: the document changed ('mask' or 'photo' with a box tuple or None,
  'history', 'saved');
- ``apply_fill_step`` applies a fill step prepared in a worker (core/fill_step.py) with the display
  tiles made for it (ui/display_tiles.py); while the document reports that change, ``take_tiles``
  hands them to whoever refreshes that layer's display, so the GUI thread swaps them in;
- ``status(text, ms)`` and ``error(title, message)``: what a controller tells the user; the window
  shows them in its status bar and in a dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from collections.abc import Mapping
from typing import Any

from restorer.core.document import Document, DocumentEvent
from restorer.core.fill_step import PreparedFill
from restorer.core.history import Edit
from restorer.ui.convert import MaskPyramid, RgbPyramid
from restorer.ui.display_tiles import PyramidTiles


class DocumentSession(QObject):
    """One open document at a time (or none); every change of which one goes through ``install``."""

    aboutToReplace = Signal()
    documentReplaced = Signal(object)  # the Document now open
    changed = Signal(str, object)  # kind, box (y0, x0, y1, x1) or None
    status = Signal(str, int)  # text, how long to show it (ms; 0 = until the next message)
    error = Signal(str, str)  # title, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.display: RgbPyramid | None = None
        self.mask_display: MaskPyramid | None = None
        self.path: Path | None = None
        self._tiles: dict[str, PyramidTiles] = {}

    def install(self, path: Path | None, doc: Document, display: RgbPyramid, mask_display: MaskPyramid) -> None:
        """Make ``doc`` the open document; ``path`` None for one without a file (pasted)."""
        old = self.document
        if old is not None:  # first, so what the others abort on it (a stroke) is not reported
            old.remove_listener(self._on_event)
        self.aboutToReplace.emit()
        self.document, self.display, self.mask_display, self.path = doc, display, mask_display, path
        doc.add_listener(self._on_event)
        self.documentReplaced.emit(doc)

    def apply_fill_step(self, step: PreparedFill, tiles: Mapping[str, PyramidTiles], label: str,
                        meta: dict[str, Any] | None = None) -> Edit | None:
        """``Document.apply_prepared`` on the open document, its display refreshed from ``tiles``
        ('photo', 'mask'); None (nothing changed) when the step is stale."""
        if self.document is None:
            return None
        self._tiles = dict(tiles)
        try:
            return self.document.apply_prepared(step, label, meta=meta)
        finally:
            self._tiles = {}

    def take_tiles(self, kind: str) -> PyramidTiles | None:
        """The display tiles of the change being reported for ``kind`` ('photo', 'mask'), once."""
        return self._tiles.pop(kind, None)

    def show_status(self, text: str, ms: int = 8000) -> None:
        self.status.emit(text, ms)

    def clear_status(self) -> None:
        self.status.emit("", 0)

    def show_error(self, title: str, message: str) -> None:
        self.error.emit(title, message)

    def _on_event(self, event: DocumentEvent) -> None:
        self.changed.emit(event.kind, None if event.box is None else tuple(event.box))
