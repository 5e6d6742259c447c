"""The editing commands that span several controllers: Fill (Enter), Cancel (Esc), undo, redo, go to a step.

Each one asks the controllers in the order the modes own the keys (a polygon lasso or a stroke
first, then Detect's review, a fill, a load, the comparison view) and falls through to the
document's history; an auto fill follows a finished stroke.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from restorer.core.document import Document
from restorer.errors import PhotoBusy
from restorer.ui.canvas import CanvasView
from restorer.ui.comparing import CompareController
from restorer.ui.detect import DetectController
from restorer.ui.edges import EdgesController
from restorer.ui.file_commands import FileCommands
from restorer.ui.fill import FillController
from restorer.ui.model_picker import ModelPicker
from restorer.ui.sampling import SamplingController
from restorer.ui.session import DocumentSession


class EditCommands(QObject):
    """Fill, Cancel, Undo, Redo and Go To Step for the session's document."""

    def __init__(self, session: DocumentSession, canvas: CanvasView, picker: ModelPicker, auto_fill: Callable[[], bool], *,
                 fills: FillController, edges: EdgesController, sampling: SamplingController,
                 detect: DetectController, files: FileCommands, comparing: CompareController,
                 refresh: Callable[[], object]) -> None:
        super().__init__(session)
        self.session, self.canvas, self.picker, self.auto_fill = session, canvas, picker, auto_fill
        self.fills, self.edges, self.sampling, self.detect = fills, edges, sampling, detect
        self.files, self.comparing = files, comparing
        self.refresh = refresh  # the window's actions and title follow the document

    def fill(self) -> None:
        if self.canvas.finish_polygon():  # Enter closes a polygon lasso in progress first
            return
        if self.session.document is None or self.canvas.stroking:
            return
        model = self.picker.current_model()
        if model is None or not self.picker.is_enabled_at(self.picker.currentIndex()):
            self.session.show_error("No model", self.picker.reason(model or "") or "Choose a model that can run")
            return
        self.fills.fill(model, guide_edges=self.edges.guide_edges(), sample=self.sampling.area())

    def stroke_finished(self) -> None:
        """A stroke or a selection became a mask edit: fill it now when Auto is on."""
        self.refresh()
        doc = self.session.document
        if self.auto_fill() and doc is not None and self.canvas.target is doc and doc.mask.any():
            self.fill()

    def cancel(self) -> None:
        if self.canvas.stroking:
            self.canvas.abort_stroke()
        elif self.detect.handle_escape():
            pass
        elif self.fills.running:
            self.fills.cancel()
        elif self.files.loading:
            self.files.cancel_loading()
        elif self.comparing.active:
            self.comparing.show_canvas()

    def undo(self) -> None:
        if self.sampling.undo():  # in Sample mode, undo acts on its strokes first (guide lines are history steps)
            return
        self._move_in_history(lambda doc: doc.undo())

    def redo(self) -> None:
        if self.sampling.redo():
            return
        self._move_in_history(lambda doc: doc.redo())

    def goto_step(self, index: int) -> None:
        self._move_in_history(lambda doc: doc.goto(index))

    def _move_in_history(self, move: Callable[[Document], object]) -> None:
        if self.session.document is not None:
            self.canvas.abort_stroke()
            try:
                move(self.session.document)
            except PhotoBusy as exc:  # a save is writing the photo; mask steps still move
                self.session.show_status(str(exc))
