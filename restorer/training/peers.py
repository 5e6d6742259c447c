"""Other projects' fills as evaluation baselines (benchmark extra only): pypatchmatch as an Inpainter.

pypatchmatch (``pip install 'restorer[bench]'``) is the PatchMatch that InvokeAI uses; it is never a
runtime dependency, so it is imported inside functions here and nowhere else in the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from restorer.errors import RestorerError

PYPATCHMATCH = "pypatchmatch"
PEERS = (PYPATCHMATCH,)


def _patch_match() -> Any:
    """The pypatchmatch module, or None when it is not installed or its native library did not load."""
    try:
        from patchmatch import patch_match
    except (ImportError, OSError):
        return None
    return patch_match if getattr(patch_match, "patchmatch_available", False) else None


def pypatchmatch_available() -> bool:
    return _patch_match() is not None


class PyPatchMatch:
    """pypatchmatch's inpaint with the Inpainter call: (image N x C x H x W float in [0, 1], mask N x 1 x H x W,
    1 = hole) -> image of the same shape, float32; pixels outside the mask are the input's, bit for bit.

    C is 3 (RGB) or 1 (gray, filled as RGB and averaged back). Each image is filled from the same
    seed, so a result does not depend on the batch it came in."""

    def __init__(self, patch_size: int = 3, seed: int = 0) -> None:
        pm = _patch_match()
        if pm is None:
            raise RestorerError("pypatchmatch is not installed (pip install 'restorer[bench]'), "
                                "or its native library did not load")
        self._pm = pm
        self.patch_size = int(patch_size)
        self.seed = int(seed)

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        image = np.asarray(image, np.float32)
        mask = np.asarray(mask)
        if image.ndim != 4 or image.shape[1] not in (1, 3) or mask.shape != (image.shape[0], 1, *image.shape[2:]):
            raise ValueError(f"expected image N x 3 x H x W and mask N x 1 x H x W, got {image.shape} and {mask.shape}")
        out = image.copy()
        for i in range(image.shape[0]):
            hole = mask[i, 0] > 0.5
            if not hole.any():
                continue
            rgb = np.clip(image[i].transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
            if rgb.shape[2] == 1:
                rgb = np.repeat(rgb, 3, axis=2)
            if hasattr(self._pm, "set_random_seed"):
                self._pm.set_random_seed(self.seed)
            filled = self._pm.inpaint(np.ascontiguousarray(rgb), hole.astype(np.uint8) * 255, patch_size=self.patch_size)
            filled = np.asarray(filled, np.float32).transpose(2, 0, 1) / 255.0
            if image.shape[1] == 1:
                filled = filled.mean(axis=0, keepdims=True)
            out[i] = np.where(hole[None], filled, image[i])
        return out


def load_peer(name: str, **options: Any) -> PyPatchMatch:
    """A peer baseline by name (see PEERS); RestorerError when it is unknown or not installed."""
    if name != PYPATCHMATCH:
        raise RestorerError(f"unknown peer baseline {name!r} (known: {', '.join(PEERS)})")
    return PyPatchMatch(**options)


def available_peers() -> dict[str, PyPatchMatch]:
    """Every peer baseline that is installed, by name (the evaluation's default set adds these)."""
    return {PYPATCHMATCH: PyPatchMatch()} if pypatchmatch_available() else {}
