"""How a guided fill is composed: the guide's lows, the patches' detail (brightness only), the thin-hole guide,
the guide's scale, and the fallback when nothing can be copied."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restorer.synthesis.completion import NothingToCopy, Settings, complete_blocking
from restorer.synthesis.compose import classical_guide, compose


def _grainy(h: int = 120, w: int = 140, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 0.5 + 0.2 * np.sin(x / 13.0)
    img = base[..., None] * np.array([1.0, 0.8, 0.6]) + rng.normal(0, 0.05, (h, w, 1))
    return np.clip(img, 0, 1).astype(np.float32)


def _box(shape: tuple[int, int], y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def _lap_std(img: np.ndarray, hole: np.ndarray) -> float:
    g = img.mean(axis=2)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return float(cv2.Laplacian(g, cv2.CV_32F)[inner].std())


def test_compose_keeps_the_guides_lows_and_the_patches_detail_in_brightness() -> None:
    img = _grainy()
    hole = _box(img.shape[:2], 30, 30, 90, 110)
    rng = np.random.default_rng(0)
    filled = img.copy()
    filled[hole] = 0.4 + rng.normal(0, 0.05, (int(hole.sum()), 1)) * np.array([1.0, -1.0, 0.5])  # chroma noise
    guide = np.full_like(img, 0.6)
    out = compose(filled, img, hole, guide, lows=1.0, gain=1.0, guide_colour=True, texture_colour=False)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert abs(float(out[inner].mean()) - 0.6) < 0.01  # the guide's level, not the patches' 0.4
    detail = out[inner] - out[inner].mean(axis=1, keepdims=True)
    assert float(np.abs(detail).max()) < 1e-5  # copied colour detail is gone: brightness only
    assert float(out[inner].std()) > 0.01  # but the brightness detail stays
    coloured = compose(filled, img, hole, guide, lows=1.0, gain=1.0, guide_colour=True, texture_colour=True)
    assert float(np.abs(coloured[inner] - coloured[inner].mean(axis=1, keepdims=True)).max()) > 0.02


def test_the_split_follows_the_guides_scale() -> None:
    # a guide upscaled 6 times has no detail finer than ~6 px: the band below that comes from the patches
    img = _grainy()
    hole = _box(img.shape[:2], 30, 30, 90, 110)
    y, x = np.mgrid[0:120, 0:140]
    filled = img.copy()
    filled[hole] = (0.5 + 0.15 * np.sin(x / 2.5))[hole][:, None]  # a 16-px period the guide misses
    guide = np.full_like(img, 0.5)
    fine = compose(filled, img, hole, guide, lows=1.0, gain=1.0, guide_colour=True, texture_colour=True)
    scaled = compose(filled, img, hole, guide, lows=1.0, gain=1.0, guide_colour=True, texture_colour=True,
                     guide_scale=6.0)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert float(scaled[inner].std()) > 2 * float(fine[inner].std())


def test_a_thin_hole_without_a_guide_composes_with_navier_stokes() -> None:
    img = _grainy()
    hole = _box(img.shape[:2], 58, 5, 63, 135)
    ns = classical_guide(img, hole, "navier-stokes")
    plain = complete_blocking(img, hole, settings=Settings(lows=1.0))
    steered = complete_blocking(img, hole, settings=Settings(lows=1.0, thin_guide="navier-stokes",
                                                             texture_colour=False))
    assert np.array_equal(steered[~hole], img[~hole])
    low = cv2.GaussianBlur(steered, (0, 0), 1.0)
    ns_low = cv2.GaussianBlur(np.where(hole[..., None], ns, img), (0, 0), 1.0)
    # the smooth part is Navier-Stokes' (the patches only add detail above 1 px)...
    assert float(np.abs(low - ns_low)[hole].mean()) < float(np.abs(cv2.GaussianBlur(plain, (0, 0), 1.0) - ns_low)[hole].mean())
    # ...and the detail is the photo's grain, which Navier-Stokes alone smooths away
    assert _lap_std(steered, hole) > 2 * _lap_std(np.where(hole[..., None], ns, img), hole)


def test_nothing_to_copy_falls_back_to_the_guide_unless_the_user_restricted_the_area() -> None:
    img = _grainy(40, 40)
    hole = _box(img.shape[:2], 2, 2, 38, 38)  # no whole 7 x 7 patch of known pixels is left
    guide = np.full_like(img, 0.3)
    out = complete_blocking(img, hole, guide=guide, settings=Settings())
    assert np.allclose(out[hole], 0.3) and np.array_equal(out[~hole], img[~hole])
    with pytest.raises(NothingToCopy):
        complete_blocking(img, hole, settings=Settings())
    with pytest.raises(NothingToCopy):
        complete_blocking(img, hole, guide=guide, allowed=np.ones(hole.shape, bool), settings=Settings())


def test_copied_colour_specks_are_smoothed_while_the_brightness_detail_stays() -> None:
    img = _grainy()
    hole = _box(img.shape[:2], 30, 30, 90, 110)
    rng = np.random.default_rng(1)
    filled = img.copy()
    filled[hole & (rng.random(hole.shape) < 0.05)] = np.array([0.9, 0.3, 0.6], np.float32)  # pink specks
    guide = np.where(hole[..., None], 0.5, img).astype(np.float32)
    kw: dict = {"lows": 1.0, "gain": 1.0, "guide_colour": False, "texture_colour": False}
    out, clean = compose(filled, img, hole, guide, **kw), compose(img, img, hole, guide, **kw)
    inner = cv2.erode(hole.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0

    def chroma(x: np.ndarray) -> np.ndarray:
        return x - x.mean(axis=2, keepdims=True)

    speck = float(np.abs(chroma(filled) - chroma(img))[inner].max())  # 0.3
    left = float(np.abs(chroma(out) - chroma(clean))[inner].max())
    assert left < 0.2 * speck  # hue at 3x the split: a 1-px speck all but gone (at the split alone: 0.4x)
    assert _lap_std(out, hole) > 0.5 * _lap_std(filled, hole)  # brightness detail kept


def test_compose_into_gives_compose_s_values_from_the_hole_s_box_only() -> None:
    from restorer.synthesis.compose import compose, compose_into

    rng = np.random.default_rng(3)
    img = rng.random((260, 300, 3), dtype=np.float32)
    filled = rng.random((260, 300, 3), dtype=np.float32)
    guide = cv2.GaussianBlur(img, (0, 0), 3)
    hole = np.zeros((260, 300), bool)
    hole[100:150, 120:170] = True  # far from the edges: the box is a sixth of the image
    for kw in ({"lows": 0.7, "gain": 1.3, "guide_colour": False, "texture_colour": False, "guide_scale": 3.0},
               {"lows": 1.0, "gain": 1.0, "guide_colour": True, "texture_colour": True}):
        expected = img.copy()
        expected[hole] = compose(filled, img, hole, guide, **kw)[hole]
        out = img.copy()
        compose_into(out, filled, img, hole, guide, **kw)
        assert np.array_equal(out, expected)
