"""A fill's history step keeps only the blocks that changed, and undo/redo/region_at stay exact."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.core.document import Document
from restorer.core.history import BLOCK, changed_patches
from restorer.core.image import Photo, PhotoMeta
from restorer.core.mask import BBox


def _scratch(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.line(m, (10, 10), (w - 10, h - 10), 1, 9)
    return m.astype(bool)


def test_changed_patches_cover_every_change_and_little_else():
    rng = np.random.default_rng(0)
    before = rng.integers(0, 255, (700, 900, 3), dtype=np.uint8)
    hole = _scratch(700, 900)
    after = before.copy()
    after[hole] = 7
    box = BBox(100, 200, 800, 1100)
    parts = changed_patches("photo", box, before, after)
    rebuilt = before.copy()
    for p in parts:
        rel = BBox(p.box.y0 - 100, p.box.x0 - 200, p.box.y1 - 100, p.box.x1 - 200)
        assert np.array_equal(p.before, before[rel.slices])
        rebuilt[rel.slices] = p.after
    assert np.array_equal(rebuilt, after)
    held = sum(p.box.area for p in parts)
    assert held < 0.25 * before.shape[0] * before.shape[1]  # the whole box would be 1.0
    assert all(p.box.height <= BLOCK for p in parts)
    assert changed_patches("photo", box, before, before) == []


def test_changed_patches_on_2d_masks():
    before = _scratch(300, 500)
    parts = changed_patches("mask", BBox(0, 0, 300, 500), before, np.zeros_like(before))
    assert parts and all(p.before.any() and not p.after.any() for p in parts)
    assert sum(int(p.before.sum()) for p in parts) == int(before.sum())


def test_a_scratch_fill_is_a_small_step_and_undoes_exactly():
    rng = np.random.default_rng(1)
    px = rng.integers(0, 65535, (900, 1300, 3), dtype=np.uint16)
    doc = Document(Photo(px.copy(), None, PhotoMeta(format="")))
    hole = _scratch(900, 1300)
    doc.mask[:] = hole
    filled = px.copy()
    filled[hole] = 1234
    box = BBox(0, 0, 900, 1300)
    edit = doc.apply_fill([(box, filled)], "Fill (test)")
    assert np.array_equal(doc.pixels, filled) and not doc.mask.any()
    whole_box = 2 * px.nbytes + 2 * hole.nbytes  # what one patch over the box, photo and mask, held
    assert edit.nbytes < 0.2 * whole_box
    k = doc.history.index
    assert np.array_equal(doc.history.region_at(doc.pixels, "photo", box, k - 1), px)
    doc.undo()
    assert np.array_equal(doc.pixels, px) and np.array_equal(doc.mask, hole)
    doc.redo()
    assert np.array_equal(doc.pixels, filled) and not doc.mask.any()
