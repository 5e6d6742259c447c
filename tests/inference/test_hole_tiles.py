"""Tiles laid along the hole: every hole pixel keeps its margin of context in some tile, with fewer tiles than a grid."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restorer.core.mask import BBox
from restorer.inference.regions import plan_regions
from restorer.inference.tiles import hole_tiles, tile_boxes, tile_margin


def _served(mask: np.ndarray, tiles: list[BBox], margin: int) -> np.ndarray:
    """Pixels at least ``margin`` inside some tile (a side on the crop's edge needs no margin)."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    for t in tiles:
        y0 = t.y0 if t.y0 == 0 else t.y0 + margin
        y1 = t.y1 if t.y1 == h else t.y1 - margin
        x0 = t.x0 if t.x0 == 0 else t.x0 + margin
        x1 = t.x1 if t.x1 == w else t.x1 - margin
        out[y0:y1, x0:x1] = True
    return out


def _grid_with_hole(mask: np.ndarray, tile: int) -> list[BBox]:
    """What the planner did before: a grid over the crop, tiles without hole skipped."""
    return [t for t in tile_boxes(mask.shape, tile, tile // 4) if mask[t.slices].any()]


def _line(shape, p0, p1, width) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.line(m, p0, p1, 1, width)
    return m.astype(bool)


CASES = {
    "diagonal": _line((1591, 2091), (70, 70), (2020, 1520), 25),
    "horizontal": _line((400, 2000), (40, 200), (1960, 200), 25),
    "vertical at the edge": _line((1800, 500), (3, 0), (3, 1799), 7),
    "curve": cv2.polylines(np.zeros((1200, 1600), np.uint8),
                           [np.array([[50, 600], [400, 100], [800, 1100], [1200, 200], [1550, 700]], np.int32)],
                           False, 1, 15).astype(bool),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_hole_pixel_keeps_its_margin_and_slanted_holes_need_fewer_tiles(name):
    mask = CASES[name]
    margin = tile_margin(256, 25)
    tiles = hole_tiles(mask, 256, margin)
    assert not (mask & ~_served(mask, tiles, margin)).any()
    h, w = mask.shape
    assert all(0 <= t.y0 and t.y1 <= h and 0 <= t.x0 and t.x1 <= w for t in tiles)
    assert all((t.height, t.width) == (256, 256) for t in tiles)
    assert all(mask[t.slices].any() for t in tiles)  # no tile spent on ground without hole
    grid = _grid_with_hole(mask, 256)
    if name in ("diagonal", "curve"):
        assert len(tiles) < len(grid)  # along an axis the grid can be as good; the planner takes the fewer
    if name == "diagonal":
        assert len(tiles) <= 0.6 * len(grid)  # the scratch of issue 15: 26 grid tiles


def test_random_holes_are_all_served():
    rng = np.random.default_rng(3)
    for _ in range(20):
        h, w = (int(v) for v in rng.integers(300, 900, 2))
        mask = rng.random((h // 16, w // 16)) > 0.93
        mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        tile = int(rng.choice([128, 256]))
        margin = tile_margin(tile, float(rng.integers(1, 200)))
        tiles = hole_tiles(mask, tile, margin)
        assert not (mask & ~_served(mask, tiles, margin)).any()


def test_a_short_axis_is_not_split():
    mask = _line((300, 3000), (20, 150), (2980, 150), 9)  # 300 rows fit 1.5 tiles of 256
    tiles = hole_tiles(mask, 256, tile_margin(256, 9))
    assert {(t.y0, t.y1) for t in tiles} == {(0, 300)}
    assert not (mask & ~_served(mask, tiles, tile_margin(256, 9))).any()


def test_the_planner_lays_the_scratch_of_issue_15_along_the_hole():
    mask = np.zeros((4000, 6000), np.uint8)
    cv2.line(mask, (2000, 1250), (4000, 2750), 1, 25)
    mask = mask.astype(bool)
    (region,) = plan_regions(np.zeros((4000, 6000, 3), np.uint8), mask, work_size=256, pad_multiple=128)
    assert region.scale == 1.0
    assert len(region.tiles) <= 14  # the grid ran 26 tiles (1.70 M pixels) for 68 k hole pixels
    assert not (region.mask & ~_served(region.mask, list(region.tiles), tile_margin(256, 25))).any()
