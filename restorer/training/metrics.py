"""Image quality metrics in numpy/OpenCV: PSNR, SSIM (Gaussian window, Wang et al. 2004) and mean L1.

Images are float arrays H x W x C (or H x W) in [0, 1]. SSIM matches
skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=1) - the usual protocol of the inpainting papers - without needing scikit-image at run time.
"""

from __future__ import annotations

import cv2
import numpy as np

K1, K2 = 0.01, 0.03
SIGMA = 1.5
RADIUS = 5  # skimage's truncate=3.5 at sigma 1.5: int(3.5 * 1.5 + 0.5) = 5, so an 11 x 11 window


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    if mse == 0.0:
        return float("inf")
    return 10.0 * np.log10(data_range ** 2 / mse)


def mean_l1(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _blur(x: np.ndarray) -> np.ndarray:
    # BORDER_REFLECT (abc|cba) is scipy.ndimage's 'reflect', which skimage uses.
    return cv2.GaussianBlur(x, (2 * RADIUS + 1, 2 * RADIUS + 1), SIGMA, sigmaY=SIGMA, borderType=cv2.BORDER_REFLECT)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Mean SSIM; colour images are the mean of the per-channel SSIMs; borders of RADIUS px are left out."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.ndim == 3:
        return float(np.mean([ssim(a[..., c], b[..., c], data_range) for c in range(a.shape[2])]))
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    mu_a, mu_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mu_a * mu_a
    var_b = _blur(b * b) - mu_b * mu_b
    cov = _blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    r = RADIUS
    return float(s[r:-r, r:-r].mean())
