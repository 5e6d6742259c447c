"""Mask operations: BBox arithmetic, the brush raster, grow/shrink/invert, bbox, components."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.core.box import BBox
from restorer.core.mask import bbox, capsule_bounds, components, dab, diff_bbox, grow, invert, segment, shrink


def _brute_capsule(shape, p0, p1, r):
    """Reference raster: a pixel centre within r of the segment, computed point by point."""
    out = np.zeros(shape, bool)
    a, b = np.array(p0, float), np.array(p1, float)
    d = b - a
    for y in range(shape[0]):
        for x in range(shape[1]):
            p = np.array([x, y], float)
            t = 0.0 if not d.any() else min(1.0, max(0.0, float((p - a) @ d / (d @ d))))
            out[y, x] = np.hypot(*(p - a - t * d)) <= max(r, 0.5)
    return out


def test_bbox_properties_and_arithmetic():
    b = BBox(2, 3, 7, 10)
    assert (b.height, b.width, b.area, b.empty) == (5, 7, 35, False)
    a = np.arange(200).reshape(10, 20)
    assert a[b.slices].shape == (5, 7) and a[b.slices][0, 0] == a[2, 3]
    assert b.union(BBox(0, 8, 3, 12)) == BBox(0, 3, 7, 12)
    assert b.union(None) == b and BBox(0, 0, 0, 0).union(b) == b
    assert b.intersect(BBox(5, 0, 20, 4)) == BBox(5, 3, 7, 4)
    assert b.intersect(BBox(7, 0, 9, 9)) is None
    assert b.pad(3, (8, 11)) == BBox(0, 0, 8, 11)
    assert BBox(-5, -5, 4, 40).clip((10, 20)) == BBox(0, 0, 4, 20)
    assert BBox(12, 0, 15, 5).clip((10, 20)).empty
    assert BBox.full((4, 6, 3)) == BBox(0, 0, 4, 6)


def test_dab_paints_disc_at_pixel_centres():
    m = np.zeros((9, 9), bool)
    box = dab(m, 4, 4, 2)
    expected = np.zeros((9, 9), bool)
    expected[4, 2:7] = True
    expected[2:7, 4] = True
    expected[3:6, 3:6] = True  # the 8 neighbours at distance sqrt(2) <= 2
    assert np.array_equal(m, expected)
    assert box == BBox(2, 2, 7, 7)


def test_thin_brush_marks_the_pixel_under_it():
    m = np.zeros((5, 5), bool)
    assert dab(m, 3, 1, 0.1) == BBox(1, 3, 2, 4)
    assert m.sum() == 1 and m[1, 3]


@pytest.mark.parametrize("p0,p1,r", [((2, 3), (17, 11), 2.5), ((5.3, 14.7), (5.3, 2.2), 1.2),
                                     ((-4, 6), (9, 6), 3), ((10, 10), (10, 10), 4.0)])
def test_segment_matches_reference_raster(p0, p1, r):
    m = np.zeros((20, 24), bool)
    box = segment(m, p0, p1, r)
    ref = _brute_capsule(m.shape, p0, p1, r)
    assert np.array_equal(m, ref)
    assert box == bbox(ref)


def test_long_segment_is_rastered_exactly_in_pieces():
    # long enough to be split into many pieces; the union must equal the one-shot capsule
    m = np.zeros((60, 400), bool)
    segment(m, (3, 4), (396, 55), 2)
    ys, xs = np.mgrid[0:60, 0:400].astype(float)
    a, d = np.array([3.0, 4.0]), np.array([393.0, 51.0])
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
    ref = np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1]) <= 2
    assert np.array_equal(m, ref)


def test_segment_erases_and_ignores_outside():
    m = np.ones((10, 10), bool)
    assert segment(m, (0, 5), (9, 5), 0.5, value=False) == BBox(5, 0, 6, 10)
    assert not m[5].any() and m[4].all() and m[6].all()
    assert segment(m, (50, 50), (60, 70), 3) is None
    assert m.sum() == 90


def test_segment_touches_only_its_box():
    m = np.zeros((1000, 1000), bool)
    bounds = capsule_bounds(m.shape, (500, 500), (510, 505), 4)
    assert bounds is not None and bounds.area < 40 * 40
    box = segment(m, (500, 500), (510, 505), 4)
    assert box is not None and bounds.union(box) == bounds
    assert bbox(m) == box


def test_segment_rejects_non_finite_and_non_bool():
    with pytest.raises(ValueError):
        segment(np.zeros((5, 5), bool), (float("nan"), 1), (2, 2), 1)
    with pytest.raises(TypeError):
        segment(np.zeros((5, 5), np.uint8), (1, 1), (2, 2), 1)


def test_grow_equals_a_dab_and_shrink_undoes_it():
    m = np.zeros((30, 30), bool)
    m[15, 12] = True
    g = grow(m, 5)
    ref = np.zeros_like(m)
    dab(ref, 12, 15, 5)
    assert np.array_equal(g, ref)
    assert np.array_equal(shrink(g, 5), m)
    assert not m[15, 13], "grow returns a new mask"
    assert np.array_equal(grow(m, 0), m) and grow(m, 0) is not m


def test_grow_and_shrink_match_whole_image_morphology():
    import cv2

    rng = np.random.default_rng(4)
    m = np.zeros((80, 90), bool)
    m[10:30, 5:40] = rng.random((20, 35)) > 0.3
    m[60:80, 70:90] = True  # touches the image edge
    yy, xx = np.mgrid[-3:4, -3:4]
    k = (xx * xx + yy * yy <= 9).astype(np.uint8)
    assert np.array_equal(grow(m, 3), cv2.dilate(m.view(np.uint8), k).astype(bool))
    assert np.array_equal(shrink(m, 3), cv2.erode(m.view(np.uint8), k).astype(bool))
    with pytest.raises(ValueError):
        grow(m, -1)


def test_invert_bbox_components():
    m = np.zeros((20, 30), bool)
    assert bbox(m) is None and components(m) == []
    m[2:5, 3:6] = True
    m[10:12, 20:29] = True
    m[5, 6] = True  # diagonal neighbour joins the first blob (8-connectivity)
    assert bbox(m) == BBox(2, 3, 12, 29)
    assert components(m) == [BBox(2, 3, 6, 7), BBox(10, 20, 12, 29)]
    inv = invert(m)
    assert inv.dtype == bool and inv.sum() == m.size - m.sum() and not np.any(inv & m)


def test_diff_bbox_over_channels():
    a = np.zeros((6, 7, 3), np.uint16)
    b = a.copy()
    assert diff_bbox(a, b) is None
    b[2, 5, 2] = 1
    b[4, 1, 0] = 9
    assert diff_bbox(a, b) == BBox(2, 1, 5, 6)
    assert diff_bbox(a[..., 0], b[..., 0]) == BBox(4, 1, 5, 2)
