"""The texture stages: a region's full-resolution fill from the photo's own patches, optionally
following a learned model's work-resolution fill (upscaled only to steer, never pasted); and grain
added to fills smoother than the photo around them."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np

from restorer.core.box import BBox
from restorer.inference.paste import from_float3, to_float_chw
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
    """The crop with its hole synthesised; yields (done, total). Either float32 3 x crop.height x
    crop.width or, for a thin hole filled block by block, the crop in the photo's own dtype and layout
    (``paste.make_patch`` takes both).

    ``thin_guide``: the classical fill that guides a region's thin parts (those outside its net_mask).
    """
    h, w = region.mask.shape
    if region.allowed is None and region.mask.size > 4 * BLOCK * BLOCK \
            and hole_thickness(region.mask) <= BLOCK_THIN:
        return (yield from _blockwise(region, synth, guide_work, thin_guide))
    img = to_float_chw(region.pixels)
    guide, scale = None, 1.0
    if guide_work is not None:
        scale = max(h / guide_work.shape[1], w / guide_work.shape[2])
        guide = guide_work
        if guide.shape[1:] != (h, w):
            guide = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in guide_work])
        if region.net_mask is not None and thin_guide:
            guide = _mosaic(guide, img, region.mask, region.net_mask, thin_guide)
    mask = region.mask[None, None].astype(np.float32)
    allowed = None if region.allowed is None else region.allowed[None, None].astype(np.float32)
    out = yield from synth.steps(img[None], mask, None if guide is None else guide[None], allowed, scale)
    return out[0]


def upscaled(work: np.ndarray, shape: tuple[int, int], box: BBox) -> np.ndarray:
    """``box`` of ``work`` (C x h x w) resized to ``shape``, computed for that box only: C x box.height x
    box.width float32, bilinear with cv2.resize's pixel-centre mapping (equal to a slice of it to 1e-6)."""
    def axis(lo: int, hi: int, n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = ((np.arange(lo, hi) + 0.5) * (n / size) - 0.5).clip(0, n - 1)
        i0 = np.minimum(pos.astype(np.int64), n - 1)
        return i0, np.minimum(i0 + 1, n - 1), (pos - i0).astype(np.float32)

    work = np.asarray(work, np.float32)
    if work.shape[1:] == shape:
        return np.ascontiguousarray(work[(slice(None), *box.slices)])
    y0, y1, fy = axis(box.y0, box.y1, work.shape[1], shape[0])
    x0, x1, fx = axis(box.x0, box.x1, work.shape[2], shape[1])
    rows = work[:, y0] * (1 - fy)[:, None] + work[:, y1] * fy[:, None]
    return np.ascontiguousarray(rows[:, :, x0] * (1 - fx) + rows[:, :, x1] * fx)


def _mosaic(guide: np.ndarray, img: np.ndarray, hole: np.ndarray, net: np.ndarray, method: str) -> np.ndarray:
    """``compose.mosaic`` on 3 x H x W arrays."""
    hwc = mosaic(np.ascontiguousarray(guide.transpose(1, 2, 0)), np.ascontiguousarray(img.transpose(1, 2, 0)),
                 hole, net, method)
    return np.ascontiguousarray(hwc.transpose(2, 0, 1))


def _blockwise(region: Region, synth, guide_work: np.ndarray | None, thin_guide: str | None
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """A thin hole across a large crop, synthesised in blocks of BLOCK px laid along it (``hole_blocks``):
    each fills the hole pixels it serves, with BLOCK_CONTEXT px of photo around them to copy from, and
    sees what the blocks before it filled as known. Every float array (the block's pixels, its guide
    upscaled from ``guide_work``, the classical fill of its thin part) is the block's own, and the fill
    is kept in the photo's dtype: the work and the memory follow the hole's area, not the crop's."""
    hole = region.mask
    h, w = hole.shape
    scale = 1.0 if guide_work is None else max(h / guide_work.shape[1], w / guide_work.shape[2])
    filled = region.pixels.copy()
    todo = hole.copy()
    blocks = hole_blocks(hole, BLOCK, BLOCK_CONTEXT)
    for k, (tile, inner) in enumerate(blocks):
        sub = todo[tile.slices]
        if sub.any():
            img = to_float_chw(filled[tile.slices])
            guide = None
            if guide_work is not None:
                guide = upscaled(guide_work, (h, w), tile)
                if region.net_mask is not None and thin_guide:
                    guide = _mosaic(guide, img, sub, region.net_mask[tile.slices] & sub, thin_guide)
            gen = synth.steps(img[None], sub[None, None].astype(np.float32),
                              None if guide is None else guide[None], None, scale)
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
            view[own] = from_float3(res[0].transpose(1, 2, 0), region.pixels)[own]
            todo[tile.slices] &= ~own
        yield k + 1, len(blocks)
    return filled


def with_grain(region: Region, out: np.ndarray, seed: int) -> np.ndarray:
    """A crop-sized fill (float32 3 x H x W) with grain like the known pixels' added in the hole."""
    known = to_float_chw(region.pixels).transpose(1, 2, 0)
    grainy = add_grain(np.ascontiguousarray(out.transpose(1, 2, 0)), np.ascontiguousarray(known), region.mask, seed)
    return np.ascontiguousarray(grainy.transpose(2, 0, 1))
