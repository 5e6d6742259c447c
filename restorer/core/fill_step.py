"""A fill's history step, made away from the document (in the worker that ran the fill), applied in one swap.

``Document.apply_fill`` diffs the new pixels against the live photo, copies the changed blocks'
before and after patches and clears the mask: on a 24-megapixel photo with a long scratch that is
about 40 ms of work. ``prepare_fill`` does the same work from the pixels as they were at the job's
revision (the crops the job copied, and its copy of the mask), so it can run in a worker thread;
``Document.apply_prepared`` then only writes the prepared ``after`` arrays and pushes the step, and
refuses a step prepared at another revision (the document changed meanwhile: the fill is stale).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.core.history import LAYER_TARGETS, Patch, changed_patches

FillPatches = Sequence[tuple[BBox | tuple[int, int, int, int], np.ndarray]]


def check_fill_patches(patches: FillPatches, shape: tuple[int, ...], dtype: np.dtype) -> list[tuple[BBox, np.ndarray]]:
    """The patches as (BBox, array), each inside the photo and of its dtype and channels (ValueError otherwise)."""
    h, w, c = shape
    out = []
    for box, arr in patches:
        box = BBox(*box)
        if box.empty or box.clip(shape) != box:
            raise ValueError(f"fill box {tuple(box)} is empty or outside the {w} x {h} photo")
        if arr.dtype != dtype or arr.shape != (box.height, box.width, c):
            raise ValueError(f"fill patch for {tuple(box)} is {arr.dtype} {arr.shape}, expected "
                             f"{dtype} {(box.height, box.width, c)}")
        out.append((box, arr))
    return out


def cleared_layer_patches(layers: Mapping[str, np.ndarray]) -> tuple[list[Patch], dict[str, BBox]]:
    """The patches that clear each bool layer (target -> H x W array, as it is before the fill), and the
    box each one clears (the bounding box of its set pixels; layers with none are left out)."""
    out: list[Patch] = []
    boxes: dict[str, BBox] = {}
    for target in LAYER_TARGETS:
        layer = layers.get(target)
        hole = None if layer is None else masks.bbox(layer)
        if layer is None or hole is None:
            continue
        out += changed_patches(target, hole, layer[hole.slices], np.zeros((hole.height, hole.width), dtype=np.bool_))
        boxes[target] = hole
    return out, boxes


@dataclass(frozen=True, eq=False)
class PreparedFill:
    """A fill step ready to apply to a document at ``revision``: its patches (photo blocks that changed,
    then the cleared layers) and the box changed per target."""

    revision: int
    shape: tuple[int, ...]
    dtype: np.dtype
    patches: tuple[Patch, ...]
    boxes: dict[str, BBox]

    @property
    def photo_patches(self) -> tuple[Patch, ...]:
        return tuple(p for p in self.patches if p.target == "photo")


def prepare_fill(patches: FillPatches, before: Callable[[BBox], np.ndarray], *, shape: tuple[int, ...],
                 dtype: np.dtype, revision: int, layers: Mapping[str, np.ndarray] | None = None) -> PreparedFill:
    """The step ``apply_fill(patches)`` would make on a document at ``revision``, made without it.

    ``before(box)`` gives the photo's pixels of a patch's box at that revision; ``layers`` (target ->
    bool H x W at that revision) are cleared as ``apply_fill``'s ``clear_mask`` does (None: kept).
    Patch boxes must not overlap (the engine's never do), since each is diffed against ``before``.
    """
    checked = check_fill_patches(patches, shape, dtype)
    for i, (a, _) in enumerate(checked):
        if any(a.intersect(b) is not None for b, _ in checked[i + 1:]):
            raise ValueError(f"prepared fill boxes overlap at {tuple(a)}")
    out: list[Patch] = []
    boxes: dict[str, BBox] = {}
    for box, arr in checked:
        old = before(box)
        if old.shape != arr.shape or old.dtype != arr.dtype:
            raise ValueError(f"the pixels before {tuple(box)} are {old.dtype} {old.shape}, not {arr.dtype} {arr.shape}")
        for patch in changed_patches("photo", box, old, arr):
            out.append(patch)
            boxes["photo"] = boxes["photo"].union(patch.box) if "photo" in boxes else patch.box
    cleared, layer_boxes = cleared_layer_patches(layers or {})
    return PreparedFill(int(revision), tuple(shape), np.dtype(dtype), tuple(out + cleared), {**boxes, **layer_boxes})
