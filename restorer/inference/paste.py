"""Paste-back: photo pixels to and from the models' floats, seam feathering, and each region's patch."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.core.box import BBox
from restorer.inference.regions import Region


def _peak(dtype: np.dtype) -> float:
    """The photo value that maps to 1.0 (the one place the uint8/uint16 scale is decided)."""
    return 65535.0 if dtype == np.uint16 else 255.0


def to_float3(pixels: np.ndarray) -> np.ndarray:
    """Photo pixels (uint8/uint16, gray or RGB) as float32 H x W x 3 in [0, 1], built in one allocation;
    gray is replicated (synthesis' and feathering's layout)."""
    h, w = pixels.shape[:2]
    chans = pixels.reshape(h, w, -1)
    out = np.empty((h, w, 3), np.float32)
    out[...] = chans[..., :3] if chans.shape[2] >= 3 else chans[..., :1]
    out /= np.float32(_peak(pixels.dtype))
    return out


def from_float3(arr: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Back to the photo's dtype and channel count (gray = mean of the three channels), rounded and clipped."""
    if like.ndim == 2 or like.shape[2] == 1:
        arr = arr.mean(axis=2, keepdims=like.ndim == 3)
    top = _peak(like.dtype)
    return np.clip(np.rint(arr * top), 0, top).astype(like.dtype)


def feather(original: np.ndarray, filled: np.ndarray, hole: np.ndarray, radius: int) -> np.ndarray:
    """Hide the seam: shift the fill's rim toward its known neighbours, fading out ``radius`` px into the hole.

    The local mean of the known pixels just outside the hole is compared with the local mean of
    the fill just inside it (normalised Gaussians over bands ``radius`` wide); the difference is
    added to the fill on a linear ramp from the rim inward. A colour or brightness step at the edge
    (an upscaled low-resolution fill, a model slightly off in tone) vanishes; texture is kept, pixels
    outside the hole are never touched and damaged pixels never show through.
    """
    if radius <= 0 or hole.all() or not hole.any():
        return filled
    hole8 = hole.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    outside = ((cv2.dilate(hole8, kernel) > 0) & ~hole).astype(np.float32)
    dist = cv2.distanceTransform(hole8, cv2.DIST_L2, 3)  # 1 on the rim, growing inward
    inside = (hole & (dist <= radius)).astype(np.float32)
    sigma = max(1.0, radius / 2.0)

    def local_mean(values: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        den = cv2.GaussianBlur(band, (0, 0), sigma)
        num = cv2.GaussianBlur(values * band[..., None], (0, 0), sigma)
        return num / np.maximum(den, 1e-6)[..., None], den

    known_mean, known_den = local_mean(original, outside)
    fill_mean, fill_den = local_mean(filled, inside)
    weight = np.clip(1.0 - (dist - 1.0) / radius, 0.0, 1.0) * hole
    weight[(known_den < 1e-3) | (fill_den < 1e-3)] = 0.0
    return filled + (known_mean - fill_mean) * weight[..., None]


def to_float_chw(pixels: np.ndarray) -> np.ndarray:
    """Photo pixels as float32 3 x H x W in [0, 1] (the models' layout), built in one allocation."""
    h, w = pixels.shape[:2]
    chans = pixels.reshape(h, w, -1)
    out = np.empty((3, h, w), np.float32)
    for c in range(3):
        out[c] = chans[..., min(c, chans.shape[2] - 1)]
    out /= np.float32(_peak(pixels.dtype))
    return out


# make_patch works in blocks of this side, so feathering a 10-megapixel hole never holds more than
# a few blocks' worth of float arrays.
_BLOCK = 512


def make_patch(region: Region, filled: np.ndarray, radius: int) -> np.ndarray:
    """The region's patch box in the photo's dtype: its own hole pixels from ``filled``, the rest untouched.

    ``filled`` is float32 3 x crop.height x crop.width, or the crop in the photo's dtype and layout
    (a fill made block by block). Blocks of the patch are converted one at a time; a block is
    feathered only when it holds part of the hole's rim.
    """
    pixels = filled.dtype == region.pixels.dtype
    crop, box = region.crop, region.patch
    patch = region.pixels[box.relative_to(crop)].copy()
    pad = 3 * radius + 2
    for y in range(box.y0, box.y1, _BLOCK):
        for x in range(box.x0, box.x1, _BLOCK):
            core = BBox(y, x, min(y + _BLOCK, box.y1), min(x + _BLOCK, box.x1))
            own = region.own[core.relative_to(box)]
            if not own.any():
                continue
            near = BBox(max(core.y0 - pad, crop.y0), max(core.x0 - pad, crop.x0),
                        min(core.y1 + pad, crop.y1), min(core.x1 + pad, crop.x1))
            hole = region.mask[near.relative_to(crop)]
            feathered = radius > 0 and not hole.all()
            if pixels and not feathered:
                new = filled[core.relative_to(crop)]
            else:
                values = to_float3(filled[near.relative_to(crop)]) if pixels else \
                    filled[(slice(None), *near.relative_to(crop))].transpose(1, 2, 0)
                if feathered:
                    values = feather(to_float3(region.pixels[near.relative_to(crop)]), values, hole, radius)
                new = from_float3(values[core.relative_to(near)], region.pixels)
            block = patch[core.relative_to(box)]
            block[own] = new[own]
    return patch
