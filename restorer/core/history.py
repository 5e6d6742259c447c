"""Edit history: edits as before/after patches over a box; undo, redo, goto; a byte budget.

States are numbered like the history panel's rows: state 0 is the oldest state still reachable
(the photo as loaded, until older steps are dropped), state ``k`` is after ``steps[:k]``, and
``index`` is the state the document is in now. Undo/redo/goto only say which edits to apply in
which direction; ``apply_edit`` writes them into the live arrays. Nothing here knows about
documents, so the same patches serve undo, redo and the before/after view of any step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from restorer.core.box import BBox
from restorer.core.mask import diff_bbox

TARGETS = ("photo", "mask", "guides", "unguides")
# The bool H x W layers: the mask, and Edges mode's guide lines (drawn ones, and where the eraser
# took predicted edges away; see core/stroke.py GuideStroke).
LAYER_TARGETS = ("mask", "guides", "unguides")
# Patches of a large edit cover only the blocks of this side that changed (changed_patches).
BLOCK = 64
KINDS = ("stroke", "erase", "mask", "fill", "guide", "guide-erase")


@dataclass(frozen=True, eq=False)
class Patch:
    """The pixels of one box of one array (``target``) before and after an edit."""

    target: str
    box: BBox
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"patch target must be one of {TARGETS}, got {self.target!r}")
        if self.before.shape != self.after.shape or self.before.dtype != self.after.dtype:
            raise ValueError(f"patch before {self.before.dtype}{self.before.shape} and after "
                             f"{self.after.dtype}{self.after.shape} differ")
        if self.before.shape[:2] != (self.box.height, self.box.width):
            raise ValueError(f"patch arrays {self.before.shape} do not match box {self.box}")

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)


@dataclass(frozen=True, eq=False)
class Edit:
    """One step of the history: what the user did (label, kind) and the patches it changed.

    ``kind`` is one of 'stroke', 'erase', 'mask', 'fill', 'guide', 'guide-erase' (Edges mode's lines). Patches are applied in order on redo
    and in reverse order on undo, so patches of one edit may overlap.
    """

    label: str
    kind: str
    patches: tuple[Patch, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"edit kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.patches)

    def box(self, target: str | None = None) -> BBox | None:
        """The union of the boxes this edit changed (of one target, or of all)."""
        out: BBox | None = None
        for p in self.patches:
            if target is None or p.target == target:
                out = p.box if out is None else out.union(p.box)
        return out


def changed_patches(target: str, box: BBox, before: np.ndarray, after: np.ndarray,
                    block: int = BLOCK) -> list[Patch]:
    """Patches of ``box`` that hold only what changed from ``before`` to ``after`` (both box-sized).

    The box is cut into rows of ``block`` pixels; in each, a run of neighbouring blocks with a
    change becomes one patch, tightened to the changed pixels. A thin scratch across a large box
    then keeps a band along itself, not the whole box twice (before and after).
    """
    h, w = before.shape[:2]
    out: list[Patch] = []
    for r0 in range(0, h, block):
        r1 = min(h, r0 + block)
        cols = (before[r0:r1] != after[r0:r1]).any(axis=0)  # over rows first: contiguous, fast
        if cols.ndim == 2:
            cols = cols.any(axis=1)
        if not cols.any():
            continue
        padded = np.zeros(-(-w // block) * block, bool)
        padded[:w] = cols
        hit = padded.reshape(-1, block).any(axis=1)
        edges = np.flatnonzero(np.diff(np.r_[0, hit.view(np.int8), 0]))
        for b0, b1 in zip(edges[::2], edges[1::2]):
            c0, c1 = int(b0) * block, min(w, int(b1) * block)
            tight = diff_bbox(before[r0:r1, c0:c1], after[r0:r1, c0:c1])
            if tight is None:
                continue
            rel = tight.offset(r0, c0)
            out.append(Patch(target, rel.offset(box.y0, box.x0), before[rel.slices].copy(), after[rel.slices].copy()))
    return out


def apply_edit(edit: Edit, arrays: Mapping[str, np.ndarray], forward: bool) -> dict[str, BBox]:
    """Write an edit's patches into ``arrays`` (target -> live array): ``after`` when going
    forward (redo), ``before`` in reverse order when going back (undo).

    Returns the box changed per target, for repainting.
    """
    changed: dict[str, BBox] = {}
    for p in (edit.patches if forward else reversed(edit.patches)):
        arrays[p.target][p.box.slices] = p.after if forward else p.before
        changed[p.target] = changed[p.target].union(p.box) if p.target in changed else p.box
    return changed


class History:
    """The list of edits and the current state, with memory capped by ``byte_budget``.

    When the patches' bytes exceed the budget the oldest edits are dropped (``dropped`` counts
    them, so the panel can say "older steps dropped"); the newest edit is always kept, even if
    it alone is over the budget.
    """

    def __init__(self, byte_budget: int = 2 << 30) -> None:
        if byte_budget < 0:
            raise ValueError(f"byte budget must be >= 0, got {byte_budget}")
        self._budget = int(byte_budget)
        self._steps: list[Edit] = []
        self._index = 0
        self._nbytes = 0
        self._dropped = 0
        self._dropped_targets: set[str] = set()

    @property
    def steps(self) -> tuple[Edit, ...]:
        """The edits still held, oldest first; state ``k`` is after ``steps[:k]``."""
        return tuple(self._steps)

    @property
    def index(self) -> int:
        """The current state: 0 = oldest reachable, ``len(steps)`` = every edit applied."""
        return self._index

    @property
    def nbytes(self) -> int:
        """Bytes held by all patches."""
        return self._nbytes

    @property
    def byte_budget(self) -> int:
        return self._budget

    @property
    def dropped(self) -> int:
        """How many of the oldest edits were dropped to stay within the budget."""
        return self._dropped

    def has_dropped(self, target: str) -> bool:
        """Whether a dropped edit changed ``target``, so its state 0 is no longer as loaded."""
        return target in self._dropped_targets

    def applied_boxes(self, target: str) -> list[BBox]:
        """The box of every patch of ``target`` the current state has applied, oldest first: outside
        them the live array is still as at state 0 (the whole-photo comparison redraws only these)."""
        return [p.box for e in self._steps[: self._index] for p in e.patches if p.target == target]

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._steps)

    def push(self, edit: Edit) -> int:
        """Add ``edit`` after the current state (dropping the redo tail), make it current.

        Returns how many old edits this push dropped to stay within the budget.
        """
        for old in self._steps[self._index:]:
            self._nbytes -= old.nbytes
        del self._steps[self._index:]
        self._steps.append(edit)
        self._nbytes += edit.nbytes
        self._index = len(self._steps)
        return self._evict()

    def restore(self, steps: Sequence[Edit], index: int, *, dropped: int = 0,
                dropped_targets: Iterable[str] = ()) -> None:
        """Replace the whole history with ``steps``, state ``index`` current (a project being opened).

        ``dropped`` and ``dropped_targets`` say what an earlier session's budget let go of. The
        budget applies from the next push on, so every restored step stays reachable now.
        """
        if not 0 <= index <= len(steps):
            raise IndexError(f"history state {index} is outside 0..{len(steps)}")
        self._steps = list(steps)
        self._index = int(index)
        self._nbytes = sum(e.nbytes for e in self._steps)
        self._dropped = int(dropped)
        self._dropped_targets = set(dropped_targets)

    def set_byte_budget(self, byte_budget: int) -> int:
        """Change the budget; returns how many old edits were dropped to meet it."""
        if byte_budget < 0:
            raise ValueError(f"byte budget must be >= 0, got {byte_budget}")
        self._budget = int(byte_budget)
        return self._evict()

    def _evict(self) -> int:
        count = 0
        # Only edits behind the current state can go: dropping one ahead of it would cut the
        # redo path from where the document is now.
        while self._nbytes > self._budget and len(self._steps) > 1 and self._index > 0:
            old = self._steps.pop(0)
            self._nbytes -= old.nbytes
            self._index -= 1
            self._dropped += 1
            self._dropped_targets.update(p.target for p in old.patches)
            count += 1
        return count

    def undo(self) -> Edit | None:
        """Step back one state; returns the edit to apply backward (None at state 0)."""
        if not self.can_undo:
            return None
        self._index -= 1
        return self._steps[self._index]

    def redo(self) -> Edit | None:
        """Step forward one state; returns the edit to apply forward (None at the newest)."""
        if not self.can_redo:
            return None
        self._index += 1
        return self._steps[self._index - 1]

    def goto(self, index: int) -> list[tuple[Edit, bool]]:
        """Move to state ``index``; returns ``(edit, forward)`` pairs in the order to apply."""
        moves = self.moves_to(index)
        self._index = index
        return moves

    def moves_to(self, index: int) -> list[tuple[Edit, bool]]:
        """The ``(edit, forward)`` pairs that lead from the current state to state ``index``."""
        if not 0 <= index <= len(self._steps):
            raise IndexError(f"history state {index} is outside 0..{len(self._steps)}")
        if index < self._index:
            return [(e, False) for e in reversed(self._steps[index:self._index])]
        return [(e, True) for e in self._steps[self._index:index]]

    def region_at(self, current: np.ndarray, target: str, box: BBox, index: int, stride: int = 1) -> np.ndarray:
        """The pixels of ``box`` in ``target`` as they are at state ``index``, every ``stride``-th row
        and column (a thumbnail of any state without reading the whole photo).

        ``current`` is the live array (at state ``self.index``); only patches overlapping
        ``box`` are read, so comparing a small region of any step is cheap.
        """
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        moves = self.moves_to(index)
        out = np.array(current[box.y0:box.y1:stride, box.x0:box.x1:stride], copy=True)
        for edit, forward in moves:
            for p in (edit.patches if forward else reversed(edit.patches)):
                if p.target == target and box.intersect(p.box) is not None:
                    _paste_strided(out, box, stride, p.after if forward else p.before, p.box)
        return out


def _paste_strided(dst: np.ndarray, origin: BBox, stride: int, src: np.ndarray, src_box: BBox) -> None:
    """Write ``src`` (covering ``src_box``) into ``dst``, the stride-subsampled crop of ``origin``."""
    oy, ox = origin.y0, origin.x0
    # The first row/column of the subsampled grid that lies inside src_box.
    gy = oy + -(-(src_box.y0 - oy) // stride) * stride if src_box.y0 > oy else oy
    gx = ox + -(-(src_box.x0 - ox) // stride) * stride if src_box.x0 > ox else ox
    part = src[gy - src_box.y0::stride, gx - src_box.x0::stride]
    dy, dx = (gy - oy) // stride, (gx - ox) // stride
    n = max(0, min(part.shape[0], dst.shape[0] - dy))
    m = max(0, min(part.shape[1], dst.shape[1] - dx))
    if n and m:
        dst[dy:dy + n, dx:dx + m] = part[:n, :m]
