"""How model calls are built: tiles of equal size batched (or set side by side in an atlas),
their work-resolution inputs, and the canvas each region's outputs are blended on."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from restorer.core.box import BBox
from restorer.inference.job import Job
from restorer.inference.paste import to_float_chw
from restorer.inference.regions import Region, resize_mask
from restorer.inference.tiles import round_up, tile_weight


def pad_to(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """Reflect-pad the bottom and right of an H x W (x C) array up to h x w (edge-pad a 1-pixel axis)."""
    dh, dw = h - arr.shape[0], w - arr.shape[1]
    if dh == 0 and dw == 0:
        return arr
    widths = [(0, dh), (0, dw)] + [(0, 0)] * (arr.ndim - 2)
    return np.pad(arr, widths, mode="reflect" if min(arr.shape[:2]) > 1 else "edge")


class Unit(NamedTuple):
    """One tile of one region, placed in a model input: item ``item`` of its batch, at offset ``at``."""

    region: int
    tile: BBox
    size: tuple[int, int]  # the model input's (padded) size
    item: int = 0
    at: tuple[int, int] = (0, 0)
    grid: tuple[int, int] = (1, 1)  # tiles per input (rows, cols): more than one = an atlas


class Canvas:
    """A region's output at work resolution (3 x H x W), blended over its tiles when there are several."""

    def __init__(self, shape: tuple[int, int], tiles: list[BBox] | tuple[BBox, ...], edges: bool) -> None:
        self.shape = shape
        # One tile covers the whole region: keep the model's output as it is, no blending buffers.
        self.single = len(tiles) == 1 and tuple(tiles[0]) == (0, 0, *shape)
        self.out: np.ndarray | None = None if self.single else np.zeros((3, *shape), np.float32)
        self.weight: np.ndarray | None = None if self.single else np.zeros(shape, np.float32)
        self.edges: np.ndarray | None = None if self.single or not edges else np.zeros(shape, np.float32)

    def add(self, tile: BBox, overlap: int, out: np.ndarray | None, edges: np.ndarray | None) -> None:
        if self.single:
            self.out, self.edges = out, edges
            self.weight = np.ones(self.shape, np.float32)
            return
        rows, cols = tile.slices
        w = tile_weight(tile, self.shape, overlap)
        if out is not None and self.out is not None:
            self.out[:, rows, cols] += out * w
        if edges is not None and self.edges is not None:
            self.edges[rows, cols] += edges * w
        assert self.weight is not None
        self.weight[rows, cols] += w

    def result(self, fallback: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(image 3 x H x W, edges H x W); pixels no tile covered (they hold no hole) take ``fallback``."""
        if self.single:
            return self.out, self.edges
        assert self.weight is not None
        # In place: a long scratch's canvas is tens of MB, and each temporary copy costs as much.
        uncovered = self.weight <= 0
        w = self.weight
        w[uncovered] = 1.0
        if self.edges is not None:
            self.edges /= w
        if self.out is not None:
            self.out /= w
            np.copyto(self.out, fallback, where=uncovered[None])
        return self.out, self.edges


def work_inputs(region: Region, with_guide: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The region's crop at work resolution: float image 3 x H x W, bool mask H x W, bool guide H x W."""
    h, w = region.work_shape
    pixels = region.pixels
    if (h, w) != pixels.shape[:2]:  # shrink in the photo's own dtype: the float copy is then small
        pixels = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
    img = to_float_chw(pixels)
    mask = resize_mask(region.mask, (h, w))
    guide = None
    if with_guide and region.guide is not None:
        guide = resize_mask(region.guide, (h, w))
    return img, mask, guide


def atlas_grid(h: int, w: int, pad: int) -> tuple[int, int] | None:
    """(rows, cols) of ``h x w`` tiles side by side in one square input when that wastes far less
    than padding each tile alone to the model's size multiple; None when it does not."""
    alone = round_up(h, pad) * round_up(w, pad) / (h * w)
    best, best_waste = None, alone / 1.5
    for side in range(round_up(max(h, w), pad), 513, pad):
        rows, cols = side // h, side // w
        waste = side * side / (rows * cols * h * w)
        if rows * cols > 1 and waste < best_waste:
            best, best_waste = (rows, cols), waste
    return best


def schedule(job: Job, pad: int, budget: int, skip: set[int]) -> list[list[Unit]]:
    """Model calls: tiles of equal size share a call up to the pixel budget (unless packing is off).

    When the model's size multiple would pad a small tile to much more than itself (PConv pads to
    128), several such tiles sit side by side in one input (an atlas), each with its own context,
    so a speck costs about its crop instead of a whole 128 x 128 input.
    """
    by_tile: dict[tuple[int, int], list[tuple[int, BBox]]] = {}
    for i, region in enumerate(job.regions):
        if i in skip:
            continue
        for tile in region.tiles:
            by_tile.setdefault((tile.height, tile.width), []).append((i, tile))
    batches: list[list[Unit]] = []
    for (h, w), tiles in by_tile.items():
        grid = atlas_grid(h, w, pad) if job.options.pack and len(tiles) > 1 else None
        rows, cols = grid or (1, 1)
        size = (round_up(rows * h, pad), round_up(cols * w, pad))
        per_item = rows * cols
        cells = [(r * h, c * w) for r in range(rows) for c in range(cols)]
        items_per_call = max(1, budget // (size[0] * size[1])) if job.options.pack else 1
        per_call = items_per_call * per_item
        for k in range(0, len(tiles), per_call):
            chunk = tiles[k:k + per_call]
            batches.append([Unit(i, tile, size, n // per_item, cells[n % per_item], (rows, cols))
                            for n, (i, tile) in enumerate(chunk)])
    return batches


def batch_arrays(batch: list[Unit], inputs: dict, with_guide: bool):
    """Build a batch's model inputs: tiles placed in their items, the rest reflect-padded."""
    h, w = batch[0].size
    n = batch[-1].item + 1
    if n == 1 and len(batch) == 1 and (h, w) == (batch[0].tile.height, batch[0].tile.width):
        rimg, rmask, rguide = inputs[batch[0].region]
        if (h, w) == rmask.shape:  # one unpadded crop: hand the model the work image itself, no copy
            gd = None if not with_guide else (
                np.zeros((1, 1, h, w), np.float32) if rguide is None else rguide[None, None].astype(np.float32))
            return rimg[None], rmask[None, None].astype(np.float32), gd
    img = np.empty((n, 3, h, w), np.float32)
    msk = np.empty((n, 1, h, w), np.float32)
    gd = np.zeros((n, 1, h, w), np.float32) if with_guide else None
    th, tw = batch[0].tile.height, batch[0].tile.width
    rows, cols = batch[0].grid
    for k in range(n):
        placed = {u.at: u for u in batch if u.item == k}
        first = next(iter(placed.values()))
        block = np.empty((rows * th, cols * tw, 3), np.float32)
        bmask = np.empty((rows * th, cols * tw), bool)
        bguide = np.zeros((rows * th, cols * tw), np.float32)
        for y in range(0, rows * th, th):
            for x in range(0, cols * tw, tw):
                u = placed.get((y, x), first)  # an atlas's unused cells repeat a tile; their output is ignored
                rimg, rmask, rguide = inputs[u.region]
                src = u.tile.slices
                block[y:y + th, x:x + tw] = rimg[(slice(None), *src)].transpose(1, 2, 0)
                bmask[y:y + th, x:x + tw] = rmask[src]
                if rguide is not None:
                    bguide[y:y + th, x:x + tw] = rguide[src]
        img[k] = pad_to(block, h, w).transpose(2, 0, 1)
        msk[k, 0] = pad_to(bmask, h, w)
        if gd is not None:
            gd[k, 0] = pad_to(bguide, h, w)
    return img, msk, gd
