"""Detection fixtures: clean photos the tests make themselves (smooth tones plus film grain), never shared data."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restorer.detection.render import add_grain


def smooth_photo(seed: int, h: int = 512, w: int = 512) -> np.ndarray:
    """A gray 8-bit photo of soft light and shadow (no thin detail), with film grain of 0.015."""
    rng = np.random.default_rng(seed)
    field = cv2.resize(rng.random((6, 6), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field, (0, 0), 20)
    field = (field - field.min()) / (field.max() - field.min()) * 0.6 + 0.2
    return add_grain((field * 255).astype(np.uint8), rng, 0.015)


@pytest.fixture
def make_smooth_photo():
    return smooth_photo
