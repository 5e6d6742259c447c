"""Tile geometry: how a crop's work image is cut into tiles the model runs on, and which of them a hole needs."""

from __future__ import annotations

import math

import cv2
import numpy as np

from restorer.core.box import BBox

# A crop up to this many times the model's work size still runs in one pass at full resolution:
# fully convolutional models cope with a little more than they were trained on.
FIT_FACTOR = 1.5


def round_up(n: int, k: int) -> int:
    return -(-n // k) * k


def axis_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spaced tile starts covering ``length`` with at least ``overlap`` shared pixels."""
    if length <= tile:
        return [0]
    n = math.ceil((length - overlap) / (tile - overlap))
    return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]


def tile_boxes(shape: tuple[int, int], tile: int, overlap: int, fit: float = FIT_FACTOR) -> list[BBox]:
    """Tiles over a (scaled) crop; an axis that fits within ``fit * tile`` is not split."""
    ys = [(0, shape[0])] if shape[0] <= fit * tile else [(s, s + tile) for s in axis_starts(shape[0], tile, overlap)]
    xs = [(0, shape[1])] if shape[1] <= fit * tile else [(s, s + tile) for s in axis_starts(shape[1], tile, overlap)]
    return [BBox(y0, x0, y1, x1) for y0, y1 in ys for x0, x1 in xs]


def tile_margin(tile: int, thickness: float) -> int:
    """Known context a tile keeps around the hole pixels it is relied on for: half the hole's
    thickness, at least 3/16 of the tile (the grid's tiles gave about that), at most a quarter."""
    return int(min(tile // 4, max(3 * tile // 16, math.ceil(thickness / 2))))


def hole_tiles(mask: np.ndarray, tile: int, margin: int) -> list[BBox]:
    """Tiles of ``tile`` pixels laid along the hole: every hole pixel lies at least ``margin`` pixels
    inside one of them (or at the crop's own edge), and no tile is spent on ground without hole.

    Greedy in reading order: the first hole pixel not yet served sets the next tile's top; its
    columns are slid to serve the most unserved hole pixels of that band. A thin diagonal scratch
    needs about half the tiles of a grid over its bounding box, a scratch along a grid line fewer.
    """
    return [t for t, _ in hole_blocks(mask, tile, margin)]


def hole_blocks(mask: np.ndarray, tile: int, margin: int) -> list[tuple[BBox, BBox]]:
    """``hole_tiles``'s tiles, each with its inner box: the hole pixels it serves first lie in it."""
    h, w = mask.shape
    # As on the grid, an axis that fits within FIT_FACTOR tiles is not split.
    th, tw = (n if n <= FIT_FACTOR * tile else tile for n in (h, w))
    todo = mask.copy()
    left = todo.sum(axis=1)  # unserved hole pixels per row: no pass over the whole mask per tile
    boxes: list[tuple[BBox, BBox]] = []
    py = 0
    while True:
        rows = np.flatnonzero(left[py:])
        if rows.size == 0:
            return boxes
        py += int(rows[0])  # rows above are served: the next tile never starts higher
        px = int(np.flatnonzero(todo[py])[0])
        y0 = min(max(0, py - margin), h - th)
        iy0 = y0 if y0 == 0 else y0 + margin
        iy1 = y0 + th if y0 + th == h else y0 + th - margin
        x0 = _best_start(todo[iy0:iy1].sum(axis=0), px, tw, margin, w)
        ix0 = x0 if x0 == 0 else x0 + margin
        ix1 = x0 + tw if x0 + tw == w else x0 + tw - margin
        boxes.append((BBox(y0, x0, y0 + th, x0 + tw), BBox(iy0, ix0, iy1, ix1)))
        left[iy0:iy1] -= todo[iy0:iy1, ix0:ix1].sum(axis=1)
        todo[iy0:iy1, ix0:ix1] = False


def _best_start(counts: np.ndarray, px: int, tw: int, margin: int, w: int) -> int:
    """The tile's left edge whose served columns hold ``px`` and the most of ``counts``."""
    if tw >= w:
        return 0
    inner = tw - 2 * margin
    csum = np.concatenate([[0], np.cumsum(counts)])
    starts = np.arange(max(0, px - margin - inner + 1), min(px - margin, w - tw) + 1)
    if starts.size == 0:  # px near the left or right edge: the tile sits against that edge
        return 0 if px < tw else w - tw
    lo = np.where(starts == 0, 0, starts + margin)
    hi = np.where(starts + tw == w, w, starts + tw - margin)
    return int(starts[np.argmax(csum[hi] - csum[lo])])


def tile_weight(tile: BBox, shape: tuple[int, int], overlap: int) -> np.ndarray:
    """Linear blending weights: ramps up over ``overlap`` on every side that meets another tile."""

    def ramp(lo: int, hi: int, length: int) -> np.ndarray:
        w = np.ones(hi - lo, np.float32)
        k = min(overlap, (hi - lo) // 2)
        if k > 0:
            up = (np.arange(k, dtype=np.float32) + 0.5) / k
            if lo > 0:
                w[:k] = np.minimum(w[:k], up)
            if hi < length:
                w[-k:] = np.minimum(w[-k:], up[::-1])
        return w

    return np.outer(ramp(tile.y0, tile.y1, shape[0]), ramp(tile.x0, tile.x1, shape[1]))


def covered(hole: np.ndarray, tiles: list[BBox], work: tuple[int, int], inset: int) -> np.ndarray:
    """The hole pixels (crop coordinates) that lie inside a tile (work coordinates), ``inset`` px from its
    sides that are not the crop's edge: where a tiled network's output is whole."""
    cover = np.zeros(work, bool)
    for t in tiles:
        y0 = t.y0 if t.y0 == 0 else t.y0 + inset
        x0 = t.x0 if t.x0 == 0 else t.x0 + inset
        y1 = t.y1 if t.y1 == work[0] else t.y1 - inset
        x1 = t.x1 if t.x1 == work[1] else t.x1 - inset
        cover[y0:y1, x0:x1] = True
    if cover.shape != hole.shape:
        cover = cv2.resize(cover.view(np.uint8), (hole.shape[1], hole.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return cover & hole
