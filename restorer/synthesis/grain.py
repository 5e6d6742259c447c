"""Film grain for fills that are smoother than the photo around them (diffusion and learned fills).

The grain of the known pixels in a ring around the hole is measured (the robust spread of each
channel's high-pass residual, and how much the channels move together); grain of the same
strength, fineness and colour correlation is then added inside the hole, only as much as the fill
itself lacks. Seeded: the same fill gets the same grain.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

_SIGMA = 1.5  # the high-pass that separates grain from image structure (Gaussian sigma, px)


class Grain(NamedTuple):
    sigma: np.ndarray  # per channel: robust std of the high-pass residual
    shared: float  # 0..1: the part of the grain common to all channels (luminance grain)


def _residual(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """High-pass of the known pixels only (a normalised blur, so the hole does not leak in)."""
    w = cv2.GaussianBlur(known.astype(np.float32), (0, 0), _SIGMA)
    num = cv2.GaussianBlur(image * known[..., None], (0, 0), _SIGMA).reshape(image.shape)
    return image - num / np.maximum(w, 1e-6)[..., None]


def _robust_std(x: np.ndarray) -> np.ndarray:
    med = np.median(x, axis=0)
    return 1.4826 * np.median(np.abs(x - med), axis=0)


def estimate(image: np.ndarray, hole: np.ndarray, ring: int = 12) -> Grain | None:
    """The grain around ``hole`` in ``image`` (float32 H x W x C); None when the ring is too small to tell."""
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    known = ~hole
    band = (cv2.dilate(hole.astype(np.uint8), k) > 0) & known
    inner = cv2.erode(known.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # residuals not touching the hole
    band &= inner
    if band.sum() < 64:
        return None
    res = _residual(image, known)[band]
    sigma = _robust_std(res)
    if res.shape[1] == 1 or float(sigma.min()) <= 1e-6:
        return Grain(sigma, 1.0)
    corr = np.corrcoef(res.T)
    shared = float(np.clip(np.mean(corr[np.triu_indices(res.shape[1], 1)]), 0.0, 1.0))
    return Grain(sigma, shared)


def _unit_grain(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """White noise seen through the same high-pass as the measurement, scaled so that its
    measured robust std is 1: adding s x this raises a measured sigma of 0 to s."""
    n = rng.standard_normal(shape).astype(np.float32)
    hp = n - cv2.GaussianBlur(n, (0, 0), _SIGMA)
    return n / float(_robust_std(hp.reshape(-1, 1))[0])


def add_grain(filled: np.ndarray, image: np.ndarray, hole: np.ndarray, seed: int = 0, ring: int = 12) -> np.ndarray:
    """``filled`` (float32 H x W x C) with grain added inside ``hole`` to match the ring around it."""
    if not hole.any():
        return filled
    grain = estimate(image, hole, ring)
    if grain is None:
        return filled
    inner = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    own = _robust_std(_residual(filled, np.ones(hole.shape, bool))[inner]) if inner.sum() >= 16 else 0 * grain.sigma
    need = np.sqrt(np.maximum(grain.sigma ** 2 - own ** 2, 0.0)).astype(np.float32)
    if float(need.max()) <= 0:
        return filled
    rng = np.random.default_rng(seed)
    h, w = hole.shape
    common = _unit_grain((h, w), rng)
    out = filled.copy()
    a, b = np.sqrt(grain.shared), np.sqrt(1.0 - grain.shared)
    for c in range(filled.shape[2]):
        noise = a * common + (b * _unit_grain((h, w), rng) if b > 0 else 0.0)
        out[..., c][hole] += need[c] * noise[hole]
    return np.clip(out, 0.0, 1.0)
