"""What the views ask of a document about its history: a step's edit and patches, a region at any
state, a step's before/after, the photo as loaded. Read-only; ``Document`` inherits them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from restorer.core.box import BBox
from restorer.core.history import Edit, History, Patch
from restorer.errors import RestorerError

if TYPE_CHECKING:
    from restorer.core.image import Photo


class HistoryQueries:
    """Mixed into ``Document``, which provides these attributes."""

    history: History
    photo: Photo
    mask: np.ndarray
    _source_overwritten: bool

    @property
    def pixels(self) -> np.ndarray:  # pragma: no cover - Document's own property serves
        raise NotImplementedError

    def _arrays(self) -> dict[str, np.ndarray]:  # pragma: no cover - Document's own method serves
        raise NotImplementedError

    def step(self, k: int) -> Edit:
        """The edit that leads from state ``k - 1`` to state ``k`` (1 <= k <= len(steps))."""
        if not 1 <= k <= len(self.history):
            raise IndexError(f"history step {k} is outside 1..{len(self.history)}")
        return self.history.steps[k - 1]

    def step_patches(self, k: int) -> tuple[Patch, ...]:
        """The before/after patches of step ``k`` (see ``step``)."""
        return self.step(k).patches

    def region_at(self, index: int, box: BBox, target: str = "photo", stride: int = 1) -> np.ndarray:
        """A copy of ``box`` of the photo (or mask, guides, unguides) as it is at history state
        ``index``, every ``stride``-th row and column: only the patches over ``box`` are read, so a
        thumbnail of a 100-megapixel photo at any state costs about as much as its pixels."""
        return self.history.region_at(self._arrays()[target], target, BBox(*box), index, stride)

    def step_region(self, k: int, target: str = "photo", pad: int = 0
                    ) -> tuple[BBox, np.ndarray, np.ndarray] | None:
        """``(box, before, after)`` for comparing step ``k`` alone: the box it changed in
        ``target`` (padded by ``pad`` for context), as it was before and after that step.
        None when the step did not change ``target``.
        """
        box = self.step(k).box(target)
        if box is None:
            return None
        box = box.pad(pad, self.mask.shape)
        return box, self.region_at(k - 1, box, target), self.region_at(k, box, target)

    def original_pixels(self, box: BBox | None = None) -> np.ndarray:
        """The photo as loaded (a new array), whole or only ``box`` of it (e.g. the visible
        part of a big scan), for the whole-document comparison.

        Rebuilt from the history (current pixels with every applied photo patch's ``before``
        written back newest first, reading only patches that overlap ``box``) while no dropped
        edit touched the photo. Once one has, the file is reloaded from ``photo.path`` with
        ``restorer.core.image.load_photo`` on every call (cache it if you call often; ImageError
        if that fails; RestorerError if there is no file, or a save overwrote it).
        """
        full = BBox.full(self.mask.shape)
        box = full if box is None else BBox(*box).clip(self.mask.shape)
        if not self.history.has_dropped("photo"):
            return self.history.region_at(self.pixels, "photo", box, 0)
        path = self.photo.path
        if path is None or self._source_overwritten:
            why = "has no file" if path is None else f"file {path} was overwritten"
            raise RestorerError(f"the original photo is no longer available: older history steps "
                                f"were dropped and it {why}")
        from restorer.core.image import load_photo  # lazy: only needed once history overflowed

        original = load_photo(path).pixels
        if original.shape != self.pixels.shape or original.dtype != self.pixels.dtype:
            raise RestorerError(f"{path}: the file changed on disk since it was opened "
                                f"({original.dtype} {original.shape}, was {self.pixels.dtype} {self.pixels.shape})")
        return original if box == full else original[box.slices].copy()
