"""Grain: measured from the ring around the hole, added only inside it and only as much as is missing."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.synthesis.grain import add_grain, estimate


def _grainy(colour_noise: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    base = np.full((160, 160, 3), 0.5, np.float32)
    luma = rng.normal(0, 0.04, (160, 160, 1))
    img = (base + luma + rng.normal(0, colour_noise, (160, 160, 3))).astype(np.float32)
    hole = np.zeros((160, 160), bool)
    hole[50:110, 50:110] = True
    return img, base, hole


def _hp_std(a: np.ndarray) -> np.ndarray:
    return (a - cv2.GaussianBlur(a, (0, 0), 1.5)).reshape(-1, a.shape[-1]).std(axis=0)


def test_grain_strength_and_colour_correlation_are_measured() -> None:
    img, _, hole = _grainy(0.005)
    grain = estimate(img, hole)
    assert grain is not None and grain.shared > 0.9
    mono = estimate(*_grainy(0.04)[::2])
    assert mono is not None and mono.shared < 0.7


def test_a_smooth_fill_gets_the_rings_grain_and_nothing_outside_changes() -> None:
    img, base, hole = _grainy(0.005)
    smooth = img.copy()
    smooth[hole] = base[hole]
    out = add_grain(smooth, img, hole, seed=3)
    inner = out[60:100, 60:100]
    assert np.allclose(_hp_std(inner), _hp_std(img[60:100, 60:100]), rtol=0.25)
    assert np.array_equal(out[~hole], smooth[~hole])
    assert np.array_equal(out, add_grain(smooth, img, hole, seed=3))


def test_a_fill_that_already_has_grain_gets_none_added() -> None:
    img, _, hole = _grainy(0.005)
    out = add_grain(img, img, hole, seed=1)
    assert np.abs(out - img)[hole].max() < 0.05
    assert _hp_std(out[60:100, 60:100]).mean() < 1.2 * _hp_std(img[60:100, 60:100]).mean()
