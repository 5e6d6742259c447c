"""Patch completion: known answers (a periodic texture keeps its period), determinism, sampling areas."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from restorer.errors import MaskError
from restorer.synthesis.completion import NothingToCopy, Settings, complete, complete_blocking, level_count


def _texture(h: int = 160, w: int = 200, period: int = 16) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    base = 0.5 + 0.35 * np.sin(2 * np.pi * x / period) * np.cos(2 * np.pi * y / 12)
    return np.repeat(base[..., None], 3, axis=2).astype(np.float32)


def _hole(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros(shape, bool)
    y0, x0, y1, x1 = box
    m[y0:y1, x0:x1] = True
    return m


def test_a_periodic_texture_comes_back_with_its_period() -> None:
    img = _texture(period=16)
    hole = _hole(img.shape[:2], (50, 60, 110, 140))
    damaged = img.copy()
    damaged[hole] = 0.0
    out = complete_blocking(damaged, hole)
    err = np.abs(out - img)[hole].mean()
    smooth_err = np.abs(img[~hole].mean() - img)[hole].mean()
    assert err < 0.2 * smooth_err, (err, smooth_err)
    # the filled rows oscillate with the texture's own period
    row = out[80, 60:140, 0] - out[80, 60:140, 0].mean()
    spectrum = np.abs(np.fft.rfft(row))
    freq = np.argmax(spectrum[1:]) + 1
    assert abs(len(row) / freq - 16) < 1.5


def test_known_pixels_are_untouched_and_16_bit_precision_survives() -> None:
    rng = np.random.default_rng(3)
    img = (rng.integers(0, 65536, (90, 100, 3)) / 65535.0).astype(np.float32)
    hole = _hole(img.shape[:2], (30, 30, 60, 70))
    out = complete_blocking(img, hole)
    assert np.array_equal(out[~hole], img[~hole])
    assert not np.array_equal(out[hole], img[hole])


def test_gray_2d_input_gives_2d_output() -> None:
    img = _texture()[..., 0]
    hole = _hole(img.shape, (40, 40, 80, 90))
    out = complete_blocking(img, hole)
    assert out.shape == img.shape and np.array_equal(out[~hole], img[~hole])


def test_same_seed_same_fill_other_seed_other_fill() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((80, 90, 3)).astype(np.float32)
    hole = _hole(img.shape[:2], (20, 20, 60, 60))
    a = complete_blocking(img, hole, settings=Settings(seed=1))
    b = complete_blocking(img, hole, settings=Settings(seed=1))
    c = complete_blocking(img, hole, settings=Settings(seed=2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fill_copies_only_from_the_allowed_area() -> None:
    # left half dark grain, right half bright grain; allowing only the right half fills bright
    rng = np.random.default_rng(5)
    img = np.where(np.arange(120)[None, :, None] < 60, 0.2, 0.8) + rng.normal(0, 0.03, (100, 120, 3))
    img = img.astype(np.float32)
    hole = _hole(img.shape[:2], (40, 20, 60, 40))  # inside the dark half
    allowed = np.zeros(hole.shape, bool)
    allowed[:, 70:] = True
    out = complete_blocking(img, hole, allowed=allowed)
    assert out[hole].mean() > 0.7
    assert complete_blocking(img, hole)[hole].mean() < 0.3


def test_an_empty_sampling_area_is_a_clear_error() -> None:
    img = _texture()
    hole = _hole(img.shape[:2], (40, 40, 80, 90))
    with pytest.raises(NothingToCopy) as err:
        complete_blocking(img, hole, allowed=np.zeros(hole.shape, bool))
    assert isinstance(err.value, MaskError)
    assert "sampling area" in str(err.value)


def test_progress_counts_up_to_its_total_and_the_levels_follow_the_hole() -> None:
    img = _texture(256, 256)
    hole = _hole(img.shape[:2], (60, 60, 200, 200))
    steps = list(_steps(complete(img, hole)))
    assert steps[-1][0] == steps[-1][1] == len(steps)
    assert level_count(hole, Settings()) >= 2
    assert level_count(_hole((256, 256), (100, 10, 104, 250)), Settings()) == 0


def _steps(gen):
    while True:
        try:
            yield next(gen)
        except StopIteration:
            return


def test_a_guides_off_hue_blotch_does_not_reach_the_fill() -> None:
    # a grainy sepia print; the guide fills the hole with the right brightness but a magenta cast
    rng = np.random.default_rng(7)
    sepia = np.array([0.62, 0.5, 0.36], np.float32)
    img = np.clip(sepia * (1 + rng.normal(0, 0.06, (120, 140, 1))), 0, 1).astype(np.float32)
    hole = _hole(img.shape[:2], (40, 40, 90, 100))
    guide = img.copy()
    magenta = np.array([0.62, 0.38, 0.62], np.float32)
    guide[hole] = magenta * (sepia.mean() / magenta.mean())

    def cast(out: np.ndarray) -> float:  # mean distance of the fill's chroma from the print's
        chroma = out - out.mean(axis=2, keepdims=True)
        ref = img[~hole] - img[~hole].mean(axis=1, keepdims=True)
        return float(np.abs(chroma[hole].mean(axis=0) - ref.mean(axis=0)).max())

    own = complete_blocking(img, hole, guide=guide, settings=Settings(lows=2.0, guide_colour=False))
    tinted = complete_blocking(img, hole, guide=guide, settings=Settings(lows=2.0, guide_colour=True))
    assert cast(own) < 0.01 < 0.05 < cast(tinted)
    assert abs(own[hole].mean() - img[~hole].mean()) < 0.02


def test_a_guided_scratch_takes_em_single_rounds_and_an_unguided_one_em_coarse() -> None:
    img = _texture(128, 200)
    scratch = _hole(img.shape[:2], (60, 10, 66, 190))
    settings = Settings(em_single=2, em_coarse=4)
    guided = list(_steps(complete(img, scratch, guide=img, settings=settings)))
    plain = list(_steps(complete(img, scratch, settings=settings)))
    assert guided[-1] == (2, 2) and plain[-1] == (4, 4)
    filled = complete_blocking(img, scratch, guide=img, settings=settings)
    assert np.abs(filled - img)[scratch].mean() < 0.05  # a periodic texture's scratch comes back


def test_a_large_hole_sweeps_its_full_resolution_level_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from restorer.synthesis import kernels

    img = _texture(160, 200)
    hole = _hole(img.shape[:2], (40, 50, 120, 150))  # 8000 px, two levels
    sweeps: list[tuple[int, int]] = []  # (targets, passes) per search
    real = kernels.patchmatch

    def spy(feat, valid, targets, index, nnf, cost, r, passes, seed, bounds):
        sweeps.append((len(targets), passes))
        return real(feat, valid, targets, index, nnf, cost, r, passes, seed, bounds)

    monkeypatch.setattr(kernels, "patchmatch", spy)

    def finest() -> list[int]:  # the passes of the searches over the most targets (the full-resolution level)
        most = max(k for k, _ in sweeps)
        return [p for k, p in sweeps if k == most]

    complete_blocking(img, hole, settings=Settings(passes_finest=2, large_hole=0))
    assert finest() == [2]
    sweeps.clear()
    out = complete_blocking(img, hole, settings=Settings(passes_finest=2, large_hole=7999))
    assert finest() == [1]
    assert np.abs(out - img)[hole].mean() < 0.08  # still the texture
    sweeps.clear()
    complete_blocking(img, hole, settings=Settings(passes_finest=2, large_hole=8000))  # not larger: two sweeps
    assert finest() == [2]


def test_gain_thin_sets_the_copied_band_only_of_holes_composed_over_the_classical_fill() -> None:
    import cv2

    rng = np.random.default_rng(8)
    image = np.clip(0.5 + 0.08 * rng.standard_normal((80, 90, 3)), 0, 1).astype(np.float32)
    hole = np.zeros((80, 90), bool)
    hole[38:43, 5:85] = True  # a 5-px scratch
    base = Settings(lows=0.7, gain=1.3, thin_guide="navier-stokes", guide_colour=False, texture_colour=False)
    thin = complete_blocking(image, hole, settings=dataclasses.replace(base, gain_thin=1.0))
    same = complete_blocking(image, hole, settings=dataclasses.replace(base, gain=1.0))
    np.testing.assert_array_equal(thin, same)
    assert not np.array_equal(thin, complete_blocking(image, hole, settings=base))
    guide = cv2.GaussianBlur(image, (0, 0), 3.0)  # a network's guide: gain_thin does not apply
    np.testing.assert_array_equal(
        complete_blocking(image, hole, guide=guide, settings=dataclasses.replace(base, gain_thin=1.0)),
        complete_blocking(image, hole, guide=guide, settings=base))
