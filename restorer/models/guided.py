"""A guided fill as one Inpainter: a learned model's fill steers patch synthesis (restorer.synthesis).

The engine runs the two stages itself (the network on its work-size crops, synthesis at full
resolution); this object serves direct calls of the registry's contract (evaluation, tests), where
the image already is at the network's size.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np

from restorer.models import registry
from restorer.synthesis.model import PatchInpainter, build as build_synth, wants_guide


class GuidedInpainter:
    def __init__(self, spec: registry.ModelSpec, device: str) -> None:
        self.name = spec.name
        self.device = device
        self.synth: PatchInpainter = build_synth(spec)
        if spec.guide_model is None:
            raise ValueError(f"model {spec.name!r} is guided but names no guide model")
        self._guide_name: str = spec.guide_model
        self._net: registry.Inpainter | None = None  # loaded on first use: the engine brings its own

    def steps(self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None = None,
              allowed: np.ndarray | None = None, guide_scale: float = 1.0
              ) -> Generator[tuple[int, int], None, np.ndarray]:
        return self.synth.steps(image, mask, guide, allowed, guide_scale)

    def fill(self, image: np.ndarray, hole: np.ndarray, guide: np.ndarray | None = None,
             allowed: np.ndarray | None = None, guide_scale: float = 1.0, owned: bool = False
             ) -> Generator[tuple[int, int], None, np.ndarray]:
        return self.synth.fill(image, hole, guide, allowed, guide_scale, owned)

    def guide(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The learned model's fill of the batch (a direct call: the network pads to its multiple and crops back)."""
        if self._net is None:
            self._net = registry.load(self._guide_name, device=self.device)
        return np.asarray(self._net(image, mask), np.float32)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = np.array(image, np.float32, copy=True)
        guided = [n for n in range(image.shape[0]) if wants_guide(mask[n, 0] > 0.5, self.synth.settings)]
        guides = self.guide(image[guided], mask[guided]) if guided else None
        for n in range(image.shape[0]):
            g = None if guides is None or n not in guided else guides[guided.index(n):guided.index(n) + 1]
            out[n] = self.synth(image[n:n + 1], mask[n:n + 1], g)[0]
        return out


def build(spec: registry.ModelSpec, device: str = "auto", weights: Path | None = None) -> GuidedInpainter:
    return GuidedInpainter(spec, device)
