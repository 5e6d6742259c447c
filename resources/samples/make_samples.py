"""Regenerates the shipped sample: an old-print look of scikit-image's public-domain 'astronaut' (NASA) with scratches.

Run from the repository root: python resources/samples/make_samples.py (needs scikit-image).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

HERE = Path(__file__).resolve().parent


def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clean print (float32 H x W x 3 in [0, 1]), the damaged copy, and the mask (uint8, 255 = damage)."""
    rng = np.random.default_rng(1969)
    rgb = data.astronaut().astype(np.float32) / 255.0
    gray = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    sepia = np.stack([gray * 1.07, gray * 0.95, gray * 0.78], axis=-1)
    photo = np.clip(sepia * 0.9 + 0.06, 0, 1)

    mask = np.zeros(gray.shape, np.uint8)
    h, w = gray.shape
    for _ in range(3):  # long thin scratches across the print
        x0, x1 = rng.integers(0, w, 2)
        cv2.line(mask, (int(x0), 0), (int(x1), h - 1), 255, int(rng.integers(2, 4)))
    for _ in range(2):  # curved cracks
        pts = np.cumsum(rng.normal(0, 12, (12, 2)), axis=0) + rng.integers(80, w - 80, 2)
        cv2.polylines(mask, [pts.astype(np.int32)], False, 255, 3)
    for _ in range(60):  # dust specks
        cv2.circle(mask, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.integers(1, 4)), 255, -1)
    cv2.ellipse(mask, (400, 120), (28, 16), 30, 0, 360, 255, -1)  # a stain

    damaged = photo.copy()
    hole = mask > 0
    damaged[hole] = np.clip(0.93 + rng.normal(0, 0.03, (int(hole.sum()), 1)), 0, 1)
    return photo, damaged, mask


def main() -> None:
    _, damaged, mask = make()
    Image.fromarray((damaged * 255 + 0.5).astype(np.uint8)).save(HERE / "astronaut-scratched.png", optimize=True)
    Image.fromarray(mask).save(HERE / "astronaut-scratched-mask.png", optimize=True)


if __name__ == "__main__":
    main()
