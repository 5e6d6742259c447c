"""Running a detector over a whole photo: gray tiles with overlap, progress, cancel, and the assembled maps.

Memory is the photo plus one uint8 map per kind (72 MB for 24 MP) plus one tile's working arrays
(about 100 MB for 1024 px tiles), whatever the photo's size; time grows with its pixels.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Protocol

import cv2
import numpy as np

from restorer.core.steps import drain
from restorer.detection.damage import NO_CONFIRM, Damage, Progress
from restorer.errors import Cancelled, ImageError

TILE = 1024


class Detector(Protocol):
    """A loaded detector: gray float32 tile (with ``margin`` px of context) -> kind -> float32 0..1 map.

    Optional: ``tile`` (the core size it wants), ``align`` (tiles start on multiples of it) and
    ``confirm`` (how sure a proposal must be somewhere, ``damage.proposals``; 0 when absent).
    """

    name: str
    margin: int
    kinds: tuple[str, ...]

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]: ...


def check_photo(pixels: np.ndarray) -> None:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"photo pixels are {pixels.dtype}; detection takes 8-bit or 16-bit photos")
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3)):
        raise ImageError(f"photo has shape {pixels.shape}; expected H x W x 1 or H x W x 3")
    if min(pixels.shape[:2]) < 1:
        raise ImageError("photo is empty")


def gray_tile(pixels: np.ndarray, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    """float32 luminance in [0, 1] of one box of the photo (converted per tile: no photo-sized float copy)."""
    crop = pixels[y0:y1, x0:x1]
    scale = 1.0 / float(np.iinfo(pixels.dtype).max)
    if crop.ndim == 3 and crop.shape[2] == 3:
        return cv2.cvtColor(crop.astype(np.float32), cv2.COLOR_RGB2GRAY) * np.float32(scale)
    return crop.reshape(crop.shape[0], crop.shape[1]).astype(np.float32) * np.float32(scale)


def tile_boxes(h: int, w: int, tile: int = TILE) -> list[tuple[int, int, int, int]]:
    """Core boxes (y0, x0, y1, x1) covering the photo; sizes evened out so no sliver tile is left."""
    def cuts(n: int) -> list[int]:
        k = max(1, -(-n // tile))
        return [round(i * n / k) for i in range(k + 1)]

    ys, xs = cuts(h), cuts(w)
    return [(ys[i], xs[j], ys[i + 1], xs[j + 1]) for i in range(len(ys) - 1) for j in range(len(xs) - 1)]


def detect(pixels: np.ndarray, detector: Detector, cancel: threading.Event | None = None, *,
           tile: int | None = None) -> Generator[Progress, None, Damage]:
    """Run ``detector`` over the photo; yields Progress after each tile, raises Cancelled between tiles.

    ``tile`` (default: the detector's own ``tile`` if it has one, else TILE) bounds the working memory.
    """
    check_photo(pixels)
    size = tile if tile else int(getattr(detector, "tile", TILE))
    h, w = pixels.shape[:2]
    maps = {k: np.zeros((h, w), np.uint8) for k in detector.kinds}
    boxes = tile_boxes(h, w, size)
    m = detector.margin
    align = int(getattr(detector, "align", 1))
    for i, (y0, x0, y1, x1) in enumerate(boxes):
        if cancel is not None and cancel.is_set():
            raise Cancelled("detection cancelled")
        py0, px0, py1, px1 = max(0, y0 - m), max(0, x0 - m), min(h, y1 + m), min(w, x1 + m)
        # a strided network sees the same pixel grid in every tile as in one whole-photo run
        py0, px0 = py0 - py0 % align, px0 - px0 % align
        gray = gray_tile(pixels, py0, px0, py1, px1)
        found = detector(gray)
        core = (slice(y0 - py0, y1 - py0), slice(x0 - px0, x1 - px0))
        for kind, prob in found.items():
            maps[kind][y0:y1, x0:x1] = np.clip(prob[core] * 255 + 0.5, 0, 255).astype(np.uint8)
        yield Progress(i + 1, len(boxes), "Detecting damage")
    return Damage(maps, detector=detector.name, confirm=float(getattr(detector, "confirm", NO_CONFIRM)))


def detect_blocking(pixels: np.ndarray, detector: Detector, cancel: threading.Event | None = None,
                    on_progress: Callable[[Progress], None] | None = None, *, tile: int | None = None) -> Damage:
    """``detect`` to the end in the calling thread."""
    return drain(detect(pixels, detector, cancel, tile=tile), on_progress)
