"""The texture stages: a region's full-resolution fill from the photo's own patches, optionally
following a learned model's work-resolution fill (upscaled only to steer, never pasted); and grain
added to fills smoother than the photo around them."""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from restorer.core.box import BBox
from restorer.inference.paste import from_float3, to_float3
from restorer.inference.regions import Region, hole_thickness
from restorer.inference.tiles import hole_blocks
from restorer.synthesis.compose import mosaic
from restorer.synthesis.grain import add_grain
from restorer.synthesis.model import Settings, wants_guide


# A thin hole (at most BLOCK_THIN px thick) in a crop of more than 4 blocks is synthesised in blocks of
# BLOCK px along it, each with BLOCK_CONTEXT px of the photo around the pixels it fills (texture._blockwise).
BLOCK = 512
BLOCK_CONTEXT = 64
BLOCK_THIN = 64.0


def needs_guide(region: Region, settings: Settings) -> bool:
    if region.net_mask is not None:
        return bool(region.net_mask.any())
    return wants_guide(region.mask, settings)


def synthesise(region: Region, synth, guide_work: np.ndarray | None, thin_guide: str | None = None
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """The crop with its hole synthesised, in the photo's own dtype and layout (``paste.make_patch``
    takes it as it is); yields (done, total).

    ``thin_guide``: the classical fill that guides a region's thin parts (those outside its net_mask).
    """
    h, w = region.mask.shape
    if region.allowed is None and region.mask.size > 4 * BLOCK * BLOCK \
            and hole_thickness(region.mask) <= BLOCK_THIN:
        return (yield from _blockwise(region, synth, guide_work, thin_guide))
    img = to_float3(region.pixels)
    work, scale = _work(guide_work, (h, w))
    guide = None
    if work is not None:
        guide = upscaled(work, (h, w), BBox(0, 0, h, w))
        if region.net_mask is not None and thin_guide:
            guide = mosaic(guide, img, region.mask, region.net_mask, thin_guide)
    gen = synth.fill(img, region.mask, guide, region.allowed, scale, owned=True)
    del img  # the synthesis owns the crop's floats now: the finest level's features replace them
    filled = yield from gen
    del guide
    return from_float3(filled, region.pixels)  # the photo's dtype: a fifth to a half of the floats' bytes


def _work(guide_work: np.ndarray | None, shape: tuple[int, int]) -> tuple[np.ndarray | None, float]:
    """The network's work-resolution fill (C x h x w) as h x w x C, and how many times the crop is larger."""
    if guide_work is None:
        return None, 1.0
    scale = max(shape[0] / guide_work.shape[1], shape[1] / guide_work.shape[2])
    return np.ascontiguousarray(guide_work.transpose(1, 2, 0), np.float32), scale


def upscaled(work: np.ndarray, shape: tuple[int, int], box: BBox) -> np.ndarray:
    """``box`` of ``work`` (h x w x C) resized to ``shape``, computed for that box only: box.height x
    box.width x C float32, bilinear with cv2.resize's pixel-centre mapping (equal to a slice of it to 1e-6)."""
    def axis(lo: int, hi: int, n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = ((np.arange(lo, hi) + 0.5) * (n / size) - 0.5).clip(0, n - 1)
        i0 = np.minimum(pos.astype(np.int64), n - 1)
        return i0, np.minimum(i0 + 1, n - 1), (pos - i0).astype(np.float32)

    work = np.asarray(work, np.float32)
    if work.shape[:2] == shape:
        return np.ascontiguousarray(work[box.slices])
    y0, y1, fy = axis(box.y0, box.y1, work.shape[0], shape[0])
    x0, x1, fx = axis(box.x0, box.x1, work.shape[1], shape[1])
    rows = work[y0] * (1 - fy)[:, None, None] + work[y1] * fy[:, None, None]
    return np.ascontiguousarray(rows[:, x0] * (1 - fx)[:, None] + rows[:, x1] * fx[:, None])


def _blockwise(region: Region, synth, guide_work: np.ndarray | None, thin_guide: str | None
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """A thin hole across a large crop, synthesised in blocks of BLOCK px laid along it (``hole_blocks``):
    each fills the hole pixels it serves, with BLOCK_CONTEXT px of photo around them to copy from, and
    sees what the blocks before it filled as known. Every float array (the block's pixels, its guide
    upscaled from ``guide_work``, the classical fill of its thin part) is the block's own, and the fill
    is kept in the photo's dtype: the work and the memory follow the hole's area, not the crop's."""
    hole = region.mask
    h, w = hole.shape
    work, scale = _work(guide_work, (h, w))
    filled = region.pixels.copy()
    todo = hole.copy()
    blocks = hole_blocks(hole, BLOCK, BLOCK_CONTEXT)
    for k, (tile, inner) in enumerate(blocks):
        sub = todo[tile.slices]
        if sub.any():
            img = to_float3(filled[tile.slices])
            guide = None
            if work is not None:
                guide = upscaled(work, (h, w), tile)
                if region.net_mask is not None and thin_guide:
                    guide = mosaic(guide, img, sub, region.net_mask[tile.slices] & sub, thin_guide)
            gen = synth.fill(img, sub, guide, None, scale, owned=True)
            del img
            while True:  # a block's own passes are too fine to report; cancel is checked between them
                try:
                    next(gen)
                except StopIteration as stop:
                    res = stop.value
                    break
                yield k, len(blocks)
            own = np.zeros_like(sub)
            rel = inner.relative_to(tile)
            own[rel] = sub[rel]
            view = filled[tile.slices]
            view[own] = from_float3(res, region.pixels)[own]
            todo[tile.slices] &= ~own
        yield k + 1, len(blocks)
    return filled


def with_grain(region: Region, out: np.ndarray, seed: int) -> np.ndarray:
    """A crop-sized fill (float32 3 x H x W) with grain like the known pixels' added in the hole."""
    known = to_float3(region.pixels)
    grainy = add_grain(np.ascontiguousarray(out.transpose(1, 2, 0)), np.ascontiguousarray(known), region.mask, seed)
    return np.ascontiguousarray(grainy.transpose(2, 0, 1))
