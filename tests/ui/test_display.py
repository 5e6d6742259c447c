"""Display pyramids: box updates equal a full rebuild; thin mask lines survive shrinking; level choice."""

from __future__ import annotations

import numpy as np

from restorer.core.image import to_display_rgb8
from restorer.ui.convert import MaskPyramid, RgbPyramid


def test_box_refresh_matches_a_full_rebuild_on_odd_sizes():
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 65535, (1101, 1533, 3), dtype=np.uint16)
    pyramid = RgbPyramid(pixels)
    assert len(pyramid.levels) >= 3
    for box in [(100, 501, 237, 777), (1090, 1520, 1101, 1533), (0, 0, 1, 1)]:
        y0, x0, y1, x1 = box
        pixels[y0:y1, x0:x1] = rng.integers(0, 65535, (y1 - y0, x1 - x0, 3), dtype=np.uint16)
        pyramid.refresh(pixels, box)
    fresh = RgbPyramid(pixels)
    assert np.array_equal(pyramid.rgb(0), to_display_rgb8(pixels))
    for a, b in zip(pyramid.levels, fresh.levels):
        assert np.array_equal(a, b)


def test_gray_and_16_bit_show_as_rgb8():
    pixels = np.full((40, 50, 1), 257 * 200, dtype=np.uint16)
    level0 = RgbPyramid(pixels).rgb(0)
    assert level0.shape == (40, 50, 3) and level0.dtype == np.uint8 and (level0 == 200).all()
    gray8 = np.arange(40 * 50, dtype=np.uint32).reshape(40, 50, 1).astype(np.uint8)
    pyramid = RgbPyramid(gray8)
    assert np.array_equal(pyramid.rgb(0), to_display_rgb8(gray8))
    gray8[10:20, 5:30] = 7
    pyramid.refresh(gray8, (10, 5, 20, 30))
    assert np.array_equal(pyramid.rgb(0), to_display_rgb8(gray8))
    assert (pyramid.levels[0][:, :, 3] == 255).all()


def test_a_one_pixel_scratch_stays_visible_when_zoomed_out():
    mask = np.zeros((3000, 2000), dtype=bool)
    pyramid = MaskPyramid(mask)
    mask[1234, 100:1900] = True
    pyramid.update((1234, 100, 1235, 1900))
    assert all(level.any(axis=1).sum() == 1 for level in pyramid.levels)
    smallest = pyramid.levels[-1]
    assert max(smallest.shape) <= 512
    assert smallest[1234 >> (len(pyramid.levels) - 1)].sum() > 0


def test_level_for_scale_never_shows_fewer_pixels_than_the_screen():
    pyramid = MaskPyramid(np.zeros((4096, 4096), dtype=bool))
    assert pyramid.level_for_scale(1.0) == 0
    assert pyramid.level_for_scale(2.0) == 0
    assert pyramid.level_for_scale(0.5) == 1
    assert pyramid.level_for_scale(0.3) == 1
    assert pyramid.level_for_scale(0.01) == len(pyramid.levels) - 1


def test_overlay_cache_follows_box_updates():
    from PySide6.QtGui import QColor

    from restorer.ui.convert import OverlayCache, overlay_argb

    mask = np.zeros((1500, 1100), dtype=bool)
    cache = OverlayCache(MaskPyramid(mask), QColor(255, 0, 0), 0.5)
    before = [cache.cached(k).copy() for k in range(len(cache.pyramid.levels))]
    assert not any(b.any() for b in before)
    mask[700:733, 301:420] = True
    cache.update((700, 301, 733, 420))
    for k, level in enumerate(cache.pyramid.levels):
        assert np.array_equal(cache.cached(k), overlay_argb(level, cache.value))
        assert cache.cached(k).any()
    cache.set_opacity(0.25)
    assert (cache.cached(0)[700, 301] >> 24) == 64
