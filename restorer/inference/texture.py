"""The synthesis stage: a region's full-resolution fill from the photo's own patches, optionally
following a learned model's work-resolution fill (upscaled only to steer, never pasted)."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np

from restorer.inference.paste import to_float_chw
from restorer.inference.regions import Region
from restorer.synthesis.model import Settings, wants_guide


def needs_guide(region: Region, settings: Settings) -> bool:
    return wants_guide(region.mask, settings)


def synthesise(region: Region, synth, guide_work: np.ndarray | None
               ) -> Generator[tuple[int, int], None, np.ndarray]:
    """float32 3 x crop.height x crop.width: the crop with its hole synthesised; yields (done, total)."""
    img = to_float_chw(region.pixels)
    h, w = region.mask.shape
    guide = None
    if guide_work is not None:
        guide = guide_work
        if guide.shape[1:] != (h, w):
            guide = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in guide_work])
    mask = region.mask[None, None].astype(np.float32)
    out = yield from synth.steps(img[None], mask, None if guide is None else guide[None])
    return out[0]
