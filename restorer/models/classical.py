"""Classical inpainting (OpenCV Telea and Navier-Stokes) behind the same call as the learned models."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from restorer.models.registry import ModelSpec

_FLAGS = {"telea": cv2.INPAINT_TELEA, "navier-stokes": cv2.INPAINT_NS}


class ClassicalInpainter:
    """Runs cv2.inpaint per channel in float32, so 8-bit, 16-bit, gray and colour all take one path."""

    device = "cpu"

    def __init__(self, name: str, method: str, radius: float = 5.0) -> None:
        self.name = name
        self._flag = _FLAGS[method]
        self._radius = float(radius)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if image.ndim != 4 or mask.ndim != 4 or mask.shape[1] != 1:
            raise ValueError("expected image N x C x H x W and mask N x 1 x H x W")
        out = np.array(image, dtype=np.float32, copy=True)
        for n in range(out.shape[0]):
            hole = (mask[n, 0] > 0.5).astype(np.uint8)
            if not hole.any():
                continue
            for c in range(out.shape[1]):
                # OpenCV takes 32-bit float only as one channel: inpaint channel by channel. Telea's
                # float path assumes the 0-255 range (on [0, 1] it returns values far outside it,
                # e.g. -1.3..2.2), so work in 0-255 floats: same precision, correct fills.
                plane = np.ascontiguousarray(out[n, c] * 255.0)
                out[n, c] = cv2.inpaint(plane, hole, self._radius, self._flag) / 255.0
        return np.clip(out, 0.0, 1.0)


def build(spec: ModelSpec, device: str = "auto", weights: Path | None = None) -> ClassicalInpainter:
    """Registry factory: classical models always run on the CPU and need no weights."""
    return ClassicalInpainter(spec.name, spec.config["method"], spec.config.get("radius", 5.0))
