"""The comparison images as the screen shows them: restorer.core.comparison with the photo's ICC
profile converted to the screen's colours (restorer.ui.colour), as the canvas does.

The pictures themselves (sizes, thumbnails, before/after pairs) are made in core; this module only
supplies the colour-managed ``to_display_rgb8`` to them.
"""

from __future__ import annotations

import numpy as np

from restorer.core import comparison
from restorer.core.comparison import DISPLAY_MAX_SIDE, THUMB_SIZE, ComparisonPair, plain_rgb8
from restorer.core.document import Document
from restorer.ui.colour import display_transform


def to_display_rgb8(pixels: np.ndarray, icc: bytes | None = None) -> np.ndarray:
    """8-bit RGB of a (possibly strided) photo view, converted from ``icc`` to the screen's colours."""
    rgb = plain_rgb8(pixels)
    transform = display_transform(icc, pixels.shape[2] if pixels.ndim == 3 else 1)
    return rgb if transform is None else transform(rgb)


def _screen_rgb8(pixels: np.ndarray, icc: bytes | None) -> np.ndarray:
    return to_display_rgb8(pixels, icc)  # looked up per call, so a test may wrap it


def display_copy(pixels: np.ndarray, max_side: int = DISPLAY_MAX_SIDE, icc: bytes | None = None) -> np.ndarray:
    return comparison.display_copy(pixels, max_side, icc, to_rgb8=_screen_rgb8)


def state_thumbnail(doc: Document, state: int, size: int = THUMB_SIZE) -> np.ndarray:
    return comparison.state_thumbnail(doc, state, size, to_rgb8=_screen_rgb8)


def step_thumbnail(doc: Document, k: int, size: int = THUMB_SIZE) -> np.ndarray:
    return comparison.step_thumbnail(doc, k, size, to_rgb8=_screen_rgb8)


def document_pair(doc: Document, max_side: int = DISPLAY_MAX_SIDE, title: str = "Original / current") -> ComparisonPair:
    return comparison.document_pair(doc, max_side, title, to_rgb8=_screen_rgb8)


def step_pair(doc: Document, k: int, max_side: int = DISPLAY_MAX_SIDE, context: int = 0) -> ComparisonPair:
    return comparison.step_pair(doc, k, max_side, context, to_rgb8=_screen_rgb8)
