"""A brush drag in progress: the mask's undo snapshot, kept per tile, and the patches it yields.

A drag paints straight into the live mask so the canvas can redraw at once; before a paint call
first reaches a 256-pixel tile, that tile is copied, so a call copies a few tiles at most and
never the whole mask (100-megapixel scans stay fast). Committing turns the changed pixels into
mask patches for one Edit; aborting writes the saved tiles back.
"""

from __future__ import annotations

import numpy as np

from restorer.core import mask as masks
from restorer.core.history import Patch
from restorer.core.box import BBox

TILE = 256


def _tile_box(ty: int, tx: int, shape: tuple[int, ...]) -> BBox:
    return BBox(ty * TILE, tx * TILE, (ty + 1) * TILE, (tx + 1) * TILE).clip(shape)


class Stroke:
    """One drag of the brush (or eraser, when ``erase``) over ``mask``."""

    def __init__(self, mask: np.ndarray, erase: bool, target: str = "mask") -> None:
        self.mask = mask
        self.target = target
        self.erase = erase
        self.box: BBox | None = None  # union of the boxes painted so far
        self.radius: float | None = None
        self._tiles: dict[tuple[int, int], np.ndarray] = {}

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshot."""
        return sum(t.nbytes for t in self._tiles.values())

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        """Snapshot the tiles the capsule can reach, then paint it; returns the box written."""
        bounds = masks.capsule_bounds(self.mask.shape, p0, p1, radius)
        if bounds is None:
            return None
        for ty in range(bounds.y0 // TILE, (bounds.y1 - 1) // TILE + 1):
            for tx in range(bounds.x0 // TILE, (bounds.x1 - 1) // TILE + 1):
                if (ty, tx) not in self._tiles:
                    self._tiles[ty, tx] = self.mask[_tile_box(ty, tx, self.mask.shape).slices].copy()
        self.radius = float(radius)
        box = masks.segment(self.mask, p0, p1, radius, value=not self.erase)
        if box is not None:
            self.box = box if self.box is None else self.box.union(box)
        return box

    def _before(self, box: BBox) -> np.ndarray:
        # a tile without a snapshot was never painted, so the live mask still holds its pixels
        out = self.mask[box.slices].copy()
        for (ty, tx), saved in self._tiles.items():
            tile = _tile_box(ty, tx, self.mask.shape)
            inter = box.intersect(tile)
            if inter is not None:
                out[inter.relative_to(box)] = saved[inter.relative_to(tile)]
        return out

    def patches(self) -> tuple[Patch, ...]:
        """Mask patches of the pixels this drag changed (empty if none did).

        Usually one patch over the changed box; a long diagonal drag over a big scan gets one
        per touched tile instead, when that holds under half the bytes.
        """
        pieces: list[tuple[BBox, np.ndarray]] = []  # per tile: changed box, its pixels before
        for (ty, tx), saved in self._tiles.items():
            tile = _tile_box(ty, tx, self.mask.shape)
            rel = masks.diff_bbox(saved, self.mask[tile.slices])
            if rel is not None:
                pieces.append((rel.offset(tile.y0, tile.x0), saved[rel.slices]))
        if not pieces:
            return ()
        whole = pieces[0][0]
        for box, _ in pieces[1:]:
            whole = whole.union(box)
        if 2 * sum(box.area for box, _ in pieces) >= whole.area:
            pieces = [(whole, self._before(whole))]
        return tuple(Patch(self.target, box, before.copy(), self.mask[box.slices].copy())
                     for box, before in sorted(pieces, key=lambda p: p[0]))

    def restore(self) -> BBox | None:
        """Write the snapshot back (abort); returns the box that may have changed."""
        for (ty, tx), tile in self._tiles.items():
            self.mask[_tile_box(ty, tx, self.mask.shape).slices] = tile
        return self.box


class GuideStroke:
    """One drag over Edges mode's guide layers: ``drawn`` (lines the user drew) and ``erased`` (where
    the eraser took edges away, predicted ones included). The brush sets ``drawn`` and clears
    ``erased`` under it; the eraser does the reverse. The guides a fill gets are
    ``(predicted | drawn) & ~erased``, so the prediction can be redone without losing the user's lines."""

    def __init__(self, drawn: np.ndarray, erased: np.ndarray, erase: bool) -> None:
        self.erase = erase
        self._parts = (Stroke(drawn, erase, "guides"), Stroke(erased, not erase, "unguides"))

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self._parts)

    @property
    def radius(self) -> float | None:
        return self._parts[0].radius

    @property
    def box(self) -> BBox | None:
        return self._parts[0].box

    def paint(self, p0: tuple[float, float], p1: tuple[float, float], radius: float) -> BBox | None:
        boxes = [b for b in (part.paint(p0, p1, radius) for part in self._parts) if b is not None]
        return None if not boxes else boxes[0] if len(boxes) == 1 else boxes[0].union(boxes[1])

    def patches(self) -> tuple[Patch, ...]:
        return self._parts[0].patches() + self._parts[1].patches()

    def restore(self) -> BBox | None:
        boxes = [b for b in (part.restore() for part in self._parts) if b is not None]
        return None if not boxes else boxes[0] if len(boxes) == 1 else boxes[0].union(boxes[1])
