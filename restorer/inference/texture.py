"""The texture stages: a region's full-resolution fill from the photo's own patches, optionally
following a learned model's work-resolution fill (upscaled only to steer, never pasted); and grain
added to fills smoother than the photo around them."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np

from restorer.inference.paste import to_float_chw
from restorer.inference.regions import Region
from restorer.synthesis.grain import add_grain
from restorer.synthesis.model import Settings, wants_guide


def needs_guide(region: Region, settings: Settings) -> bool:
    return wants_guide(region.mask, settings)


def synthesise(region: Region, synth, guide_work: np.ndarray | None
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """float32 3 x crop.height x crop.width: the crop with its hole synthesised; yields (done, total)."""
    img = to_float_chw(region.pixels)
    h, w = region.mask.shape
    guide, scale = None, 1.0
    if guide_work is not None:
        guide = guide_work
        scale = max(h / guide_work.shape[1], w / guide_work.shape[2])
        if guide.shape[1:] != (h, w):
            guide = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in guide_work])
    mask = region.mask[None, None].astype(np.float32)
    allowed = None if region.allowed is None else region.allowed[None, None].astype(np.float32)
    out = yield from synth.steps(img[None], mask, None if guide is None else guide[None], allowed, scale)
    return out[0]


def with_grain(region: Region, out: np.ndarray, seed: int) -> np.ndarray:
    """A crop-sized fill (float32 3 x H x W) with grain like the known pixels' added in the hole."""
    known = to_float_chw(region.pixels).transpose(1, 2, 0)
    grainy = add_grain(np.ascontiguousarray(out.transpose(1, 2, 0)), np.ascontiguousarray(known), region.mask, seed)
    return np.ascontiguousarray(grainy.transpose(2, 0, 1))
