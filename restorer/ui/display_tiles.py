"""A finished fill's display pyramid tiles, made in the worker so the GUI thread only swaps them in.

Refreshing the display after a fill (converting the changed pixels to the screen's 8-bit RGB32 and
shrinking them through every pyramid level, and the same for the cleared mask) took 40 ms on the
GUI thread for a long scratch on 24 megapixels, over the union of the changed boxes. ``fill_tiles``
does it in the worker for the changed blocks only; ``swap`` writes the tiles into the levels.

Only numpy and OpenCV work happens here (no QImage, no QPixmap), so it may run in any thread. It
reads the live pyramid's levels around the changed blocks: they are the document's state at the
job's revision as long as that revision is current, and a fill whose revision is no longer current
is dropped before its tiles are used (FillController). A pyramid replaced meanwhile (another
document, another colour transform) does not take the tiles either (``swap`` returns False).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from restorer.core.history import Patch
from restorer.ui.convert import Box, MaskPyramid, Pyramid, RgbPyramid, write_bgra

Tile = tuple[Box, np.ndarray]  # a box of one level (that level's coordinates) and its new pixels


@dataclass(frozen=True, eq=False)
class PyramidTiles:
    """New pixels for some boxes of every level of ``pyramid`` (level 0 first)."""

    pyramid: Pyramid
    levels: tuple[tuple[Tile, ...], ...]

    def swap(self, pyramid: Pyramid | None) -> bool:
        """Write the tiles into ``pyramid``'s levels; False (nothing written) when it is not the
        pyramid they were made for."""
        if pyramid is not self.pyramid or len(pyramid.levels) != len(self.levels):
            return False
        for level, tiles in zip(pyramid.levels, self.levels):
            for (y0, x0, y1, x1), arr in tiles:
                level[y0:y1, x0:x1] = arr
        return True


def pyramid_tiles(pyramid: Pyramid, base: Sequence[Tile]) -> PyramidTiles:
    """The tiles of every level after level 0 changes to ``base`` (disjoint level-0 boxes), the same
    pixels ``Pyramid.update`` would write for each box (the same 2 x 2 block alignment)."""
    levels: list[list[Tile]] = [list(base)]
    for k in range(1, len(pyramid.levels)):
        prev_tiles, prev = levels[-1], pyramid.levels[k - 1]
        boxes = np.array([b for b, _ in prev_tiles], dtype=np.int64).reshape(-1, 4)
        made: list[Tile] = []
        seen: set[Box] = set()
        for (y0, x0, y1, x1), _ in prev_tiles:
            y0, x0 = (y0 // 2) * 2, (x0 // 2) * 2
            y1 = min(-(-y1 // 2) * 2, prev.shape[0] + prev.shape[0] % 2)
            x1 = min(-(-x1 // 2) * 2, prev.shape[1] + prev.shape[1] % 2)
            small_box = (y0 // 2, x0 // 2, y1 // 2, x1 // 2)
            if small_box in seen:
                continue
            seen.add(small_box)
            cy1, cx1 = min(y1, prev.shape[0]), min(x1, prev.shape[1])
            crop = prev[y0:cy1, x0:cx1].copy()
            # the previous level as it is after the fill: every new tile of it that reaches this crop
            hit = (boxes[:, 0] < cy1) & (boxes[:, 2] > y0) & (boxes[:, 1] < cx1) & (boxes[:, 3] > x0)
            for i in np.flatnonzero(hit):
                (by0, bx0, by1, bx1), arr = prev_tiles[i]
                iy0, ix0, iy1, ix1 = max(by0, y0), max(bx0, x0), min(by1, cy1), min(bx1, cx1)
                crop[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = arr[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0]
            ly0, lx0, ly1, lx1 = small_box
            made.append((small_box, pyramid._shrink(crop)[: ly1 - ly0, : lx1 - lx0]))
        levels.append(made)
    return PyramidTiles(pyramid, tuple(tuple(level) for level in levels))


def fill_tiles(display: RgbPyramid | None, mask_display: MaskPyramid | None,
               patches: Sequence[Patch]) -> dict[str, PyramidTiles]:
    """Tiles for the photo's and the mask's pyramids after a fill step's ``patches`` (core.fill_step)."""
    out: dict[str, PyramidTiles] = {}
    photo = [p for p in patches if p.target == "photo"]
    if display is not None and photo:
        base = []
        for p in photo:
            tile = np.empty((p.box.height, p.box.width, 4), dtype=np.uint8)
            write_bgra(p.after, tile, display.transform)
            base.append((_box(p), tile))
        out["photo"] = pyramid_tiles(display, base)
    mask = [(_box(p), p.after) for p in patches if p.target == "mask"]
    if mask_display is not None and mask:
        out["mask"] = pyramid_tiles(mask_display, mask)
    return out


def _box(patch: Patch) -> Box:
    b = patch.box
    return (b.y0, b.x0, b.y1, b.x1)
