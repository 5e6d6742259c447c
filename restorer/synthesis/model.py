"""Patch synthesis behind the registry's call, plus a step-wise form the engine drives for progress and cancel."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from restorer.core.steps import drain
from restorer.synthesis.completion import Settings, complete, hole_thickness


def wants_guide(hole: np.ndarray, settings: Settings) -> bool:
    """Whether a guided fill should run its network for this hole (bool H x W): only holes thicker
    than ``settings.unguided_below``; a scratch or speck is narrower than any structure a network adds."""
    return hole_thickness(hole) > settings.unguided_below


class PatchInpainter:
    """Fills each image of a batch with ``complete``; float32 N x 3 x H x W in, the same out.

    ``guide`` (N x 3 x H x W) steers the fill, ``allowed`` (N x 1 x H x W, 1 = may copy from here)
    restricts where patches come from. ``steps`` is the same work as a generator of (done, total).
    """

    device = "cpu"

    def __init__(self, name: str, settings: Settings) -> None:
        self.name = name
        self.settings = settings

    def steps(self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None = None,
              allowed: np.ndarray | None = None, guide_scale: float = 1.0
              ) -> Generator[tuple[int, int], None, np.ndarray]:
        if image.ndim != 4 or mask.ndim != 4 or mask.shape[1] != 1:
            raise ValueError("expected image N x C x H x W and mask N x 1 x H x W")
        out = np.array(image, dtype=np.float32, copy=True)
        for n in range(out.shape[0]):
            hole = mask[n, 0] > 0.5
            if not hole.any():
                continue
            g = None if guide is None else np.ascontiguousarray(guide[n].transpose(1, 2, 0), np.float32)
            a = None if allowed is None else allowed[n, 0] > 0.5
            filled = yield from self.fill(np.ascontiguousarray(out[n].transpose(1, 2, 0)), hole, g, a, guide_scale)
            out[n] = filled.transpose(2, 0, 1)
        return out

    def fill(self, image: np.ndarray, hole: np.ndarray, guide: np.ndarray | None = None,
             allowed: np.ndarray | None = None, guide_scale: float = 1.0, owned: bool = False
             ) -> Generator[tuple[int, int], None, np.ndarray]:
        """One image as ``complete`` takes it (float32 H x W x C, bool hole; guide H x W x C): the
        engine's form, without the batch layout's copies. Returns the fill clipped to [0, 1].
        ``owned``: as for ``complete`` (the caller keeps no reference to ``image``)."""
        gen = complete(image, hole, allowed=allowed, guide=guide, settings=self.settings,
                       guide_scale=guide_scale, owned=owned)
        del image
        filled = yield from gen
        return np.clip(filled, 0.0, 1.0, out=filled)

    def __call__(self, image: np.ndarray, mask: np.ndarray, guide: np.ndarray | None = None,
                 allowed: np.ndarray | None = None) -> np.ndarray:
        return drain(self.steps(image, mask, guide, allowed))


def settings_from(config: dict[str, Any]) -> Settings:
    """The synthesis settings a registry entry's config names (other keys are ignored)."""
    known = set(Settings.__dataclass_fields__)
    return Settings(**{k: v for k, v in config.items() if k in known})


def build(spec: Any, device: str = "auto", weights: Path | None = None) -> PatchInpainter:
    """Registry factory: synthesis runs on the CPU and needs no weights; the spec's config sets it up."""
    return PatchInpainter(spec.name, settings_from(spec.config))
