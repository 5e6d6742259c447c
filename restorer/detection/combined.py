"""The combined detector: each kind of damage taken from the detector that finds it best.

The classical detector and the learned U-Net fail differently: the U-Net rarely flags clean
texture and finds thin winding lines (hairs, cracks), the classical one finds more specks and long
straight scratches but flags real thin detail too. This detector runs both on each tile and, for
each kind, keeps the maps listed in ``ROUTES`` (which detector's map of that kind, and from which
of its probabilities on). Each kept map is remapped so that its own chosen threshold lands on 0.5
(monotone, 0 and 1 fixed), and a kind's map is the highest of its kept maps. So threshold 0.5 is
the calibrated operating point and the sensitivity slider still moves every map the same way.

``ROUTES`` is chosen by benchmarks/calibrate_combined.py on *training* photos (BSDS500), never on
the validation photos the README's table reports on; the numbers behind it are in
benchmarks/results/combined_calibration.md. With the first damage-unet weights (everything in the
cracks map) it took the classical dust map too and gained 0.01 F1 for twice the false alarms
(combined_calibration_first_unet.md); with the per-kind weights now shipped, no classical map helps,
the routes are damage-unet's own maps at 0.5, and the registry leaves this detector out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from restorer.detection.damage import KINDS
from restorer.detection.tiles import Detector

NAME = "combined"
# kind -> ((detector, that detector's threshold for its map of this kind), ...). A detector not
# listed for a kind contributes nothing to it.
ROUTES: dict[str, tuple[tuple[str, float], ...]] = {
    "scratches": (("damage-unet", 0.5),),
    "dust": (("damage-unet", 0.5),),
    "cracks": (("damage-unet", 0.5),),
}
# The routes chosen with the first damage-unet weights, kept to show what a combination looks like.
FIRST_UNET_ROUTES: dict[str, tuple[tuple[str, float], ...]] = {
    "scratches": (("damage-unet", 0.5),),
    "dust": (("classical", 0.99), ("damage-unet", 0.5)),
    "cracks": (("damage-unet", 0.4),),
}
TILE = 768  # the learned part's tile (learned.TILE: its activations bound the memory); the classical one matches at any size


def remap(prob: np.ndarray, threshold: float) -> np.ndarray:
    """Monotone piecewise-linear map of [0, 1] onto itself taking ``threshold`` to 0.5 (float32)."""
    t = min(max(float(threshold), 1e-3), 1 - 1e-3)
    p = np.asarray(prob, np.float32)
    low = p * np.float32(0.5 / t)
    high = np.float32(0.5) + (p - np.float32(t)) * np.float32(0.5 / (1 - t))
    return np.where(p < t, low, high).astype(np.float32)


class CombinedDetector:
    """tiles.Detector over several detectors: one call runs each on the same gray tile, then routes kinds."""

    kinds = KINDS
    tile = TILE

    def __init__(self, parts: Mapping[str, Detector], routes: Mapping[str, Sequence[tuple[str, float]]] = ROUTES,
                 name: str = NAME) -> None:
        unknown = {source for chosen in routes.values() for source, _ in chosen} - set(parts)
        if unknown:
            raise ValueError(f"routes name detectors that are not given: {', '.join(sorted(unknown))}")
        bad = [kind for kind in routes if kind not in KINDS]
        if bad:
            raise ValueError(f"routes name unknown kinds: {', '.join(bad)}")
        used = {source for chosen in routes.values() for source, _ in chosen}
        self.parts = {n: d for n, d in parts.items() if n in used}  # a detector no kind takes from never runs
        self.routes = {kind: tuple(chosen) for kind, chosen in routes.items()}
        self.name = name
        self.margin = max((d.margin for d in self.parts.values()), default=0)
        aligns = [int(getattr(d, "align", 1)) for d in self.parts.values()]
        self.align = int(np.lcm.reduce(aligns)) if aligns else 1

    def sources(self, kind: str) -> tuple[str, ...]:
        """The detectors whose map of ``kind`` this detector keeps (the per-kind source)."""
        return tuple(source for source, _ in self.routes.get(kind, ()))

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        found = {n: d(gray) for n, d in self.parts.items()}
        out = {}
        for kind in self.kinds:
            best = np.zeros(gray.shape, np.float32)
            for source, threshold in self.routes.get(kind, ()):
                prob = found[source].get(kind)
                if prob is not None:
                    np.maximum(best, remap(prob, threshold), out=best)
            out[kind] = best
        return out


def build(spec: Any, weights: Path | None = None, routes: Mapping[str, Sequence[tuple[str, float]]] = ROUTES
          ) -> CombinedDetector:
    """The registry's factory: the classical detector and the U-Net from ``weights`` (its card beside it)."""
    from restorer.detection import classical, learned, registry

    # Any: the two classes declare their attributes as class constants, which mypy will not match to the Protocol
    parts: dict[str, Any] = {"classical": classical.build(registry.CLASSICAL)}
    parts["damage-unet"] = learned.build(registry.LEARNED, weights)
    return CombinedDetector(parts, routes, spec.name)
