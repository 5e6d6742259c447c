"""Difference maps: per-pixel change amplified, max-pooled to display size, heat-coloured (numpy/OpenCV, no Qt).

Public helpers::

    difference_levels(before, after, gain=DIFF_GAIN) -> uint8 H x W   # 0 exactly where equal
    difference_map(before, after, out_shape=None) -> uint8 H x W      # max-pooled, so no change is lost
    heat_colours(levels) -> uint8 H x W x 3               # 0 -> black, small -> dark red, big -> white
    resize_levels(levels, (h, w)) -> uint8 h x w          # max-pool down / nearest up
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

DIFF_GAIN = 8  # one 8-bit step of change shows as level 8 of 255


def _channel_max(diff: np.ndarray) -> np.ndarray:
    # Chained np.maximum is ~5x faster than ndarray.max(axis=2) over a 3-long last axis.
    if diff.ndim == 2:
        return diff
    out = diff[..., 0]
    for c in range(1, diff.shape[2]):
        out = np.maximum(out, diff[..., c])
    return out


def difference_levels(before: np.ndarray, after: np.ndarray, gain: int = DIFF_GAIN) -> np.ndarray:
    """uint8 H x W amplified change, the largest over channels; 0 exactly where the pixels are equal.

    Works in the arrays' own units, so a change of one 16-bit step is still level 1, not 0.
    """
    if before.shape != after.shape:
        raise ValueError(f"cannot compare arrays of shapes {before.shape} and {after.shape}")
    if before.dtype != after.dtype:
        raise ValueError(f"cannot compare {before.dtype} with {after.dtype}")
    if before.dtype in (np.uint8, np.uint16):
        # OpenCV's absdiff and saturating arithmetic: several times faster than numpy's int32 path.
        diff = _channel_max(cv2.absdiff(np.ascontiguousarray(before), np.ascontiguousarray(after)))
        if before.dtype == np.uint8:
            return cv2.multiply(np.ascontiguousarray(diff), gain)  # saturates at 255
        # 16-bit: scale to 8-bit units, rounding up so that any change is at least level 1.
        return (cv2.add(cv2.multiply(np.ascontiguousarray(diff), gain), 256) // 257).astype(np.uint8)
    if before.dtype == np.bool_:
        changed = np.not_equal(before, after).view(np.uint8)
        changed *= 255  # in place: True (1) becomes 255
        return _channel_max(changed)
    diff = _channel_max(np.abs(before.astype(np.float64) - after.astype(np.float64)))
    return np.clip(np.ceil(diff * 255.0 * gain), 0, 255).astype(np.uint8)


def _block_starts(n_in: int, n_out: int) -> np.ndarray:
    return (np.arange(n_out, dtype=np.int64) * n_in) // n_out


RowSource = np.ndarray | Callable[[int, int], np.ndarray]  # an array, or rows r0:r1 on demand


def _rows(src: RowSource, r0: int, r1: int) -> np.ndarray:
    return src(r0, r1) if callable(src) else src[r0:r1]


def difference_map(
    before: RowSource,
    after: RowSource,
    out_shape: tuple[int, int] | None = None,
    *,
    shape: tuple[int, int] | None = None,
    gain: int = DIFF_GAIN,
    band_rows: int = 256,
    may_differ: Callable[[int, int], bool] | None = None,
) -> np.ndarray:
    """difference_levels, max-pooled down to out_shape (h, w), in bands of rows to bound memory.

    before/after are arrays or callables ``rows(r0, r1)`` (then ``shape`` gives (H, W)), so a
    full-resolution comparison never holds more than a band of either image. Max pooling (not
    averaging) keeps a one-pixel change visible on a display-size map. ``may_differ(r0, r1)``
    False means rows r0:r1 are known to be equal, so they are not read at all.
    """
    if shape is None:
        shape = before.shape[:2] if not callable(before) else after.shape[:2]  # type: ignore[union-attr]
    h, w = shape
    if out_shape is None or tuple(out_shape) == (h, w):
        return difference_levels(_rows(before, 0, h), _rows(after, 0, h), gain)
    oh, ow = out_shape
    if oh > h or ow > w:
        raise ValueError(f"difference map {out_shape} is larger than the images {(h, w)}")
    rows = _block_starts(h, oh)
    cols = _block_starts(w, ow)
    out = np.empty((oh, ow), dtype=np.uint8)
    per_band = max(1, band_rows * oh // h)
    for i0 in range(0, oh, per_band):
        i1 = min(oh, i0 + per_band)
        r0 = int(rows[i0])
        r1 = int(rows[i1]) if i1 < oh else h
        if may_differ is not None and not may_differ(r0, r1):
            out[i0:i1] = 0
            continue
        levels = difference_levels(_rows(before, r0, r1), _rows(after, r0, r1), gain)
        pooled = np.maximum.reduceat(levels, rows[i0:i1] - r0, axis=0)
        out[i0:i1] = np.maximum.reduceat(pooled, cols, axis=1)
    return out


def resize_levels(levels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A difference map at another size: max-pooled when shrinking (no change disappears),
    nearest-neighbour when enlarging."""
    h, w = levels.shape[:2]
    oh, ow = size
    if (oh, ow) == (h, w):
        return levels
    if oh <= h and ow <= w:
        return difference_map(levels, np.zeros_like(levels), size, gain=1)
    return cv2.resize(levels, (ow, oh), interpolation=cv2.INTER_NEAREST)


def _heat_lut() -> np.ndarray:
    # Black for "unchanged", then dark red -> red -> yellow -> white; level 1 is already visible.
    lut = np.zeros((256, 3), dtype=np.uint8)
    t = np.linspace(0.0, 1.0, 255)
    r = np.clip(0.35 + t * 1.95, 0, 1)
    g = np.clip((t - 0.33) * 2.0, 0, 1)
    b = np.clip((t - 0.75) * 4.0, 0, 1)
    lut[1:] = np.rint(np.stack([r, g, b], axis=1) * 255).astype(np.uint8)
    return lut


HEAT_LUT = _heat_lut()


def heat_colours(levels: np.ndarray) -> np.ndarray:
    """uint8 H x W x 3 heat colours for a difference map; exactly black where the level is 0."""
    return HEAT_LUT[levels]
