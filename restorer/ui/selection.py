"""The mask's commands: a finished rectangle, lasso or magic-wand gesture becomes one mask edit; clear,
invert, grow and shrink (by an amount asked each time, as GIMP's Select > Grow).

The canvas reports the gesture (canvas_select.Selected); the pixels it covers come from
restorer.core.mask, and the document applies them with ``select`` as one undoable step, like a
brush stroke. Without Alt/Ctrl a selection adds to the mask; with either held it takes away.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QSpinBox, QWidget

from restorer.core import mask as masks
from restorer.ui.canvas import CanvasView
from restorer.ui.canvas_select import Selected
from restorer.ui.session import DocumentSession
from restorer.ui.settings import Settings

LABELS = {"rectangle": "Rectangle", "lasso": "Lasso", "wand": "Magic wand"}


class SelectionController(QObject):
    """Applies the canvas's selections to the open document's mask; owns the wand's tolerance box.
    ``selectionApplied`` follows each selection that changed the mask (a finished stroke, for Auto fill)."""

    selectionApplied = Signal(object)  # the Edit

    def __init__(self, session: DocumentSession, settings: Settings, canvas: CanvasView, dialog_parent: QWidget) -> None:
        super().__init__(session)
        self.session = session
        self.settings = settings
        self.dialog_parent = dialog_parent
        self.tolerance = QSpinBox()
        self.tolerance.setRange(0, 255)
        self.tolerance.setToolTip("Magic wand (W): how far, in 8-bit steps per channel, a colour may be from the "
                                  "clicked pixel's to be selected")
        self.tolerance.setValue(settings.wand_tolerance)
        self.tolerance.valueChanged.connect(self._tolerance_changed)
        canvas.selectionFinished.connect(self.apply)

    def mask_command(self, name: str) -> None:
        """'clear', 'invert', 'grow' or 'shrink' the open document's mask (grow/shrink ask how far)."""
        doc = self.session.document
        if doc is None:
            return
        if name in ("grow", "shrink"):
            verb = name.capitalize()
            px, ok = QInputDialog.getInt(self.dialog_parent, f"{verb} Mask", f"{verb} every hole by (pixels):",
                                         self.settings.grow_px, 1, 500)
            if not ok:
                return
            self.settings.grow_px = px
            (doc.grow_mask if name == "grow" else doc.shrink_mask)(px)
            return
        {"clear": doc.clear_mask, "invert": doc.invert_mask}[name]()

    def _tolerance_changed(self, value: int) -> None:
        self.settings.wand_tolerance = int(value)

    def apply(self, selected: Selected) -> Any:
        """Turn the gesture into mask pixels and apply them as one edit (None when nothing changed)."""
        doc = self.session.document
        if doc is None:
            return None
        started = time.monotonic()
        if selected.tool == "rectangle":
            region = masks.rectangle(doc.shape, *selected.points[:2])
            label = LABELS["rectangle"]
        elif selected.tool == "lasso":
            region = masks.polygon(doc.shape, list(selected.points))
            label = LABELS["lasso"]
        else:
            tol = self.tolerance.value()
            region = masks.magic_wand(doc.pixels, selected.points[0], tol)
            label = f"{LABELS['wand']} (tolerance {tol})"
        if selected.subtract:
            label += " (subtract)"
        edit = doc.select(region, label, subtract=selected.subtract)
        if edit is None:
            self.session.show_status(f"{label}: the mask did not change")
            return None
        box = edit.box("mask")
        assert box is not None  # a mask edit always has a mask box
        self.session.show_status(f"{label}: {'removed from' if selected.subtract else 'added to'} the mask "
                                f"({box.width} x {box.height} px box, {time.monotonic() - started:.2f} s); Ctrl+Z undoes it")
        self.selectionApplied.emit(edit)
        return edit
