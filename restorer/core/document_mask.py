"""The whole-mask edits of a document: clear, invert, grow, shrink, a selection added or taken away,
a mask set from a file. Each is one undoable 'mask' edit; ``Document`` inherits them."""

from __future__ import annotations

import numpy as np

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.core.history import Edit, Patch
from restorer.errors import MaskError


class MaskEdits:
    """Mixed into ``Document``, which provides these attributes and the edit plumbing."""

    mask: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:  # pragma: no cover - Document's own property serves
        raise NotImplementedError

    def _finish_stroke(self) -> None:  # pragma: no cover - Document's own method serves
        raise NotImplementedError

    def _push(self, edit: Edit) -> Edit:  # pragma: no cover - Document's own method serves
        raise NotImplementedError

    def _changed(self, boxes: dict[str, BBox], history: bool) -> None:  # pragma: no cover - Document's own
        raise NotImplementedError

    def _replace_mask(self, new: np.ndarray, label: str, region: BBox | None = None) -> Edit | None:
        """Make ``new`` the mask as one 'mask' edit; ``region`` bounds where it can differ."""
        region = region or BBox.full(self.mask.shape)
        return self._replace_region(region, new[region.slices], label)

    def _replace_region(self, region: BBox, new: np.ndarray, label: str) -> Edit | None:
        """Make ``new`` (``region``'s size) the mask inside ``region``, as one 'mask' edit."""
        self._finish_stroke()
        old = self.mask[region.slices]
        rel = masks.diff_bbox(old, new)
        if rel is None:
            return None
        box = rel.offset(region.y0, region.x0)
        patch = Patch("mask", box, self.mask[box.slices].copy(), new[rel.slices].copy())
        self.mask[box.slices] = patch.after
        edit = self._push(Edit(label, "mask", (patch,)))
        self._changed({"mask": box}, history=True)
        return edit

    def clear_mask(self) -> Edit | None:
        box = masks.bbox(self.mask)
        if box is None:
            self._finish_stroke()
            return None
        return self._replace_mask(np.zeros_like(self.mask), "Clear mask", box)

    def invert_mask(self) -> Edit | None:
        return self._replace_mask(masks.invert(self.mask), "Invert mask")

    def grow_mask(self, px: int) -> Edit | None:
        box = masks.bbox(self.mask)
        region = None if box is None else box.pad(int(px), self.mask.shape)
        return self._replace_mask(masks.grow(self.mask, px), f"Grow mask {px} px", region)

    def shrink_mask(self, px: int) -> Edit | None:
        return self._replace_mask(masks.shrink(self.mask, px), f"Shrink mask {px} px", masks.bbox(self.mask))

    def select(self, selection: masks.Selection | None, label: str, subtract: bool = False) -> Edit | None:
        """Add a selection (``restorer.core.mask.rectangle``, ``polygon``, ``magic_wand``) to the
        mask, or take it away with ``subtract``: one undoable edit, like a stroke."""
        if selection is None:
            self._finish_stroke()
            return None
        box, region = selection
        box = BBox(*box)
        if region.shape != (box.height, box.width) or box.clip(self.mask.shape) != box:
            raise ValueError(f"selection {tuple(box)} does not fit the {self.shape[1]} x {self.shape[0]} mask")
        old = self.mask[box.slices]
        return self._replace_region(box, old & ~region if subtract else old | region, label)

    def set_mask(self, mask: np.ndarray, label: str = "Import mask") -> Edit | None:
        """Replace the mask (e.g. imported from a file); non-bool masks count nonzero as hole."""
        if mask.shape != self.mask.shape:
            raise MaskError(f"mask is {mask.shape[1] if mask.ndim > 1 else '?'} x {mask.shape[0]} "
                            f"pixels but the photo is {self.shape[1]} x {self.shape[0]}")
        return self._replace_mask(mask if mask.dtype == np.bool_ else mask != 0, label)
