"""Which crops the engine runs: holes, shared crops with context, the work scale, buckets and tiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from restorer.core.box import BBox
from restorer.inference.tiles import FIT_FACTOR, covered, hole_tiles, round_up, tile_boxes, tile_margin
from restorer.synthesis.compose import network_part

# Small crops grow to one of these sides so that many of them share one batched model call.
LADDER = (32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512)
# Connected components run on a mask pooled to about this size (at most 8 x 8 pixels per cell, fewer
# than any context margin, so holes that pooling joins would share a crop anyway): 20x faster on 24 MP.
_CC_PIXELS = 2_000_000


@dataclass(frozen=True, eq=False)
class Region:
    """One crop of the photo with every hole it fills; owns copies of its pixels, never the whole photo.

    ``crop`` is the context box in photo coordinates, ``patch`` the bounding box of the holes this
    region pastes back (inside ``crop``; patches of different regions never overlap). ``mask`` holds
    every hole inside the crop (holes of neighbouring regions count as unknown context too).
    The model runs on the crop resized by ``scale`` (``work_shape``), over ``tiles`` of that
    scaled crop (boxes in scaled coordinates; one tile when the crop fits the model).
    """

    crop: BBox
    patch: BBox
    pixels: np.ndarray  # photo dtype, crop.height x crop.width x C (or 2-D for 2-D photos)
    mask: np.ndarray  # bool, crop.height x crop.width
    scale: float
    work_shape: tuple[int, int]
    tiles: tuple[BBox, ...]
    overlap: int  # pixels two neighbouring tiles share (scaled coordinates), blended linearly
    guide: np.ndarray | None = None  # bool crop edges the user drew (edge-guided models only)
    allowed: np.ndarray | None = None  # bool crop: where synthesis may copy patches from (None = anywhere)
    # bool crop: the hole pixels a guided fill's network guides (its tiles cover only these; the thin
    # rest follows a classical fill); None = the whole hole
    net_mask: np.ndarray | None = None

    @property
    def own(self) -> np.ndarray:
        """The hole pixels this region pastes, as a bool array over ``patch``."""
        return self.mask[self.patch.relative_to(self.crop)]


def _pool_any(mask: np.ndarray, f: int) -> np.ndarray:
    """Logical OR over f x f blocks (edge blocks may be smaller): a dilation read at every f-th pixel."""
    if f == 1:
        return mask
    grown = cv2.dilate(mask.view(np.uint8), np.ones((f, f), np.uint8), anchor=(0, 0),
                       borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return grown[::f, ::f] > 0


class Hole(NamedTuple):
    """One connected hole: its bounding box and how many pixels it holds."""

    box: BBox
    area: int

    @property
    def width(self) -> float:
        """How thick the hole is, roughly: area over the box's longer side (a line's width, 0.8 x a disc's)."""
        return self.area / max(1, self.box.height, self.box.width)


def find_holes(mask: np.ndarray) -> list[Hole]:
    """The holes (8-connected components; on huge masks holes a few pixels apart may count as one)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    y0, y1 = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(mask[y0:y1].any(axis=0))
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    sub = mask[y0:y1, x0:x1]
    f = min(8, max(1, math.ceil(math.sqrt(sub.size / _CC_PIXELS))))
    small = _pool_any(sub, f).view(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    holes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i, :5])
        box = BBox(y * f, x * f, min((y + h) * f, sub.shape[0]), min((x + w) * f, sub.shape[1]))
        if f > 1:  # tighten the pooled box back to exact pixels
            part = sub[box.slices]
            r = np.flatnonzero(part.any(axis=1))
            c = np.flatnonzero(part.any(axis=0))
            box = BBox(box.y0 + int(r[0]), box.x0 + int(c[0]), box.y0 + int(r[-1]) + 1, box.x0 + int(c[-1]) + 1)
            area = min(area * f * f, box.area)
        holes.append(Hole(BBox(box.y0 + y0, box.x0 + x0, box.y1 + y0, box.x1 + x0), area))
    return holes


def context_box(hole: Hole, shape: tuple[int, ...], min_margin: int, margin_ratio: float) -> BBox:
    """The hole plus a margin of known pixels that grows with the hole's width, clipped to the photo.

    The width, not the length: a scratch across the whole photo needs context beside it, not a
    margin as long as itself.
    """
    return hole.box.pad(max(min_margin, int(math.ceil(margin_ratio * hole.width))), shape)


def group_holes(holes: list[Hole], shape: tuple[int, ...], min_margin: int = 32,
                margin_ratio: float = 0.5) -> list[tuple[BBox, BBox]]:
    """Merge holes into shared crops; returns (crop, patch) pairs whose patches never overlap.

    Two crops merge when their hole boxes overlap (needed: each region pastes its whole patch
    box) or when their context boxes overlap and the merged crop is no bigger than the two apart
    (free: shared context is computed once). Merging crops whose union would be mostly empty
    would chain scattered specks into one photo-sized crop, so those stay apart.
    """
    items = [(context_box(h, shape, min_margin, margin_ratio), h.box) for h in holes]
    changed = True
    while changed:
        changed = False
        items.sort(key=lambda it: it[0].x0)
        out: list[tuple[BBox, BBox]] = []
        alive = [True] * len(items)
        for i in range(len(items)):
            if not alive[i]:
                continue
            crop, patch = items[i]
            j = i + 1
            while j < len(items) and items[j][0].x0 < crop.x1:  # sweep: only boxes that can overlap in x
                if alive[j]:
                    c2, p2 = items[j]
                    if crop.intersect(c2) is not None and (patch.intersect(p2) is not None or
                                                           crop.union(c2).area <= crop.area + c2.area):
                        crop, patch = crop.union(c2), patch.union(p2)
                        alive[j] = False
                        changed = True
                j += 1
            out.append((crop, patch))
        items = out
    return items


def hole_thickness(mask: np.ndarray) -> float:
    """Twice the largest distance from a hole pixel to known pixels: how wide the hole really is."""
    f = max(1, math.ceil(math.sqrt(mask.size / 4_000_000)))
    small = _pool_any(mask, f)
    if small.all():  # no known pixel at all: the whole crop is the hole
        return float(max(mask.shape))
    known_border = np.pad(small, 1, constant_values=False).astype(np.uint8)
    dist = cv2.distanceTransform(known_border, cv2.DIST_L2, 3)
    return 2.0 * float(dist.max()) * f


def choose_scale(crop_shape: tuple[int, int], thickness: float, work_size: int | None) -> float:
    """The resize factor a crop runs at: full resolution unless the hole itself is larger than the model's reach.

    A crop that fits the model runs at full size; a larger one is shrunk to fit, but never further
    than needed to make the hole's thickness half the work size (a long thin scratch stays sharp
    and is tiled instead of shrunk to nothing).
    """
    if work_size is None or max(crop_shape) <= FIT_FACTOR * work_size:
        return 1.0
    fit = work_size / max(crop_shape)
    reach = work_size / (2.0 * max(thickness, 1.0))
    return float(min(1.0, max(fit, reach)))


def bucket_sides(sides: list[int], pad_multiple: int, min_batch: int = 8) -> list[int]:
    """A square side per small crop, from few distinct sizes, so that crops share batched model calls.

    Each crop takes the first ladder size that holds it; a size with fewer than ``min_batch`` crops
    moves up to the next size in use (bigger crops cost little when they are few, an extra model
    call costs more).
    """
    ladder = sorted({round_up(s, pad_multiple) for s in LADDER})
    steps = [next((i for i, s in enumerate(ladder) if s >= n), len(ladder) - 1) for n in sides]
    used = sorted(set(steps))
    counts = {i: steps.count(i) for i in used}
    moved: dict[int, int] = {}
    for k, i in enumerate(used[:-1]):
        if counts[i] < min_batch:
            counts[used[k + 1]] += counts[i]
            moved[i] = used[k + 1]
    final: list[int] = []
    for i in steps:
        while i in moved:
            i = moved[i]
        final.append(max(ladder[i], round_up(sides[len(final)], pad_multiple)))
    return final


def square_box(crop: BBox, side: int, shape: tuple[int, ...]) -> BBox:
    """Grow ``crop`` to ``side`` x ``side`` around its centre, shifted to stay inside the photo."""

    def grow(lo: int, hi: int, limit: int) -> tuple[int, int]:
        target = min(max(side, hi - lo), limit)
        lo = max(0, min(lo - (target - (hi - lo)) // 2, limit - target))
        return lo, lo + target

    y0, y1 = grow(crop.y0, crop.y1, int(shape[0]))
    x0, x1 = grow(crop.x0, crop.x1, int(shape[1]))
    return BBox(y0, x0, y1, x1)


def scaled_shape(crop: BBox, scale: float) -> tuple[int, int]:
    if scale >= 1.0:
        return crop.height, crop.width
    return max(1, round(crop.height * scale)), max(1, round(crop.width * scale))


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Shrink a bool mask so that any covered pixel stays True (damage never leaks in as context)."""
    if mask.shape == shape:
        return mask
    return cv2.resize(mask.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA) > 0


def plan_regions(pixels: np.ndarray, mask: np.ndarray, *, work_size: int | None, pad_multiple: int,
                 min_margin: int = 32, margin_ratio: float = 0.5, guide: np.ndarray | None = None,
                 pack: bool = True, grow: bool = True, sources: np.ndarray | None = None,
                 reach_sources: bool = False, thin: float | None = None) -> list[Region]:
    """Split a photo's holes into regions, each owning copies of only its crop's pixels, mask and guide.

    ``grow``: small crops grow to shared square sizes so they batch into few model calls (worth it
    for learned models; a classical model loops over a batch anyway and only pays for the area).
    ``sources``: bool photo-sized, where synthesis may copy from; with ``reach_sources`` every crop
    grows to hold all of it (a sampling area the user painted far from the hole).
    ``thin``: a guided fill's network runs only on the parts of a hole thicker than this
    (``network_part``; each region's ``net_mask``), the rest follows a classical fill.
    """
    shape = mask.shape
    regions = []
    small_side = LADDER[-1] if work_size is None else min(LADDER[-1], int(FIT_FACTOR * work_size))
    groups = group_holes(find_holes(mask), shape, min_margin, margin_ratio)
    if pack and grow:  # small crops grow to a few shared square sizes (more real context, fewer model calls)
        small = [k for k, (crop, _) in enumerate(groups) if max(crop.height, crop.width) <= small_side]
        # A coarse size multiple (PConv: 128) would blow an 80-pixel crop up to 128: keep the crop
        # small and let the runner set several side by side in one input instead.
        step = pad_multiple if pad_multiple <= 32 else 16
        sides = bucket_sides([max(groups[k][0].height, groups[k][0].width) for k in small], step)
        for k, side in zip(small, sides):
            groups[k] = (square_box(groups[k][0], side, shape), groups[k][1])
    reach = _bbox(sources) if sources is not None and reach_sources else None
    for crop, patch in groups:
        if reach is not None:
            crop = crop.union(reach)
        sub = mask[crop.slices]
        thickness = hole_thickness(sub) if work_size else 0.0
        scale = choose_scale((crop.height, crop.width), thickness, work_size)
        work = scaled_shape(crop, scale)
        net = None
        if thin is not None and work_size and guide is None:
            net = network_part(sub, thin)
        single = True
        if work_size is None:
            tiles, overlap = [BBox(0, 0, *work)], 0
        else:
            tile = round_up(work_size, pad_multiple)
            overlap = tile // 4
            tiles = tile_boxes(work, tile, overlap)
            single = len(tiles) == 1
            if len(tiles) > 1:  # only tiles that hold hole: along the hole, or the grid's when fewer
                coarse = resize_mask(sub if net is None else net, work)
                along = hole_tiles(coarse, tile, tile_margin(tile, thickness * scale))
                grid = [t for t in tiles if coarse[t.slices].any()]
                tiles = along if len(along) < len(grid) else grid
        if net is not None:
            # One tile: the network sees the whole hole anyway. Several: it guides what its tiles cover
            # (the thick parts and whatever thin hole shares their tiles); the rest is thin.
            net = None if single else covered(sub, tiles, work, overlap // 2)
            if net is not None and net.sum() == sub.sum():
                net = None
        regions.append(Region(
            crop=crop, patch=patch, pixels=_frozen(pixels[crop.slices]), mask=_frozen(sub), scale=scale,
            work_shape=work, tiles=tuple(tiles), overlap=overlap,
            guide=None if guide is None else _frozen(guide[crop.slices]),
            allowed=None if sources is None else _frozen(sources[crop.slices]),
            net_mask=None if net is None else _frozen(net),
        ))
    return regions


def _bbox(area: np.ndarray) -> BBox | None:
    rows, cols = np.flatnonzero(area.any(axis=1)), np.flatnonzero(area.any(axis=0))
    if rows.size == 0:
        return None
    return BBox(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def _frozen(view: np.ndarray) -> np.ndarray:
    """A read-only copy: a job's arrays are its own, and nobody writes into them while it runs."""
    arr = view.copy()
    arr.flags.writeable = False
    return arr
