"""Selections for the mask: rectangle, lasso polygon and magic wand, and Document.select as one undoable edit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restorer.core.document import Document
from restorer.core.image import Photo
from restorer.core.mask import BBox, magic_wand, polygon, rectangle


def _full(shape: tuple[int, int], sel: tuple[BBox, np.ndarray] | None) -> np.ndarray:
    out = np.zeros(shape, np.bool_)
    if sel is not None:
        box, region = sel
        out[box.slices] = region
    return out


def test_rectangle_takes_every_pixel_from_corner_to_corner() -> None:
    sel = _full((20, 30), rectangle((20, 30), (2.0, 3.4), (5.3, 7.5)))  # x 2..5, y 3..8 (7.5 is in pixel 8)
    expected = np.zeros((20, 30), np.bool_)
    expected[3:9, 2:6] = True
    assert np.array_equal(sel, expected)
    assert np.array_equal(_full((20, 30), rectangle((20, 30), (5.0, 7.5), (2.0, 3.0))), expected)  # any corner order
    assert rectangle((20, 30), (40.0, 40.0), (50.0, 50.0)) is None  # outside the photo
    clipped = _full((20, 30), rectangle((20, 30), (-5.0, -5.0), (3.0, 2.0)))
    assert clipped[:3, :4].all() and clipped.sum() == 12
    assert _full((20, 30), rectangle((20, 30), (4.0, 4.0), (4.0, 4.0))).sum() == 1  # one pixel


def test_polygon_fills_a_triangle_and_rejects_fewer_than_three_points() -> None:
    sel = _full((40, 40), polygon((40, 40), [(5.0, 5.0), (30.0, 5.0), (5.0, 30.0)]))
    assert sel[6, 6] and sel[5, 5] and sel[5, 30] and not sel[30, 30] and not sel[20, 20]
    area = sel.sum()
    assert 0.5 * 26 * 26 * 0.9 < area < 0.5 * 26 * 26 * 1.2
    assert polygon((40, 40), [(1.0, 1.0), (9.0, 9.0)]) is None
    with pytest.raises(ValueError):
        polygon((40, 40), [(1.0, 1.0), (float("nan"), 3.0), (5.0, 5.0)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-10, 60), st.floats(-10, 60)), min_size=3, max_size=12))
def test_polygon_stays_inside_its_points_box_and_the_photo(points: list[tuple[float, float]]) -> None:
    sel = polygon((50, 50), points)
    if sel is None:
        return
    box, region = sel
    assert box.clip((50, 50)) == box and region.shape == (box.height, box.width) and region.any()
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert box.x0 >= np.floor(min(xs)) and box.x1 <= np.ceil(max(xs)) + 1
    assert box.y0 >= np.floor(min(ys)) and box.y1 <= np.ceil(max(ys)) + 1


def test_magic_wand_takes_the_connected_similar_colour_only() -> None:
    pixels = np.zeros((30, 40, 3), np.uint8)
    pixels[5:15, 5:15] = (200, 100, 50)
    pixels[8, 8] = (210, 95, 55)  # within the tolerance: part of the patch
    pixels[20:25, 20:25] = (200, 100, 50)  # the same colour, not connected: not taken
    sel = _full((30, 40), magic_wand(pixels, (6.0, 6.0), tolerance=12))
    expected = np.zeros((30, 40), np.bool_)
    expected[5:15, 5:15] = True
    assert np.array_equal(sel, expected)
    tight = _full((30, 40), magic_wand(pixels, (6.0, 6.0), tolerance=5))
    assert not tight[8, 8] and tight[5:15, 5:15].sum() == 99
    assert magic_wand(pixels, (100.0, 1.0), 10) is None


def test_magic_wand_scales_tolerance_for_16_bit_and_reads_gray() -> None:
    gray = np.full((10, 12, 1), 30000, np.uint16)
    gray[:, 6:] = 30000 + 257 * 20  # 20 steps of 8 bits brighter
    assert _full((10, 12), magic_wand(gray, (0.0, 0.0), 10)).sum() == 60
    assert _full((10, 12), magic_wand(gray, (0.0, 0.0), 25)).sum() == 120


def test_select_adds_and_subtracts_as_one_undoable_edit() -> None:
    doc = Document(Photo(np.zeros((20, 30, 3), np.uint8)))
    edit = doc.select(rectangle(doc.shape, (2.0, 2.0), (9.0, 9.0)), "Rectangle")
    assert edit is not None and edit.kind == "mask" and doc.mask.sum() == 64
    doc.select(rectangle(doc.shape, (4.0, 4.0), (5.0, 5.0)), "Rectangle", subtract=True)
    assert doc.mask.sum() == 60 and not doc.mask[4, 4]
    doc.undo()
    assert doc.mask.sum() == 64
    doc.undo()
    assert not doc.mask.any()
    assert doc.select(None, "nothing") is None and len(doc.history) == 2
    with pytest.raises(ValueError):
        doc.select((BBox(0, 0, 5, 5), np.ones((4, 4), np.bool_)), "bad")
