"""What a detection found: per-kind damage probability maps, and the masks and proposals made from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from restorer.core import mask as masks
from restorer.errors import RestorerError

KINDS = ("scratches", "dust", "cracks")
DEFAULT_THRESHOLD = 0.5
GROW_PX = 2  # masks are drawn this much wider than the damage, so a fill covers its soft rim
# A detector may ask that a proposal be sure somewhere (``Damage.confirm``): a connected region of
# pixels at the threshold is proposed only if its highest probability reaches ``confirm`` of the way
# from the threshold to 1 (0.8: 0.9 at the default 0.5), so a faint patch of texture with no sure pixel
# is not. 0 = every region at the threshold (the classical detector, whose maps seldom reach 0.9).
NO_CONFIRM = 0.0


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str


@dataclass
class Damage:
    """Per-kind probability maps of one photo, stored as uint8 (probability x 255) to keep 24 MP at 72 MB.

    ``probability()`` gives the float32 0..1 map the array contract promises.
    """

    maps: dict[str, np.ndarray]  # kind -> uint8 H x W
    detector: str = "classical"
    notes: list[str] = field(default_factory=list)
    confirm: float = NO_CONFIRM  # the detector's (see ``proposals``)

    @property
    def shape(self) -> tuple[int, int]:
        return next(iter(self.maps.values())).shape

    def _selected(self, kinds: Iterable[str] | None) -> list[np.ndarray]:
        chosen = list(self.maps) if kinds is None else list(kinds)
        unknown = [k for k in chosen if k not in self.maps]
        if unknown:
            raise RestorerError(f"unknown damage kind {unknown[0]!r}; kinds: {', '.join(self.maps)}")
        return [self.maps[k] for k in chosen]

    def levels(self, kinds: Iterable[str] | None = None) -> np.ndarray:
        """uint8 H x W: the highest probability (x 255) over ``kinds`` (None = all)."""
        maps = self._selected(kinds)
        out = maps[0].copy()
        for m in maps[1:]:
            np.maximum(out, m, out=out)
        return out

    def probability(self, kinds: Iterable[str] | None = None) -> np.ndarray:
        """float32 H x W in [0, 1]: the probability that a pixel is damage of one of ``kinds``."""
        return self.levels(kinds).astype(np.float32) / 255.0

    def mask(self, threshold: float = DEFAULT_THRESHOLD, kinds: Iterable[str] | None = None,
             grow: int = 0) -> np.ndarray:
        """bool H x W: the proposals' pixels at ``threshold`` (``proposals``), grown by ``grow`` px (a disc)."""
        return threshold_mask(self.levels(kinds), threshold, grow, self.confirm)


def level_of(threshold: float) -> int:
    """The uint8 level a threshold in [0, 1] compares at (at least 1, so 0 never flags every pixel)."""
    if not 0.0 <= threshold <= 1.0:
        raise RestorerError(f"threshold must be between 0 and 1, not {threshold}")
    return max(1, round(threshold * 255))


def confirm_level(threshold: float, confirm: float) -> int:
    """The level a proposal at ``threshold`` must reach somewhere: ``confirm`` of the way to 1."""
    return level_of(min(1.0, threshold + confirm * (1.0 - threshold)))


def proposals(levels: np.ndarray, threshold: float, confirm: float = NO_CONFIRM) -> tuple[int, np.ndarray]:
    """(count + 1, int32 H x W labels 1..count) of the proposals in ``levels`` (uint8 H x W) at
    ``threshold``: the 8-connected regions at or above it that reach ``confirm_level`` somewhere
    (every one, ``confirm`` 0); label 0 is 'no proposal'."""
    on = (levels >= level_of(threshold)).view(np.uint8)
    n, labels = cv2.connectedComponents(on, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1 or confirm <= 0:
        return n, labels
    sure = np.zeros(n, bool)
    sure[labels[levels >= confirm_level(threshold, confirm)]] = True
    sure[0] = False
    if sure[1:].all():
        return n, labels
    relabel = np.cumsum(sure).astype(np.int32) * sure  # an old label's new one, 0 if it is dropped
    return int(sure.sum()) + 1, relabel[labels]


def threshold_mask(levels: np.ndarray, threshold: float, grow: int = 0, confirm: float = NO_CONFIRM) -> np.ndarray:
    mask = proposals(levels, threshold, confirm)[1] > 0
    # the brush's own disc, so a detected speck grown by 2 px is what a 2-px dab would cover
    return masks.grow(mask, grow) if grow > 0 else mask
