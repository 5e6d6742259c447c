"""Display-size images for the history panel and the comparison view (numpy and OpenCV only, no Qt).

Everything here works on bounded copies: a 100-megapixel, 16-bit photo is cropped to the region
of interest and subsampled *before* it is converted to 8-bit RGB, so a thumbnail or a comparison
never converts the whole photo. Difference maps (levels, pooling, heat colours) are in
restorer.ui.difference_maps.

Public helpers::

    fit_size(height, width, max_side) -> (h, w)           # aspect kept, never enlarges
    display_copy(pixels, max_side) -> uint8 H x W x 3     # any photo array -> screen copy
    tint_mask(rgb8, mask, colour=MASK_TINT, alpha=MASK_ALPHA) -> uint8 H x W x 3
    region_at_state(doc, box, state, target="photo", stride=1) -> ndarray  # any history state
    document_pair(doc, max_side=2048) -> ComparisonPair   # original vs current, display size
    step_pair(doc, k, max_side=2048, context=0) -> ComparisonPair  # step k's box, before vs after
    step_thumbnail(doc, k, size=THUMB_SIZE) -> uint8 h x w x 3    # step k's region after it
    state_thumbnail(doc, state, size=THUMB_SIZE) -> uint8 h x w x 3  # whole photo at a state

``doc`` is a restorer.core.document.Document; history states and steps are numbered as in
restorer.core.history (state 0 = original, step k leads from state k-1 to state k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from restorer.core.box import BBox
from restorer.core.document import Document
from restorer.core.image import to_display_rgb8 as _to_display_rgb8
from restorer.ui.colour import display_transform
from restorer.ui.difference_maps import difference_levels, difference_map


def to_display_rgb8(pixels: np.ndarray, icc: bytes | None = None) -> np.ndarray:
    """core.image.to_display_rgb8 on a (possibly strided) view; the copy is small by then. ``icc``:
    the photo's profile, converted to the screen's colours as the canvas shows it (restorer.ui.colour)."""
    rgb = _to_display_rgb8(np.ascontiguousarray(pixels))
    transform = display_transform(icc, pixels.shape[2] if pixels.ndim == 3 else 1)
    return rgb if transform is None else transform(rgb)

THUMB_SIZE = 64
DISPLAY_MAX_SIDE = 2048
MASK_TINT = (255, 40, 40)  # the hole colour used in thumbnails and step comparisons
GUIDE_TINT = (40, 220, 255)  # guide lines in thumbnails: the Edges mode overlay's cyan
MASK_ALPHA = 0.55

Box = tuple[int, int, int, int]  # y0, x0, y1, x1 (exclusive ends), the layout of core.box.BBox


@dataclass(frozen=True)
class ComparisonPair:
    """What the comparison view shows: two same-size images and, optionally, a difference map.

    ``before``/``after`` are photo arrays (H x W x C, uint8 or uint16) or display RGB8 arrays;
    ``difference`` (uint8 H' x W', 0 = unchanged) is given when it was computed at a higher
    resolution than the images, so that changes smaller than a display pixel still show.
    """

    before: np.ndarray
    after: np.ndarray
    difference: np.ndarray | None = None
    title: str = ""
    box: Box | None = None
    note: str = ""
    icc: bytes | None = None  # before/after are photo arrays in this profile: the view converts them


# --- sizes and display copies --------------------------------------------------------------------


def fit_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """The (h, w) that fits in max_side x max_side with the aspect kept; never larger than given."""
    longest = max(height, width)
    if longest <= max_side:
        return height, width
    scale = max_side / longest
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_rgb8(rgb8: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an 8-bit image to (h, w): area averaging when shrinking, nearest when enlarging."""
    h, w = size
    if rgb8.shape[:2] == (h, w):
        return np.ascontiguousarray(rgb8)
    shrinking = h <= rgb8.shape[0] and w <= rgb8.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_NEAREST
    out = cv2.resize(np.ascontiguousarray(rgb8), (w, h), interpolation=interpolation)
    return out.reshape(h, w, *rgb8.shape[2:])


def _stride_for(height: int, width: int, size: tuple[int, int], oversample: int = 2) -> int:
    """The subsampling step that leaves at least ``oversample`` x the target size: cheap to
    convert, and INTER_AREA does the rest (thumbnails oversample more than screen copies)."""
    return max(1, min(height // max(size[0], 1), width // max(size[1], 1)) // oversample)


def display_copy(pixels: np.ndarray, max_side: int = DISPLAY_MAX_SIDE, icc: bytes | None = None) -> np.ndarray:
    """An 8-bit RGB copy of a photo array, no side longer than max_side (``icc``: see to_display_rgb8)."""
    h, w = pixels.shape[:2]
    size = fit_size(h, w, max_side)
    s = _stride_for(h, w, size, oversample=1)
    rgb = to_display_rgb8(pixels[::s, ::s] if s > 1 else pixels, icc)
    return resize_rgb8(rgb, size)


def tint_mask(
    rgb8: np.ndarray,
    mask: np.ndarray,
    colour: Sequence[int] = MASK_TINT,
    alpha: float = MASK_ALPHA,
) -> np.ndarray:
    """A copy of rgb8 with the True pixels of mask blended towards colour."""
    out = np.array(rgb8, dtype=np.uint8, copy=True)
    if mask.any():
        tint = np.asarray(colour, dtype=np.float32)
        blended = out[mask].astype(np.float32) * (1.0 - alpha) + tint * alpha
        out[mask] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out


# --- regions of the document at any history state ------------------------------------------------


def region_at_state(doc: Document, box: Box, state: int, target: str = "photo", stride: int = 1) -> np.ndarray:
    """A copy of box of the photo (or mask) as it is at history state ``state``, every stride-th
    row and column (stride 1 equals ``Document.region_at``). Reads only the patches over box,
    so a thumbnail of a 100-megapixel photo at any state costs about as much as its pixels.
    """
    current = {"photo": doc.photo.pixels, "mask": doc.mask, "guides": doc.guides, "unguides": doc.unguides}[target]
    return doc.history.region_at(current, target, BBox(*box), state, stride)


def _full_box(doc: Document) -> Box:
    h, w = doc.photo.pixels.shape[:2]
    return 0, 0, h, w


def _context_box(box: Box, shape: tuple[int, int]) -> Box:
    """A square-ish box around box with some context, clipped to shape."""
    y0, x0, y1, x1 = box
    side = max(y1 - y0, x1 - x0)
    side += 2 * max(8, side // 4)
    h, w = shape
    side_y, side_x = min(side, h), min(side, w)
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    ny0 = min(max(0, cy - side_y // 2), h - side_y)
    nx0 = min(max(0, cx - side_x // 2), w - side_x)
    return ny0, nx0, ny0 + side_y, nx0 + side_x


# --- thumbnails ----------------------------------------------------------------------------------


def _fit_exact(height: int, width: int, size: int) -> tuple[int, int]:
    # Thumbnails always have their longest side == size, enlarging tiny regions if needed.
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _box_thumbnail(doc: Document, box: Box, state: int, size: int, tinted: bool, guides: bool = False) -> np.ndarray:
    """box of the photo at history state ``state``, longest side = size; ``tinted``: mask shown over it;
    ``guides``: the guide lines drawn (Edges mode) too."""
    h, w = box[2] - box[0], box[3] - box[1]
    target = _fit_exact(h, w, size)
    s = _stride_for(h, w, target)
    rgb = to_display_rgb8(region_at_state(doc, box, state, "photo", s), doc.photo.meta.icc_profile)
    if tinted:
        rgb = tint_mask(rgb, region_at_state(doc, box, state, "mask", s))
    if guides:
        lines = region_at_state(doc, box, state, "guides", s) & ~region_at_state(doc, box, state, "unguides", s)
        rgb = tint_mask(rgb, lines, GUIDE_TINT, 0.9)
    return resize_rgb8(rgb, target)


def state_thumbnail(doc: Document, state: int, size: int = THUMB_SIZE) -> np.ndarray:
    """The whole photo as it is at history state ``state`` (0 = original), longest side = size."""
    return _box_thumbnail(doc, _full_box(doc), state, size, tinted=False)


def step_thumbnail(doc: Document, k: int, size: int = THUMB_SIZE) -> np.ndarray:
    """Step k's region (with some context) as it is after the step, longest side = size.

    Mask steps (stroke, erase, mask) show the mask at that state tinted, guide steps the guide lines
    over it too; fills show the photo.
    Correct for undone steps too: the region is rebuilt from the history's patches.
    """
    edit = doc.history.steps[k - 1]
    changed = edit.box()
    if changed is None:
        return state_thumbnail(doc, k, size)
    box = _context_box((changed.y0, changed.x0, changed.y1, changed.x1), doc.photo.pixels.shape[:2])
    return _box_thumbnail(doc, box, k, size, tinted=edit.kind != "fill", guides=edit.kind.startswith("guide"))


# --- comparison pairs ----------------------------------------------------------------------------


def document_pair(doc: Document, max_side: int = DISPLAY_MAX_SIDE, title: str = "Original / current") -> ComparisonPair:
    """The whole document: the photo as loaded against the current photo, at display size.

    The difference map is computed band by band at full resolution and max-pooled, so a
    one-pixel fill on a 100-megapixel scan still shows, without copying the whole photo.
    """
    current = doc.photo.pixels
    h, w = current.shape[:2]
    may_differ: Callable[[int, int], bool] | None = None
    if doc.history.has_dropped("photo"):
        original = doc.original_pixels()  # older steps are gone: reloaded from the file

        def before_rows(r0: int, r1: int, s: int = 1) -> np.ndarray:
            return original[r0:r1:s, ::s]
    else:

        def before_rows(r0: int, r1: int, s: int = 1) -> np.ndarray:
            return region_at_state(doc, (r0, 0, r1, w), 0, "photo", s)

        # Only rows under an applied photo patch can differ from the original.
        spans = [(b.y0, b.y1) for b in doc.history.applied_boxes("photo")]

        def may_differ(r0: int, r1: int) -> bool:
            return any(a < r1 and r0 < b for a, b in spans)

    size = fit_size(h, w, max_side)
    s = _stride_for(h, w, size, oversample=1)
    return ComparisonPair(
        before=resize_rgb8(to_display_rgb8(before_rows(0, h, s), doc.photo.meta.icc_profile), size),
        after=display_copy(current, max_side, doc.photo.meta.icc_profile),
        difference=difference_map(before_rows, current, size, shape=(h, w), may_differ=may_differ),
        title=title,
    )


def step_pair(doc: Document, k: int, max_side: int = DISPLAY_MAX_SIDE, context: int = 0) -> ComparisonPair:
    """History step k (1-based, as in the panel) alone: the region it changed, before and after.

    - a step with one photo patch: exactly that patch's ``before`` and ``after`` arrays;
    - several photo patches: their union box at states k-1 and k (subsampled when larger than
      max_side, with the difference map still taken at full resolution);
    - mask-only steps (stroke, erase, mask): the photo region with the mask before and after
      tinted, and a difference map of the mask change itself.

    ``context`` > 0 widens the region by that many pixels on each side (clipped to the photo),
    read from the same patches: a thin scratch then shows with its surroundings.
    """
    edit = doc.history.steps[k - 1]
    title = f"Step {k}: {edit.label}"
    photo = [p for p in edit.patches if p.target == "photo"]
    if len(photo) == 1 and context <= 0:
        p = photo[0]
        return ComparisonPair(p.before, p.after, title=title, box=(p.box.y0, p.box.x0, p.box.y1, p.box.x1), icc=doc.photo.meta.icc_profile)
    target = "photo" if photo else "mask"
    changed = edit.box(target)
    if changed is None:
        raise ValueError(f"history step {k} ({edit.label}) changed nothing to compare")
    height, width = doc.photo.pixels.shape[:2]
    c = max(0, int(context))
    box = (max(0, changed[0] - c), max(0, changed[1] - c), min(height, changed[2] + c), min(width, changed[3] + c))
    h, w = box[2] - box[0], box[3] - box[1]
    # Subsampled (at least display size) when the region is bigger than the screen; the
    # difference map is then max-pooled from full resolution so thin changes still show.
    s = _stride_for(h, w, fit_size(h, w, max_side), oversample=1)

    def rows(state: int) -> Callable[[int, int], np.ndarray]:
        return lambda r0, r1: region_at_state(doc, (box[0] + r0, box[1], box[0] + r1, box[3]), state, target)

    before = region_at_state(doc, box, k - 1, target, s)
    after = region_at_state(doc, box, k, target, s)
    difference = difference_map(rows(k - 1), rows(k), before.shape[:2], shape=(h, w)) if s > 1 else None
    if photo:
        return ComparisonPair(before, after, difference, title=title, box=box, icc=doc.photo.meta.icc_profile)
    rgb = to_display_rgb8(region_at_state(doc, box, k, "photo", s), doc.photo.meta.icc_profile)
    if difference is None:
        difference = difference_levels(before, after)
    return ComparisonPair(tint_mask(rgb, before), tint_mask(rgb, after), difference, title=title, box=box)
