"""Bilinear upscaling of part of an image, computed for that part only and in bands of rows: a
learned model's work-resolution fill brought to a crop's size as a guide, a coarse pyramid level's
fill brought to the next level over the hole's box."""

from __future__ import annotations

import numpy as np

from restorer.core.box import BBox


def upscaled(work: np.ndarray, shape: tuple[int, int], box: BBox, band: int = 256) -> np.ndarray:
    """``box`` of ``work`` (h x w x C) resized to ``shape``, computed for that box only: box.height x
    box.width x C float32, bilinear with cv2.resize's pixel-centre mapping (equal to a slice of it to 1e-6)."""
    def axis(lo: int, hi: int, n: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = ((np.arange(lo, hi) + 0.5) * (n / size) - 0.5).clip(0, n - 1)
        i0 = np.minimum(pos.astype(np.int64), n - 1)
        return i0, np.minimum(i0 + 1, n - 1), (pos - i0).astype(np.float32)

    work = np.asarray(work, np.float32)
    if work.shape[:2] == shape:
        return np.ascontiguousarray(work[box.slices])
    y0, y1, fy = axis(box.y0, box.y1, work.shape[0], shape[0])
    x0, x1, fx = axis(box.x0, box.x1, work.shape[1], shape[1])
    out = np.empty((box.height, box.width, work.shape[2]), np.float32)
    wx0, wx1 = (1 - fx)[:, None], fx[:, None]
    for a in range(0, box.height, band):  # each row on its own: bands keep the temporaries band-sized
        b = min(box.height, a + band)
        rows = work[y0[a:b]] * (1 - fy[a:b])[:, None, None] + work[y1[a:b]] * fy[a:b, None, None]
        out[a:b] = rows[:, x0] * wx0 + rows[:, x1] * wx1
    return out
