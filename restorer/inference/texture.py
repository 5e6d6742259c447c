"""The texture stages: a region's full-resolution fill from the photo's own patches, optionally
following a learned model's work-resolution fill (upscaled only to steer, never pasted); and grain
added to fills smoother than the photo around them."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np

from restorer.inference.paste import to_float_chw
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
    """float32 3 x crop.height x crop.width: the crop with its hole synthesised; yields (done, total).

    ``thin_guide``: the classical fill that guides a region's thin parts (those outside its net_mask).
    """
    img = to_float_chw(region.pixels)
    h, w = region.mask.shape
    guide, scale = None, 1.0
    if guide_work is not None:
        guide = guide_work
        scale = max(h / guide_work.shape[1], w / guide_work.shape[2])
        if guide.shape[1:] != (h, w):
            guide = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in guide_work])
        if region.net_mask is not None and thin_guide:
            hwc = mosaic(np.ascontiguousarray(guide.transpose(1, 2, 0)), np.ascontiguousarray(img.transpose(1, 2, 0)),
                         region.mask, region.net_mask, thin_guide)
            guide = np.ascontiguousarray(hwc.transpose(2, 0, 1))
    if region.allowed is None and region.mask.size > 4 * BLOCK * BLOCK \
            and hole_thickness(region.mask) <= BLOCK_THIN:
        return (yield from _blockwise(img, region.mask, synth, guide, scale))
    mask = region.mask[None, None].astype(np.float32)
    allowed = None if region.allowed is None else region.allowed[None, None].astype(np.float32)
    out = yield from synth.steps(img[None], mask, None if guide is None else guide[None], allowed, scale)
    return out[0]


def _blockwise(img: np.ndarray, hole: np.ndarray, synth, guide: np.ndarray | None, scale: float
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """A thin hole across a large crop, synthesised in blocks of BLOCK px laid along it (``hole_blocks``):
    each fills the hole pixels it serves, with BLOCK_CONTEXT px of photo around them to copy from, and
    sees what the blocks before it filled as known. The work follows the hole's area, not the crop's."""
    out = img.copy()
    todo = hole.copy()
    blocks = hole_blocks(hole, BLOCK, BLOCK_CONTEXT)
    for k, (tile, inner) in enumerate(blocks):
        sub = todo[tile.slices]
        if sub.any():
            gen = synth.steps(out[(slice(None), *tile.slices)][None], sub[None, None].astype(np.float32),
                              None if guide is None else guide[(slice(None), *tile.slices)][None], None, scale)
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
            view = out[(slice(None), *tile.slices)]
            np.copyto(view, res[0], where=own[None])
            todo[tile.slices] &= ~own
        yield k + 1, len(blocks)
    return out


def with_grain(region: Region, out: np.ndarray, seed: int) -> np.ndarray:
    """A crop-sized fill (float32 3 x H x W) with grain like the known pixels' added in the hole."""
    known = to_float_chw(region.pixels).transpose(1, 2, 0)
    grainy = add_grain(np.ascontiguousarray(out.transpose(1, 2, 0)), np.ascontiguousarray(known), region.mask, seed)
    return np.ascontiguousarray(grainy.transpose(2, 0, 1))
