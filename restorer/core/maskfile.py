"""Mask files: reading a mask image for a photo as bool H x W, and writing one as an 8-bit PNG."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from restorer.core import codecs
from restorer.core.atomic import atomic_write
from restorer.core.image import DEFAULT_MAX_PIXELS, describe_error, load_photo, to_8bit
from restorer.errors import ImageError, MaskError


def load_mask(
    path: str | os.PathLike[str], shape: tuple[int, ...], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Read a mask image for a photo of ``shape`` (H, W[, C]) as bool H x W, True = hole.

    Any readable image works. If it has alpha and its colour is one flat value (a brush layer
    exported on transparency), the hole is ``alpha > 0``; otherwise the hole is where its gray
    rendering (Rec. 601 luma, 16-bit scaled to 8) is above 127, i.e. white = hole.
    """
    path = Path(path)
    mask = load_photo(path, max_pixels=max_pixels)
    height, width = int(shape[0]), int(shape[1])
    if (mask.height, mask.width) != (height, width):
        raise MaskError(
            f"{path}: mask is {mask.width} x {mask.height} pixels but the photo is {width} x {height}"
        )
    px = mask.pixels
    if mask.alpha is not None and bool((px == px[0, 0]).all()):
        return mask.alpha > 0
    gray = px[:, :, 0] if px.shape[2] == 1 else cv2.cvtColor(px, cv2.COLOR_RGB2GRAY)
    return to_8bit(gray) > 127


def save_mask(mask: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write a bool H x W mask as an 8-bit gray PNG, 255 = hole, atomically."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ImageError(f"{path}: masks are saved as PNG; use a .png file name")
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask is H x W, got shape {mask.shape}")
    pixels = np.where(mask, np.uint8(255), np.uint8(0))[:, :, None]
    encode = codecs.Encode(pixels, None, None, None, None, {}, "", 100)
    atomic_write(path, lambda tmp: codecs.write_png(tmp, encode), describe=describe_error)
