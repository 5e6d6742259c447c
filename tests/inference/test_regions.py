"""Region planning: holes, grouping with context, scale, buckets, tiles and the seam feathering."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.core.box import BBox
from restorer.inference.paste import feather
from restorer.inference.regions import (
    bucket_sides,
    choose_scale,
    find_holes,
    group_holes,
    hole_thickness,
    plan_regions,
)
from restorer.inference.tiles import tile_boxes, tile_weight


def _overlap(a: BBox, b: BBox) -> bool:
    return a.y0 < b.y1 and b.y0 < a.y1 and a.x0 < b.x1 and b.x0 < a.x1


def test_find_holes_boxes_and_areas() -> None:
    mask = np.zeros((100, 120), bool)
    mask[10:20, 30:35] = True
    mask[50:52, 60:100] = True
    holes = sorted(find_holes(mask))
    assert [h.box for h in holes] == [BBox(10, 30, 20, 35), BBox(50, 60, 52, 100)]
    assert [h.area for h in holes] == [50, 80]
    assert holes[1].width == 2  # a line's width, not its length
    assert find_holes(np.zeros((5, 5), bool)) == []


def test_find_holes_on_a_pooled_huge_mask_keeps_exact_boxes() -> None:
    mask = np.zeros((3000, 2500), bool)  # 7.5 MP: components run on a pooled mask
    mask[101:104, 207:211] = True
    mask[2990:3000, 0:3] = True
    boxes = sorted(h.box for h in find_holes(mask))
    assert boxes == [BBox(101, 207, 104, 211), BBox(2990, 0, 3000, 3)]


@pytest.mark.parametrize("seed", range(5))
def test_grouped_patches_never_overlap_and_cover_every_hole(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = np.zeros((400, 500), bool)
    for _ in range(60):
        y, x = rng.integers(0, 400), rng.integers(0, 500)
        mask[y:y + rng.integers(1, 40), x:x + rng.integers(1, 40)] = True
    groups = group_holes(find_holes(mask), mask.shape, 32, 0.5)
    covered = np.zeros_like(mask)
    for i, (crop, patch) in enumerate(groups):
        assert crop.y0 <= patch.y0 and crop.x0 <= patch.x0 and patch.y1 <= crop.y1 and patch.x1 <= crop.x1
        for _, other in groups[i + 1:]:
            assert not _overlap(patch, other)
        covered[patch.slices] = True
    assert not (mask & ~covered).any()


def test_nearby_holes_share_a_crop_and_distant_ones_do_not() -> None:
    mask = np.zeros((600, 600), bool)
    mask[100:105, 100:105] = True
    mask[100:105, 130:135] = True  # 25 px away: shares the first one's context
    mask[500:505, 500:505] = True
    groups = group_holes(find_holes(mask), mask.shape, 32, 0.5)
    assert len(groups) == 2
    assert sorted(p for _, p in groups)[0] == BBox(100, 100, 105, 135)


def test_scattered_specks_do_not_chain_into_one_photo_sized_crop() -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((1500, 2000), bool)
    for y, x in zip(rng.integers(0, 1495, 200), rng.integers(0, 1995, 200)):
        mask[y:y + 5, x:x + 5] = True
    groups = group_holes(find_holes(mask), mask.shape, 32, 0.5)
    assert len(groups) > 100
    assert max(c.area for c, _ in groups) < 0.01 * mask.size


def test_scale_follows_the_hole_not_the_crop() -> None:
    assert choose_scale((300, 300), 200, 256) == 1.0  # fits the model
    assert choose_scale((5000, 5000), 10, None) == 1.0  # classical: always native
    big = choose_scale((2000, 2000), 1500, 256)
    assert big == pytest.approx(256 / 2000)  # a big hole: the whole crop at the work size
    assert choose_scale((80, 3000), 6, 256) == 1.0  # a thin scratch stays sharp (tiled instead)
    thick = np.zeros((200, 200), bool)
    thick[50:150, 50:150] = True
    assert 90 <= hole_thickness(thick) <= 110


def test_bucket_sides_are_few_and_hold_every_crop() -> None:
    sides = [70, 73, 75, 90, 100, 41, 200] + [73] * 20
    out = bucket_sides(sides, 8)
    assert all(o >= s and o % 8 == 0 for o, s in zip(out, sides))
    assert len(set(out)) <= 2


def test_tiles_cover_and_weights_blend_to_one() -> None:
    shape = (300, 1000)
    tiles = tile_boxes(shape, 128, 32)
    cover = np.zeros(shape, np.float32)
    for t in tiles:
        assert t.height == 128 and t.width == 128
        cover[t.slices] += tile_weight(t, shape, 32)
    assert cover.min() > 0.4  # every pixel gets weight; normalising divides it out
    # along an overlap the two ramps cross linearly (no step where one tile ends)
    a, b = tiles[0], tiles[1]
    wa, wb = tile_weight(a, shape, 32), tile_weight(b, shape, 32)
    in_a, in_b = slice(b.x0 - a.x0, a.x1 - a.x0), slice(0, a.x1 - b.x0)  # the shared columns in each tile
    assert np.all(np.diff(wa[60, in_a]) <= 0) and np.all(np.diff(wb[60, in_b]) >= 0)
    assert wa[60, in_a][-1] < 0.05 and wb[60, in_b][0] < 0.05


def test_feather_changes_only_the_hole_rim_and_removes_a_step() -> None:
    original = np.full((60, 60, 3), 0.5, np.float32)
    hole = np.zeros((60, 60), bool)
    hole[20:40, 20:40] = True
    filled = original.copy()
    filled[hole] = 0.6  # the model's fill is 0.1 too bright: a visible step at the rim
    out = feather(original, filled, hole, radius=5)
    assert np.array_equal(out[~hole], filled[~hole])
    assert abs(out[20, 30, 0] - 0.5) < 0.03  # the rim now meets its neighbours
    assert out[30, 30, 0] == pytest.approx(0.6)  # the middle keeps the model's fill


def test_plan_regions_copies_only_crops() -> None:
    pixels = np.zeros((1000, 1000, 3), np.uint8)
    mask = np.zeros((1000, 1000), bool)
    mask[10:20, 10:20] = True
    regions = plan_regions(pixels, mask, work_size=256, pad_multiple=8)
    assert len(regions) == 1
    r = regions[0]
    assert r.pixels.base is None and r.mask.base is None  # copies, not views of the photo
    assert not r.pixels.flags.writeable and not r.mask.flags.writeable
    assert r.pixels.shape[:2] == (r.crop.height, r.crop.width) and r.crop.area < 0.05 * mask.size
    assert r.own.sum() == 100
