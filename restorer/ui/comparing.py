"""Before/after in the main window: the comparison view for the document or one step, and hold-for-original."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QStackedWidget

from restorer.core.document import Document
from restorer.errors import RestorerError
from restorer.ui.canvas import CanvasView
from restorer.ui.convert import RgbPyramid, original_display
from restorer.ui.session import DocumentSession

# Held down, shows the original photo (Photoshop and Lightroom use the backslash key too).
HOLD_KEY = Qt.Key.Key_Backslash


class CompareController(QObject):
    """Switches ``stack`` between editing (``canvas``) and comparing (a CompareView it adds on first use).
    ``selected_step`` says which History step the panel's keyboard cursor is on."""

    def __init__(self, session: DocumentSession, stack: QStackedWidget, canvas: CanvasView,
                 selected_step: Callable[[], int]) -> None:
        super().__init__(session)
        self.session = session
        self.stack = stack
        self.canvas = canvas
        self.selected_step = selected_step
        self.view: Any = None
        self._original: RgbPyramid | None = None
        self._original_of: Document | None = None
        self.holding = False

    def _ensure_view(self) -> Any:
        if self.view is None:
            from restorer.ui.compare import CompareView

            self.view = CompareView()
            self.stack.addWidget(self.view)
        return self.view

    @property
    def active(self) -> bool:
        return self.view is not None and self.stack.currentWidget() is self.view

    def show_canvas(self) -> None:
        self.stack.setCurrentWidget(self.canvas)
        self.canvas.setFocus()

    def _show(self, pair: Any, mode: str) -> None:
        view = self._ensure_view()
        view.set_comparison(pair)
        view.set_mode(mode)
        self.stack.setCurrentWidget(view)
        view.setFocus()
        how = ("black = unchanged, hotter colours = changed more; hold \\ for the original" if mode == "difference"
               else "drag the divider; hold \\ for the original")
        self.session.show_status(f"{pair.title}: {how}; Esc returns to editing")

    def compare_document(self, mode: str = "split") -> None:
        """The photo as opened against the photo now (split or difference)."""
        doc = self.session.document
        if doc is None:
            return
        from restorer.ui.comparison_images import document_pair

        try:
            pair = document_pair(doc)
        except RestorerError as exc:
            self.session.show_error("Cannot compare", str(exc))
            return
        self._show(pair, mode)

    def compare_step(self, k: int, mode: str = "split") -> None:
        """History step ``k`` alone: the region it changed, before and after it."""
        doc = self.session.document
        if doc is None or not 1 <= k <= len(doc.history.steps):
            self.session.show_status("Choose a step in the History panel to compare it")
            return
        from restorer.ui.comparison_images import step_pair

        self._show(step_pair(doc, k), mode)

    def compare_selected_step(self) -> None:
        """The step under the History panel's keyboard cursor (the view has no selection of its own)."""
        if self.session.document is not None:
            self.compare_step(self.selected_step())

    # --- hold for the original -------------------------------------------------------------------
    def original_display(self) -> RgbPyramid | None:
        """The photo as opened, at display depth (built on first use, then kept for this document)."""
        doc = self.session.document
        if doc is None:
            return None
        if self._original is None or self._original_of is not doc:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self._original = original_display(doc, self.session.display)
                self._original_of = doc
            except RestorerError as exc:
                self.session.show_status(str(exc))
                return None
            finally:
                QApplication.restoreOverrideCursor()
        return self._original

    def hold_original(self, held: bool) -> None:
        if held == self.holding:
            return
        self.holding = held
        if self.active:
            self.view.show_before(held)
            return
        self.canvas.set_alternate(self.original_display() if held else None)
        if held:
            self.session.show_status("Showing the original; release \\ to return", 0)
        else:
            self.session.clear_status()

    def forget(self) -> None:
        """A new document was opened (or the old one is gone)."""
        self._original = None
        self._original_of = None
        if self.view is not None:
            self.view.clear()
        self.show_canvas()
