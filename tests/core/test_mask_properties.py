"""Properties of mask operations (hypothesis): grow/shrink bounds and order, invert, stroke union and
eraser difference, boxes, component counts; each also against a whole-image reference computation."""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from restorer.core import mask as masks
from restorer.core.document import Document
from restorer.core.image import Photo

# Small masks keep each example fast; sparse ones (p ~ 0.1) have several separate holes.
SHAPES = st.tuples(st.integers(1, 24), st.integers(1, 24))
FAST = settings(max_examples=60, deadline=None)


@st.composite
def mask_arrays(draw):
    # A seeded random field rather than element by element: as varied, and much faster to draw.
    shape = draw(SHAPES)
    dense = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 0.9, 1.0]))
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).random(shape) < dense


def _disc(px: int) -> np.ndarray:
    yy, xx = np.mgrid[-px:px + 1, -px:px + 1]
    return (xx * xx + yy * yy <= px * px).astype(np.uint8)


@FAST
@given(mask_arrays(), st.integers(0, 4))
def test_grow_and_shrink_equal_the_whole_image_morphology(m: np.ndarray, px: int) -> None:
    # grow/shrink work on the mask's box only; they must equal the operation on the whole image.
    u8 = m.view(np.uint8)
    assert np.array_equal(masks.grow(m, px), cv2.dilate(u8, _disc(px)).view(bool) if px else m)
    assert np.array_equal(masks.shrink(m, px), cv2.erode(u8, _disc(px)).view(bool) if px else m)


@FAST
@given(mask_arrays(), st.integers(0, 4))
def test_grow_then_shrink_bounds_the_mask(m: np.ndarray, px: int) -> None:
    grown, shrunk = masks.grow(m, px), masks.shrink(m, px)
    assert not (m & ~grown).any() and not (shrunk & ~m).any()  # shrink(m) <= m <= grow(m)
    closed = masks.shrink(grown, px)
    opened = masks.grow(shrunk, px)
    assert not (m & ~closed).any()  # closing keeps every hole pixel
    assert not (opened & ~m).any()  # opening adds none
    assert not (closed & ~grown).any()
    box = masks.bbox(m)
    if box is None:
        assert not grown.any() and not shrunk.any()
    else:
        reach = box.pad(px, m.shape)
        assert reach.union(masks.bbox(grown)) == reach  # grown pixels lie within px of the mask's box
    assert not (masks.grow(m, px) & ~masks.grow(m, px + 1)).any()  # monotone in the distance
    assert not (masks.shrink(m, px + 1) & ~masks.shrink(m, px)).any()


@FAST
@given(mask_arrays())
def test_invert_twice_is_the_identity_and_never_aliases(m: np.ndarray) -> None:
    inv = masks.invert(m)
    assert np.array_equal(inv, ~m) and not np.shares_memory(inv, m)
    again = masks.invert(inv)
    assert np.array_equal(again, m) and again.dtype == np.bool_
    # grow is shrink of the complement, complemented (De Morgan for morphology, symmetric disc)
    assert np.array_equal(masks.grow(m, 2), masks.invert(masks.shrink(masks.invert(m), 2)))


@FAST
@given(mask_arrays(), mask_arrays())
def test_boxes_of_union_and_difference(a: np.ndarray, b_any: np.ndarray) -> None:
    b = np.resize(b_any, a.shape)
    ua, ub, uab = masks.bbox(a), masks.bbox(b), masks.bbox(a | b)
    if ua is None or ub is None:
        assert uab == (ua or ub)
    else:
        assert uab == ua.union(ub)
    d = masks.diff_bbox(a, b)
    assert d == masks.bbox(a ^ b)
    if d is not None:  # outside the diff box, a and b agree
        outside = np.ones(a.shape, bool)
        outside[d.slices] = False
        assert np.array_equal(a[outside], b[outside])


STROKE = st.tuples(st.floats(-3, 27), st.floats(-3, 27), st.floats(-3, 27), st.floats(-3, 27), st.floats(0, 5))


def _painted(shape: tuple[int, int], stroke: tuple[float, ...]) -> np.ndarray:
    m = np.zeros(shape, bool)
    x0, y0, x1, y1, r = stroke
    masks.segment(m, (x0, y0), (x1, y1), r)
    return m


@FAST
@given(SHAPES, st.lists(STROKE, min_size=1, max_size=4), st.lists(STROKE, max_size=3), st.randoms())
def test_brush_strokes_are_a_union_and_the_eraser_a_difference(shape, brushes, erasers, rnd) -> None:
    doc = Document(Photo(np.zeros((*shape, 1), np.uint8)))
    union = np.zeros(shape, bool)
    for s in brushes:
        union |= _painted(shape, s)
    for s in rnd.sample(brushes, len(brushes)):  # any order gives the same mask
        doc.begin_stroke()
        doc.paint(s[:2], s[2:4], s[4])
        doc.commit_stroke()
    assert np.array_equal(doc.mask, union)
    expected = union.copy()
    for s in erasers:
        expected &= ~_painted(shape, s)
        doc.begin_stroke(erase=True)
        doc.paint(s[:2], s[2:4], s[4])
        doc.commit_stroke()
    assert np.array_equal(doc.mask, expected)


@FAST
@given(mask_arrays())
def test_components_match_a_whole_image_labelling(m: np.ndarray) -> None:
    boxes = masks.components(m)
    count, _ = cv2.connectedComponents(m.view(np.uint8), connectivity=8)
    assert len(boxes) == count - 1
    assert boxes == sorted(boxes)
    covered = np.zeros(m.shape, bool)
    for box in boxes:
        covered[box.slices] = True
        assert m[box.slices].any()
    assert not (m & ~covered).any()  # every hole pixel is in some component's box


@FAST
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(1, 3)),
                min_size=0, max_size=9, unique_by=lambda t: (t[0], t[1])), st.integers(0, 3))
def test_separate_blocks_count_one_each_and_growing_never_adds_components(cells, px) -> None:
    # Blocks in a 4 x 4 grid of 8 x 8 cells (at most 3 x 3 each) never touch: one component each.
    m = np.zeros((32, 32), bool)
    for cy, cx, h, w in cells:
        m[cy * 8 : cy * 8 + h, cx * 8 : cx * 8 + w] = True
    assert len(masks.components(m)) == len(cells)
    assert len(masks.components(masks.grow(m, px))) <= len(cells)
    assert len(masks.components(masks.invert(m))) == 1  # the gaps between the blocks stay connected
