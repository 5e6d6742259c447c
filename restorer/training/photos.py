"""How training, evaluation and sharding read a photo: through the app's own reader (no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorer.core.image import load_photo, to_display_rgb8


def read_photo_rgb8(path: Path) -> np.ndarray:
    """A photo as uint8 H x W x 3 RGB through the app's own reader (restorer.core.image): EXIF
    orientation applied, 16-bit rounded to 8, gray replicated, alpha dropped; ImageError if unreadable.

    Training, evaluation and sharding see a photo exactly as the app shows it (cv2.imread would ignore
    the orientation tag and truncate 16-bit scans differently)."""
    return to_display_rgb8(load_photo(path).pixels)
