"""Edges mode's guide lines in the document: strokes over two layers, one history step each, undone
with the fills that used them, kept exactly through the history's patches."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.core.box import BBox
from restorer.core.document import Document
from restorer.core.image import Photo, PhotoMeta


@pytest.fixture
def doc() -> Document:
    pixels = np.random.default_rng(3).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    return Document(Photo(pixels=pixels, alpha=None, meta=PhotoMeta(format="PNG"), path=None))


def _stroke(doc: Document, p0, p1, radius: float, erase: bool = False):
    events = []
    doc.add_listener(events.append)
    doc.begin_stroke(erase=erase, layer="guides")
    doc.paint(p0, p1, radius)
    edit = doc.commit_stroke()
    doc.remove_listener(events.append)
    return edit, [e.kind for e in events]


def test_a_guide_stroke_is_one_step_and_leaves_the_mask_alone(doc):
    edit, kinds = _stroke(doc, (10, 20), (50, 20), 1)
    assert edit is not None and edit.kind == "guide" and edit.label == "Guide line"
    assert {p.target for p in edit.patches} <= {"guides", "unguides"}
    assert doc.guides[20, 10:51].all() and not doc.guides[25].any() and not doc.mask.any()
    assert "guides" in kinds and "mask" not in kinds and kinds[-1] == "history"
    assert doc.dirty and not doc.photo_dirty


def test_the_eraser_marks_edges_away_and_the_brush_takes_that_back(doc):
    _stroke(doc, (10, 20), (50, 20), 1)
    edit, _ = _stroke(doc, (28, 20), (32, 20), 3, erase=True)
    assert edit.kind == "guide-erase" and edit.label == "Erase guide lines"
    assert not doc.guides[20, 29:32].any() and doc.unguides[20, 30] and doc.unguides[18, 30]
    _stroke(doc, (30, 10), (30, 30), 1)  # a brush line across the erased part clears ``unguides`` under it
    assert doc.guides[20, 30] and not doc.unguides[20, 30] and doc.unguides[20, 28]


def test_undo_redo_and_goto_swap_the_guide_layers_exactly(doc):
    states = [(doc.guides.copy(), doc.unguides.copy())]
    for p0, p1, r, erase in [((5, 5), (60, 40), 1, False), ((20, 10), (20, 40), 1, False),
                             ((30, 25), (35, 28), 4, True), ((0, 49), (69, 0), 1, False)]:
        _stroke(doc, p0, p1, r, erase)
        states.append((doc.guides.copy(), doc.unguides.copy()))
    for k in [2, 0, 4, 1, 3]:
        doc.goto(k)
        assert np.array_equal(doc.guides, states[k][0]) and np.array_equal(doc.unguides, states[k][1])
    doc.undo()
    assert np.array_equal(doc.guides, states[2][0])
    doc.redo()
    assert np.array_equal(doc.guides, states[3][0])


def test_an_aborted_guide_stroke_leaves_nothing(doc):
    doc.begin_stroke(layer="guides")
    doc.paint((10, 10), (40, 10), 1)
    assert doc.guides.any()
    doc.abort_stroke()
    assert not doc.guides.any() and len(doc.history) == 0


def test_a_fill_clears_the_guides_with_the_mask_and_its_undo_brings_them_back(doc):
    doc.begin_stroke()
    doc.paint((20, 20), (40, 20), 5)
    doc.commit_stroke()
    _stroke(doc, (18, 20), (42, 20), 1)
    _stroke(doc, (25, 20), (27, 20), 2, erase=True)
    lines, erased, mask = doc.guides.copy(), doc.unguides.copy(), doc.mask.copy()
    box = BBox(10, 10, 30, 50)
    doc.apply_fill([(box, np.zeros((20, 40, 3), np.uint8))], "Fill")
    assert not doc.guides.any() and not doc.unguides.any() and not doc.mask.any()
    doc.undo()
    assert np.array_equal(doc.guides, lines) and np.array_equal(doc.unguides, erased)
    assert np.array_equal(doc.mask, mask)


def test_a_stroke_names_its_layer(doc):
    with pytest.raises(ValueError, match="guides"):
        doc.begin_stroke(layer="photo")
