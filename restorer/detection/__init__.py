"""Damage detectors (no Qt; torch only inside learned detectors): find scratches, dust and cracks, and say how sure.

    from restorer.detection import detect_damage
    damage = detect_damage(photo.pixels)            # Damage: per-kind uint8 probability maps
    mask = damage.mask(0.5, kinds=["dust"], grow=2)  # bool H x W, True = damage to fill

registry.py lists the detectors; classical.py is the one that needs no weights; learned.py is
the trained U-Net (torch, imported only when it runs); tiles.py runs any detector over a photo
tile by tile (progress, cancel); damage.py holds what it found; render.py draws synthetic damage
with known truth; evaluate.py scores detections against it (restorer-cli evaluate-detection).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from restorer.detection.damage import (
    DEFAULT_THRESHOLD,
    GROW_PX,
    KINDS,
    Damage,
    Progress,
)

__all__ = ["DEFAULT_THRESHOLD", "GROW_PX", "KINDS", "Damage", "Progress", "detect_damage", "parse_kinds"]


def detect_damage(pixels: np.ndarray, detector: str | None = None, cancel: threading.Event | None = None,
                  on_progress: Callable[[Progress], None] | None = None) -> Damage:
    """Run the named detector (None: registry.default_name()) over a photo (array contract) in the calling thread.

    The detector is loaded once per process (``registry.shared``)."""
    from restorer.detection import registry
    from restorer.detection.tiles import detect_blocking

    return detect_blocking(pixels, registry.shared(detector or registry.default_name()), cancel, on_progress)


def parse_kinds(text: str | None) -> list[str] | None:
    """'scratches,dust' -> ['scratches', 'dust']; None or '' or 'all' -> None (every kind)."""
    from restorer.errors import RestorerError

    if not text or text.strip() == "all":
        return None
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise RestorerError(f"unknown damage kind {unknown[0]!r}; kinds: {', '.join(KINDS)}")
    return kinds
