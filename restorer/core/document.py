"""The document: a photo, its mask, their history and revision; every change goes through here.

The document owns ``photo.pixels`` and ``mask`` and changes them in place; listeners hear a
``DocumentEvent`` after every change with the box to repaint. ``revision`` goes up on every
change of pixels or mask (undo and redo included), so a background job planned at an older
revision can be recognised as stale.

While a background job reads the live pixels (a save writing them), ``lock_photo`` makes every
change of photo pixels raise ``PhotoBusy`` until ``unlock_photo``; the mask stays editable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from restorer.core.box import BBox
from restorer.core.document_mask import MaskEdits
from restorer.core.document_queries import HistoryQueries
from restorer.core.fill_step import PreparedFill, check_fill_patches, cleared_layer_patches
from restorer.core.history import Edit, History, Patch, apply_edit, changed_patches
from restorer.core.stroke import GuideStroke, Stroke
from restorer.errors import PhotoBusy

if TYPE_CHECKING:
    from restorer.core.image import Photo

@dataclass(frozen=True)
class DocumentEvent:
    """What changed: 'mask', 'photo' or 'guides' (with the box to repaint), 'history' or 'saved'."""

    kind: str
    box: BBox | None = None


class Document(MaskEdits, HistoryQueries):
    """A photo being restored: ``photo``, ``mask`` (bool H x W, True = hole), ``history``.

    ``guides`` and ``unguides`` (bool H x W) are Edges mode's guide lines: the ones drawn, and where
    the eraser took edges away (core/stroke.py GuideStroke); their strokes are history steps too.

    The document takes ownership of ``photo.pixels`` and changes it in place (a read-only array
    is copied first). Mutating methods other than ``paint`` finish a stroke in progress first.
    """

    def __init__(self, photo: Photo, *, byte_budget: int = 2 << 30) -> None:
        pixels = photo.pixels
        if pixels.ndim != 3 or pixels.shape[2] not in (1, 3) or pixels.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"photo pixels must be H x W x 1|3 uint8|uint16, got {pixels.dtype} {pixels.shape}")
        if not pixels.flags.writeable:
            photo = dataclasses.replace(photo, pixels=pixels.copy())
        self.photo = photo
        self.mask = np.zeros(pixels.shape[:2], dtype=np.bool_)
        self.guides = np.zeros(pixels.shape[:2], dtype=np.bool_)
        self.unguides = np.zeros(pixels.shape[:2], dtype=np.bool_)
        self.history = History(byte_budget)
        self.revision = 0
        self.saved_path: Path | None = None
        self._saved_revision = 0
        self._photo_revision = 0  # counts changes of photo pixels only (mask edits leave it)
        self._saved_photo_revision = 0
        self._source_overwritten = False
        self._listeners: list[Callable[[DocumentEvent], None]] = []
        self._stroke: Stroke | GuideStroke | None = None
        self._photo_lock: str | None = None

    # -- state -----------------------------------------------------------------------------

    @property
    def pixels(self) -> np.ndarray:
        """The live photo pixels (H x W x C, the photo's dtype)."""
        return self.photo.pixels

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return self.mask.shape

    @property
    def dirty(self) -> bool:
        """Whether anything changed since the document was opened or last saved."""
        return self.revision != self._saved_revision

    @property
    def photo_revision(self) -> int:
        """Counts changes of the photo's pixels (undo and redo included); mask edits leave it."""
        return self._photo_revision

    @property
    def photo_dirty(self) -> bool:
        """Whether the photo's pixels changed since it was opened or last saved (``dirty`` counts
        mask edits too, which a saved photo does not hold)."""
        return self._photo_revision != self._saved_photo_revision

    @property
    def source_overwritten(self) -> bool:
        """Whether a save replaced the photo's own file, so that file no longer holds state 0."""
        return self._source_overwritten

    @property
    def can_undo(self) -> bool:
        return self.history.can_undo or self._stroke is not None

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo and self._stroke is None

    @property
    def stroke_active(self) -> bool:
        return self._stroke is not None

    @property
    def stroke_nbytes(self) -> int:
        """Bytes held for undoing the stroke in progress (its snapshot tiles)."""
        return 0 if self._stroke is None else self._stroke.nbytes

    # -- a background reader of the pixels -------------------------------------------------

    @property
    def photo_lock(self) -> str | None:
        """Why the photo's pixels cannot change now (None when they can)."""
        return self._photo_lock

    def lock_photo(self, reason: str) -> None:
        """Refuse every change of photo pixels (``PhotoBusy(reason)``) until ``unlock_photo``.

        A save in the background reads the live pixels; a copy to protect them would double
        the memory of a big photo (600 MB at 100 MP, 16-bit), so photo changes wait instead.
        Mask changes (strokes, mask operations, undo of mask edits) go on.
        """
        if self._photo_lock is not None:
            raise PhotoBusy(self._photo_lock)
        self._photo_lock = reason

    def unlock_photo(self) -> None:
        self._photo_lock = None

    def changes_photo(self, index: int) -> bool:
        """Whether going to history state ``index`` would change photo pixels, not only the mask."""
        return any(edit.box("photo") is not None for edit, _ in self.history.moves_to(index))

    def _check_unlocked(self, index: int) -> None:
        if self._photo_lock is not None and self.changes_photo(index):
            raise PhotoBusy(self._photo_lock)

    # -- listeners -------------------------------------------------------------------------

    def add_listener(self, cb: Callable[[DocumentEvent], None]) -> None:
        self._listeners.append(cb)

    def remove_listener(self, cb: Callable[[DocumentEvent], None]) -> None:
        self._listeners.remove(cb)

    def _emit(self, kind: str, box: BBox | None = None) -> None:
        for cb in list(self._listeners):
            cb(DocumentEvent(kind, box))

    def _changed(self, boxes: dict[str, BBox], history: bool) -> None:
        """Bump the revision once, then tell listeners what to repaint."""
        self.revision += 1
        if "photo" in boxes:
            self._photo_revision += 1
        for kind in ("photo", "mask"):
            if kind in boxes:
                self._emit(kind, boxes[kind])
        guides = [boxes[t] for t in ("guides", "unguides") if t in boxes]
        if guides:
            self._emit("guides", guides[0].union(guides[-1]))
        if history:
            self._emit("history")

    def _push(self, edit: Edit) -> Edit:
        self.history.push(edit)
        return edit

    # -- strokes: one drag = one edit ------------------------------------------------------

    def begin_stroke(self, erase: bool = False, layer: str = "mask") -> None:
        """Start a drag (brush, or eraser when ``erase``) over the mask, or over the guide lines
        with ``layer='guides'``; a stroke left open is committed."""
        if layer not in ("mask", "guides"):
            raise ValueError(f"a stroke paints the 'mask' or the 'guides', not {layer!r}")
        if self._stroke is not None:
            self.commit_stroke()
        self._stroke = Stroke(self.mask, erase) if layer == "mask" else GuideStroke(self.guides, self.unguides, erase)

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        """Paint (or erase) the capsule p0 -> p1 into the mask now; returns the box written.

        Coordinates follow ``restorer.core.mask`` (pixel centres at integers, ``(x, y)``).
        """
        if self._stroke is None:
            raise RuntimeError("paint() called outside begin_stroke()/commit_stroke()")
        box = self._stroke.paint(p0, p1, radius)
        if box is not None:
            self._changed({"guides" if isinstance(self._stroke, GuideStroke) else "mask": box}, history=False)
        return box

    def commit_stroke(self, label: str | None = None) -> Edit | None:
        """End the drag: one Edit holding what it changed (None if no pixel changed)."""
        stroke, self._stroke = self._stroke, None
        patches = () if stroke is None else stroke.patches()
        if stroke is None or not patches:
            return None
        if isinstance(stroke, GuideStroke):
            kind, default = ("guide-erase", "Erase guide lines") if stroke.erase else ("guide", "Guide line")
        else:
            kind, default = ("erase", "Erase") if stroke.erase else ("stroke", "Brush")
        edit = Edit(label or default, kind, patches, {"radius": stroke.radius})
        self._push(edit)
        self._emit("history")
        return edit

    def abort_stroke(self) -> None:
        """Cancel the drag: the mask is as it was before ``begin_stroke``."""
        stroke, self._stroke = self._stroke, None
        box = None if stroke is None else stroke.restore()
        if box is not None:
            self._changed({"guides" if isinstance(stroke, GuideStroke) else "mask": box}, history=False)

    # -- fills -----------------------------------------------------------------------------

    def apply_fill(self, patches: Sequence[tuple[BBox, np.ndarray]], label: str, *,
                   meta: dict[str, Any] | None = None, clear_mask: bool = True) -> Edit:
        """Write new photo pixels for each box as one Edit (always one history step).

        Each array must be the photo's dtype and ``box.height x box.width x C``, inside the
        photo (ValueError otherwise; nothing is changed then). With ``clear_mask`` the mask is
        cleared too, with the guide lines drawn for it; undo brings them back. Patches apply in
        order and may overlap.
        PhotoBusy (nothing changed) while the photo is locked.
        """
        if self._photo_lock is not None:
            raise PhotoBusy(self._photo_lock)
        self._finish_stroke()
        pixels = self.pixels
        checked = check_fill_patches(patches, pixels.shape, pixels.dtype)
        out: list[Patch] = []
        changed: dict[str, BBox] = {}
        for box, arr in checked:
            # Keep only the blocks that changed: the engine's crops carry unchanged context, and a
            # long scratch's box is mostly untouched photo.
            parts = changed_patches("photo", box, pixels[box.slices], arr)
            for patch in parts:
                pixels[patch.box.slices] = patch.after
                out.append(patch)
                changed["photo"] = changed["photo"].union(patch.box) if "photo" in changed else patch.box
        if clear_mask:
            arrays = self._arrays()
            cleared, boxes = cleared_layer_patches(arrays)
            for patch in cleared:
                arrays[patch.target][patch.box.slices] = False
            out += cleared
            changed.update(boxes)
        edit = self._push(Edit(label, "fill", tuple(out), dict(meta or {})))
        self._changed(changed, history=True)
        return edit

    def apply_prepared(self, step: PreparedFill, label: str, *, meta: dict[str, Any] | None = None) -> Edit | None:
        """Apply a fill step made by ``core.fill_step.prepare_fill`` (in a worker) as one Edit: only
        its ``after`` arrays are written. None, and nothing changed, when the document is no longer
        at the step's revision or shape (a stale step); PhotoBusy while the photo is locked.
        """
        if self._photo_lock is not None:
            raise PhotoBusy(self._photo_lock)
        self._finish_stroke()
        if step.revision != self.revision or step.shape != self.pixels.shape or step.dtype != self.pixels.dtype:
            return None
        arrays = self._arrays()
        for patch in step.patches:
            arrays[patch.target][patch.box.slices] = patch.after
        edit = self._push(Edit(label, "fill", step.patches, dict(meta or {})))
        self._changed(dict(step.boxes), history=True)
        return edit

    # -- history ---------------------------------------------------------------------------

    def _finish_stroke(self) -> None:
        if self._stroke is not None:
            self.commit_stroke()

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"photo": self.pixels, "mask": self.mask, "guides": self.guides, "unguides": self.unguides}

    def _move(self, moves: list[tuple[Edit, bool]]) -> None:
        changed: dict[str, BBox] = {}
        for edit, forward in moves:
            for target, box in apply_edit(edit, self._arrays(), forward).items():
                changed[target] = changed[target].union(box) if target in changed else box
        self._changed(changed, history=True)

    def undo(self) -> Edit | None:
        """Undo the newest applied edit (a stroke in progress is committed first).

        Undo, redo and goto raise PhotoBusy (nothing moved) when they would change a locked photo.
        """
        self._finish_stroke()
        if self.history.can_undo:
            self._check_unlocked(self.history.index - 1)
        edit = self.history.undo()
        if edit is not None:
            self._move([(edit, False)])
        return edit

    def redo(self) -> Edit | None:
        self._finish_stroke()
        if self.history.can_redo:
            self._check_unlocked(self.history.index + 1)
        edit = self.history.redo()
        if edit is not None:
            self._move([(edit, True)])
        return edit

    def goto(self, index: int) -> None:
        """Go to history state ``index`` (0 = oldest reachable, len(steps) = newest)."""
        self._finish_stroke()
        if index == self.history.index:
            return
        self._check_unlocked(index)
        self._move(self.history.goto(index))

    def mark_saved(self, path: str | Path, revision: int | None = None, photo_revision: int | None = None) -> None:
        """Record that the document as it was at ``revision`` is now in the file ``path``.

        By default the current state (a stroke in progress is committed first; ``dirty`` clears).
        A save that ran in the background passes the revision it started from: whatever changed
        while it wrote (mask strokes) keeps the document ``dirty``, and a drag in progress stays open.
        ``photo_revision`` (``photo_revision`` when it started) likewise, for a write that did not
        lock the photo; by default the current one, right for a save that held it locked.
        """
        if revision is None:
            self._finish_stroke()
            revision = self.revision
        path = Path(path)
        if self.photo.path is not None and path.resolve() == Path(self.photo.path).resolve():
            self._source_overwritten = True
        self.saved_path = path
        self._saved_revision = revision
        self._saved_photo_revision = self._photo_revision if photo_revision is None else photo_revision
        self._emit("saved")
