"""Texture measures: detail (Laplacian std ratio) and patch distance (sliced Wasserstein of pyramid patches)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restorer.training.texture import detail_ratio, erode, laplacian_pyramid, patch_distance, patch_distances

S = 128


def _texture(seed: int = 0, size: int = S) -> np.ndarray:
    """Fine grain over slanted stripes, RGB float in [0, 1]: a texture with structure at several scales."""
    rng = np.random.default_rng(seed)
    grain = cv2.GaussianBlur(rng.standard_normal((size, size, 3)).astype(np.float32), (0, 0), 1.0)
    yy, xx = np.mgrid[:size, :size]
    stripes = np.sin(xx * 2 * np.pi / 9 + 0.4 * yy)[..., None]
    return np.clip(0.5 + 0.12 * stripes + 0.15 * grain / grain.std(), 0, 1)


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray]:
    hole = np.zeros((S, S), bool)
    hole[40:88, 40:88] = True
    return _texture(), hole


def _fill(orig: np.ndarray, hole: np.ndarray, content: np.ndarray) -> np.ndarray:
    return np.where(hole[..., None], content, orig)


def _blurred(orig: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return _fill(orig, hole, cv2.GaussianBlur(orig.astype(np.float32), (0, 0), 3))


def _shuffled(orig: np.ndarray, hole: np.ndarray, block: int = 16) -> np.ndarray:
    """The hole's own 16-px blocks in a random order: the same texture, rearranged."""
    out = orig.copy()
    corners = [(y, x) for y in range(40, 88, block) for x in range(40, 88, block)]
    for (y, x), k in zip(corners, np.random.default_rng(5).permutation(len(corners))):
        sy, sx = corners[k]
        out[y:y + block, x:x + block] = orig[sy:sy + block, sx:sx + block]
    assert not np.array_equal(out, orig)
    return out


def test_identical_fill_scores_one_and_zero(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    assert detail_ratio(orig, orig, hole) == pytest.approx(1.0)
    assert patch_distance(orig.copy(), orig, hole) == pytest.approx(0.0, abs=1e-12)


def test_blurred_fill_has_far_less_detail(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    assert detail_ratio(_blurred(orig, hole), orig, hole) < 0.3


def test_added_noise_raises_detail_but_not_the_patch_score(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    noisy = _fill(orig, hole, np.clip(_blurred(orig, hole) + np.random.default_rng(1).normal(0, 0.2, orig.shape), 0, 1))
    true_texture = _fill(orig, hole, np.roll(orig, (20, 33), axis=(0, 1)))  # the texture from elsewhere
    assert detail_ratio(noisy, orig, hole) > 1.5
    assert 0.8 < detail_ratio(true_texture, orig, hole) < 1.25
    assert patch_distance(noisy, orig, hole) > 1.5 * patch_distance(true_texture, orig, hole)


def test_rearranged_texture_beats_a_blur(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    shuffled, blurred = _shuffled(orig, hole), _blurred(orig, hole)
    assert patch_distance(shuffled, orig, hole) < 0.5 * patch_distance(blurred, orig, hole)
    # Finest band above all: the blur has lost it, the rearranged copy keeps it.
    assert patch_distances(shuffled, orig, hole)[0] < 0.25 * patch_distances(blurred, orig, hole)[0]


def test_the_seam_is_left_out_of_detail(scene: tuple[np.ndarray, np.ndarray]) -> None:
    # The true texture shifted in brightness: a step at the hole's edge, the same detail inside.
    orig, hole = scene
    step = _fill(orig, hole, orig + 0.3)
    assert detail_ratio(step, orig, hole) == pytest.approx(1.0, abs=1e-9)
    assert erode(hole).sum() == 46 * 46


def test_flat_original_and_empty_hole_are_skipped(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    flat = np.full_like(orig, 0.5)
    assert np.isnan(detail_ratio(orig, flat, hole))
    thin = np.zeros_like(hole)
    thin[60, 10:100] = True  # a 1-px scratch erodes to nothing
    assert np.isnan(detail_ratio(orig, orig, thin))
    assert not np.isnan(patch_distance(orig, orig, thin))
    assert np.isnan(patch_distance(orig, orig, np.zeros_like(hole)))


def test_patch_distance_is_reproducible_and_takes_gray(scene: tuple[np.ndarray, np.ndarray]) -> None:
    orig, hole = scene
    blurred = _blurred(orig, hole)
    assert patch_distance(blurred, orig, hole) == patch_distance(blurred, orig, hole, seed=0)
    other_seed = patch_distance(blurred, orig, hole, seed=1)
    assert other_seed != patch_distance(blurred, orig, hole) and other_seed == pytest.approx(
        patch_distance(blurred, orig, hole), rel=0.1)
    g, gb = orig.mean(axis=2), blurred.mean(axis=2)
    assert patch_distance(gb, g, hole) > 5 * patch_distance(g, g, hole) + 0.05
    assert detail_ratio(gb, g, hole) < 0.3
    with pytest.raises(ValueError):
        patch_distance(g, orig, hole)


def test_pyramid_levels_and_bands() -> None:
    const = np.full((64, 48, 3), 0.25)
    bands = laplacian_pyramid(const, 4)
    assert [b.shape[:2] for b in bands] == [(64, 48), (32, 24), (16, 12), (8, 6)]
    assert all(np.abs(b).max() < 1e-12 for b in bands[:-1]) and np.allclose(bands[-1], 0.25)
    assert len(laplacian_pyramid(np.zeros((12, 12)), 4)) == 2  # too small to halve further
