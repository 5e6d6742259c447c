"""What can be read of a truncated JPEG (an incomplete download or copy), as GIMP offers: marked as partly read.

``load_photo`` refuses such a file; ``load_partial`` decodes what is there, the decoder filling
the rest with mid-gray, and records that in the photo's notes and ``meta.extra["truncated"]``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
from PIL import ImageFile

from restorer.core import codecs
from restorer.core.image import DEFAULT_MAX_PIXELS, Photo, load_photo

# Pillow's switch is one module-wide flag: one partial load at a time sets and restores it.
_LENIENT = threading.Lock()


def can_read_partly(path: str | os.PathLike[str], message: str) -> bool:
    """Whether a load that failed with ``message`` is a truncated JPEG that ``load_partial`` can open."""
    if "truncated" not in message.lower():
        return False
    try:
        with open(path, "rb") as f:
            return codecs.sniff(f.read(16)) == "JPEG"
    except OSError:
        return False


def unread_rows(pixels: np.ndarray) -> int:
    """How many rows at the bottom hold only the decoder's gray fill (the part the file did not have)."""
    gray = (np.iinfo(pixels.dtype).max + 1) // 2
    flat = (pixels == gray).reshape(pixels.shape[0], -1).all(axis=1)
    filled = np.flatnonzero(~flat)
    return int(pixels.shape[0] - (filled[-1] + 1)) if filled.size else int(pixels.shape[0])


def load_partial(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Load a truncated JPEG's readable part (ImageError as ``load_photo`` for anything else wrong)."""
    with _LENIENT:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            photo = load_photo(Path(path), max_pixels=max_pixels)
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before
    missing = unread_rows(photo.pixels)
    h = photo.pixels.shape[0]
    where = f"the bottom {missing} of {h} rows are" if missing else "parts of it may be"
    codecs.note(photo.meta.extra, f"partly read: the file is truncated; {where} gray (no data in the file)")
    photo.meta.extra["truncated"] = True
    return photo
