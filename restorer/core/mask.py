"""Mask operations: bounding boxes, the brush raster (dab/segment), grow/shrink/invert, components,
selections (rectangle, lasso polygon, magic wand).

A mask is a ``bool`` array ``H x W``; True = hole (fill this).

Coordinates: brush points are ``(x, y)`` in pixel units where pixel ``mask[r, c]`` has its centre
at ``(x=c, y=r)`` (numpy/OpenCV convention). A pixel is painted when its centre lies within
``radius`` of the brush segment. Qt scene coordinates, where pixel ``c`` spans ``[c, c + 1)``,
map to these by subtracting 0.5.

The brush, grow/shrink and components work only inside the box of what they can change, so they
stay fast on 100-megapixel masks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
import cv2
import numpy as np

from restorer.core.box import BBox

# Long segments are rastered in pieces so the scanned box stays near the capsule's own area
# (a diagonal 10 000 px drag would otherwise scan a 10 000 x 10 000 box).
_MAX_PIECE = 64.0


def _check_mask(mask: np.ndarray) -> None:
    if mask.ndim != 2 or mask.dtype != np.bool_:
        raise TypeError(f"a mask must be a 2-D bool array, got {mask.dtype} {mask.shape}")


def capsule_bounds(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float],
                   radius: float) -> BBox | None:
    """The box that ``segment(mask, p0, p1, radius)`` may touch in a mask of ``shape``.

    Callers that must save pixels before painting (the document's stroke snapshot) use it.
    """
    (ax, ay), (bx, by) = p0, p1
    if not all(math.isfinite(v) for v in (ax, ay, bx, by, radius)):
        raise ValueError(f"brush position or radius is not finite: {p0}, {p1}, {radius}")
    r = max(float(radius), 0.5)
    box = BBox(math.floor(min(ay, by) - r), math.floor(min(ax, bx) - r),
               math.floor(max(ay, by) + r) + 1, math.floor(max(ax, bx) + r) + 1).clip(shape)
    return None if box.empty else box


def _raster_piece(mask: np.ndarray, a: tuple[float, float], b: tuple[float, float], r: float,
                  value: bool) -> BBox | None:
    box = capsule_bounds(mask.shape, a, b, r)
    if box is None:
        return None
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    ys = np.arange(box.y0, box.y1, dtype=np.float64)[:, None] - ay
    xs = np.arange(box.x0, box.x1, dtype=np.float64)[None, :] - ax
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        d2 = xs * xs + ys * ys
    else:
        # distance from each pixel centre to the nearest point of the segment
        t = np.clip((xs * dx + ys * dy) / length2, 0.0, 1.0)
        ex, ey = xs - t * dx, ys - t * dy
        d2 = ex * ex + ey * ey
    hit = d2 <= r * r
    rows, cols = np.flatnonzero(hit.any(axis=1)), np.flatnonzero(hit.any(axis=0))
    if rows.size == 0:
        return None
    mask[box.slices][hit] = value
    return BBox(box.y0 + int(rows[0]), box.x0 + int(cols[0]),
                box.y0 + int(rows[-1]) + 1, box.x0 + int(cols[-1]) + 1)


def segment(mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], radius: float,
            value: bool = True) -> BBox | None:
    """Paint the capsule from ``p0=(x, y)`` to ``p1`` with ``radius`` into ``mask`` in place.

    Radii under 0.5 paint as 0.5, so the thinnest brush still marks the pixel under it.
    Returns the tight box of the pixels written (whether or not they changed), None if the
    capsule lies outside the mask.
    """
    _check_mask(mask)
    if capsule_bounds(mask.shape, p0, p1, radius) is None:
        return None
    r = max(float(radius), 0.5)
    (ax, ay), (bx, by) = (float(p0[0]), float(p0[1])), (float(p1[0]), float(p1[1]))
    pieces = max(1, math.ceil(math.hypot(bx - ax, by - ay) / max(_MAX_PIECE, 4.0 * r)))
    written: BBox | None = None
    for i in range(pieces):
        # a capsule is exactly the union of the capsules of its sub-segments
        a = (ax + (bx - ax) * i / pieces, ay + (by - ay) * i / pieces)
        b = (ax + (bx - ax) * (i + 1) / pieces, ay + (by - ay) * (i + 1) / pieces)
        box = _raster_piece(mask, a, b, r, value)
        if box is not None:
            written = box if written is None else written.union(box)
    return written


def dab(mask: np.ndarray, cx: float, cy: float, radius: float, value: bool = True) -> BBox | None:
    """Paint a disc centred on ``(cx, cy)`` into ``mask`` in place (see ``segment``)."""
    return segment(mask, (cx, cy), (cx, cy), radius, value)


def bbox(mask: np.ndarray) -> BBox | None:
    """The tight box around the True pixels, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].any(axis=0))
    return BBox(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


def diff_bbox(a: np.ndarray, b: np.ndarray) -> BBox | None:
    """The tight box of pixels where two same-shaped arrays differ (in any channel), or None."""
    diff = a != b
    if diff.ndim == 3:
        # Reduce over contiguous rows, never along the strided channel axis: any(axis=2) on a
        # large fill patch takes ~200 ms on the GUI thread, this takes ~10 ms.
        h, w, c = diff.shape
        rows = np.flatnonzero(diff.reshape(h, w * c).any(axis=1))
        if rows.size == 0:
            return None
        band = diff[rows[0]:rows[-1] + 1].reshape(-1, w * c).any(axis=0)
        cols = np.flatnonzero(band.reshape(w, c).any(axis=1))
        return BBox(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return bbox(diff)


def _disc(px: int) -> np.ndarray:
    # the same disc the brush paints, so growing one pixel by px equals a dab of radius px
    yy, xx = np.mgrid[-px:px + 1, -px:px + 1]
    return (xx * xx + yy * yy <= px * px).astype(np.uint8)


def _morph(mask: np.ndarray, px: int, op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    _check_mask(mask)
    if px < 0:
        raise ValueError(f"grow/shrink distance must be >= 0, got {px}")
    out = mask.copy()
    box = bbox(mask)
    if px == 0 or box is None:
        return out
    # Outside the mask's box (padded by px) nothing can change; at the image edge OpenCV's
    # default border neither grows nor erodes, matching an operation on the whole mask.
    region = box.pad(px, mask.shape)
    src = np.ascontiguousarray(mask[region.slices]).view(np.uint8)
    out[region.slices] = op(src, _disc(px)).view(np.bool_)
    return out


def grow(mask: np.ndarray, px: int) -> np.ndarray:
    """A new mask with every hole grown by ``px`` pixels (disc-shaped dilation)."""
    return _morph(mask, int(px), cv2.dilate)


def shrink(mask: np.ndarray, px: int) -> np.ndarray:
    """A new mask with every hole shrunk by ``px`` pixels (disc-shaped erosion)."""
    return _morph(mask, int(px), cv2.erode)


def invert(mask: np.ndarray) -> np.ndarray:
    """A new mask with holes and kept pixels swapped."""
    _check_mask(mask)
    return ~mask


def components(mask: np.ndarray) -> list[BBox]:
    """The box of each 8-connected hole, sorted top to bottom, then left to right."""
    _check_mask(mask)
    box = bbox(mask)
    if box is None:
        return []
    src = np.ascontiguousarray(mask[box.slices]).view(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(src, connectivity=8)
    out = []
    for x, y, w, h, _area in stats[1:count]:
        out.append(BBox(box.y0 + int(y), box.x0 + int(x), box.y0 + int(y + h), box.x0 + int(x + w)))
    return sorted(out)


# --- selections: what the rectangle, lasso and magic wand add to (or take from) the mask -------------
# Each returns ``(box, region)``: the tight box of the selected pixels and a bool array of its size,
# or None when nothing is selected; the document applies it as one edit (Document.select).

Selection = tuple[BBox, np.ndarray]


def _crop_selection(box: BBox, region: np.ndarray) -> Selection | None:
    tight = bbox(region)
    if tight is None:
        return None
    return tight.offset(box.y0, box.x0), region[tight.slices].copy()


def rectangle(shape: tuple[int, ...], p0: tuple[float, float], p1: tuple[float, float]) -> Selection | None:
    """Every pixel from the one under corner ``p0`` to the one under ``p1`` (``(x, y)``), both included:
    a drag from pixel to pixel takes both, whatever the zoom."""
    (ax, ay), (bx, by) = p0, p1
    if not all(math.isfinite(v) for v in (ax, ay, bx, by)):
        raise ValueError(f"rectangle corners are not finite: {p0}, {p1}")

    def under(v: float) -> int:  # the pixel whose centre is nearest: pixel c spans [c - 0.5, c + 0.5)
        return math.floor(v + 0.5)

    box = BBox(under(min(ay, by)), under(min(ax, bx)), under(max(ay, by)) + 1, under(max(ax, bx)) + 1).clip(shape)
    if box.empty:
        return None
    return box, np.ones((box.height, box.width), dtype=np.bool_)


def polygon(shape: tuple[int, ...], points: list[tuple[float, float]]) -> Selection | None:
    """The pixels inside the closed polygon through ``points`` (a lasso, freehand or point by point).

    OpenCV rasters it at 1/16 px, pixel centres at integers as for the brush; edge pixels count.
    """
    if len(points) < 3:
        return None
    pts = np.asarray(points, dtype=np.float64)
    if not np.isfinite(pts).all():
        raise ValueError("lasso points are not finite")
    box = BBox(math.floor(pts[:, 1].min()), math.floor(pts[:, 0].min()),
               math.ceil(pts[:, 1].max()) + 1, math.ceil(pts[:, 0].max()) + 1).clip(shape)
    if box.empty:
        return None
    local = np.rint((pts - (box.x0, box.y0)) * 16).astype(np.int32)
    canvas = np.zeros((box.height, box.width), dtype=np.uint8)
    cv2.fillPoly(canvas, [local], 1, lineType=cv2.LINE_8, shift=4)
    return _crop_selection(box, canvas.view(np.bool_))


def magic_wand(pixels: np.ndarray, seed: tuple[float, float], tolerance: float) -> Selection | None:
    """The 8-connected pixels around ``seed`` (``(x, y)``) whose every channel is within ``tolerance``
    of the seed pixel's (in 8-bit steps: a 16-bit photo's tolerance is scaled by 257)."""
    if pixels.ndim != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"photo pixels must be H x W x C uint8|uint16, got {pixels.dtype} {pixels.shape}")
    h, w = pixels.shape[:2]
    x, y = round(seed[0]), round(seed[1])
    if not (0 <= x < w and 0 <= y < h):
        return None
    top = np.iinfo(pixels.dtype).max
    tol = max(0.0, float(tolerance)) * (257 if pixels.dtype == np.uint16 else 1)
    ref = pixels[y, x].astype(np.float64)
    lo, hi = np.clip(ref - tol, 0, top), np.clip(ref + tol, 0, top)
    image = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    near = cv2.inRange(image, tuple(lo.tolist()), tuple(hi.tolist()))  # tuples: OpenCV scalars
    # Flood the in-tolerance pixels from the seed (value 2), so only the connected part is taken.
    cv2.floodFill(near, None, (x, y), 2, flags=8)
    return _crop_selection(BBox.full(pixels.shape), near == 2)
