"""History: patches and edits, undo/redo/goto order, the byte budget, regions at any state."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.core.history import Edit, History, Patch, apply_edit
from restorer.core.box import BBox


def _edit(arr: np.ndarray, box: BBox, value: int, label: str = "e") -> Edit:
    """Make (and apply) an edit setting ``box`` of ``arr`` to ``value``."""
    before = arr[box.slices].copy()
    arr[box.slices] = value
    return Edit(label, "fill", (Patch("photo", box, before, arr[box.slices].copy()),))


def test_patch_and_edit_validate_and_count_bytes():
    with pytest.raises(ValueError):
        Patch("layer", BBox(0, 0, 2, 2), np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        Patch("mask", BBox(0, 0, 2, 2), np.zeros((2, 2), bool), np.zeros((2, 3), bool))
    with pytest.raises(ValueError):
        Patch("mask", BBox(0, 0, 2, 3), np.zeros((2, 2), bool), np.zeros((2, 2), bool))
    with pytest.raises(ValueError):
        Edit("x", "paint", ())
    p = Patch("photo", BBox(1, 1, 3, 5), np.zeros((2, 4, 3), np.uint16), np.ones((2, 4, 3), np.uint16))
    q = Patch("mask", BBox(0, 0, 1, 2), np.zeros((1, 2), bool), np.ones((1, 2), bool))
    e = Edit("x", "fill", (p, q))
    assert p.nbytes == 2 * 2 * 4 * 3 * 2 and e.nbytes == p.nbytes + 4
    assert e.box() == BBox(0, 0, 3, 5) and e.box("mask") == BBox(0, 0, 1, 2) and e.box("photo") == p.box


def test_overlapping_patches_in_one_edit_undo_in_reverse():
    arr = np.zeros((4, 4), np.uint8)
    b1 = arr[0:2, 0:3].copy()
    arr[0:2, 0:3] = 5
    p1 = Patch("photo", BBox(0, 0, 2, 3), b1, arr[0:2, 0:3].copy())
    b2 = arr[1:3, 1:4].copy()
    arr[1:3, 1:4] = 9
    p2 = Patch("photo", BBox(1, 1, 3, 4), b2, arr[1:3, 1:4].copy())
    done = arr.copy()
    edit = Edit("two", "fill", (p1, p2))
    changed = apply_edit(edit, {"photo": arr}, forward=False)
    assert not arr.any() and changed == {"photo": BBox(0, 0, 3, 4)}
    apply_edit(edit, {"photo": arr}, forward=True)
    assert np.array_equal(arr, done)


def test_undo_redo_goto_and_push_drops_redo_tail():
    arr = np.zeros((6, 6), np.uint8)
    h = History()
    edits = [_edit(arr, BBox(i, 0, i + 1, 6), i + 1) for i in range(4)]
    for e in edits:
        h.push(e)
    assert h.index == 4 and len(h) == 4 and h.can_undo and not h.can_redo
    assert h.undo() is edits[3] and h.index == 3
    assert h.redo() is edits[3] and h.redo() is None
    moves = h.goto(1)
    assert moves == [(edits[3], False), (edits[2], False), (edits[1], False)] and h.index == 1
    assert h.goto(3) == [(edits[1], True), (edits[2], True)]
    h.goto(0)
    assert h.undo() is None and not h.can_undo
    with pytest.raises(IndexError):
        h.goto(5)
    h.goto(2)
    new = Edit("n", "mask", ())
    h.push(new)
    assert h.steps == (edits[0], edits[1], new) and h.index == 3 and not h.can_redo


def test_byte_budget_drops_oldest_and_keeps_newest():
    arr = np.zeros((10, 100), np.uint8)
    h = History(byte_budget=1000)
    dropped = []
    edits = []
    for i in range(10):
        e = _edit(arr, BBox(i, 0, i + 1, 100), i + 1)  # 200 bytes each
        edits.append(e)
        dropped.append(h.push(e))
        assert h.nbytes <= 1000
        assert h.nbytes == sum(s.nbytes for s in h.steps)
    assert h.steps == tuple(edits[5:]) and h.index == 5
    assert dropped == [0] * 5 + [1] * 5 and h.dropped == 5 and h.has_dropped("photo")
    assert not h.has_dropped("mask")
    big = _edit(arr, BBox(0, 0, 10, 100), 77)  # 2000 bytes, alone over budget
    assert h.push(big) == 5
    assert h.steps == (big,) and h.index == 1 and h.nbytes == 2000 and h.dropped == 10
    assert h.set_byte_budget(0) == 0 and h.steps == (big,)


def test_eviction_never_cuts_the_redo_path():
    arr = np.zeros((4, 10), np.uint8)
    h = History(byte_budget=10_000)
    for i in range(4):
        h.push(_edit(arr, BBox(i, 0, i + 1, 10), 1))  # 20 bytes each
    h.goto(1)
    assert h.set_byte_budget(30) == 1
    assert h.index == 0 and len(h) == 3 and h.dropped == 1  # edits ahead of the state stay


def test_region_at_any_state_without_moving():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (20, 20), dtype=np.uint8)
    states = [arr.copy()]
    h = History()
    for _ in range(8):
        y, x = rng.integers(0, 15, 2)
        h.push(_edit(arr, BBox(int(y), int(x), int(y) + 5, int(x) + 5), int(rng.integers(0, 255))))
        states.append(arr.copy())
    h.goto(3)  # moves the index only; the live array is whatever the caller holds at state 3
    live = states[3].copy()
    box = BBox(2, 4, 17, 19)
    for k in range(9):
        assert np.array_equal(h.region_at(live, "photo", box, k), states[k][box.slices])
        for stride in (2, 3, 7):  # thumbnails: every stride-th pixel of the same state
            want = states[k][box.y0:box.y1:stride, box.x0:box.x1:stride]
            assert np.array_equal(h.region_at(live, "photo", box, k, stride), want)
    assert h.index == 3


def test_applied_boxes_are_those_of_the_current_state():
    arr = np.zeros((10, 10), np.uint8)
    h = History()
    boxes = [BBox(0, 0, 2, 2), BBox(5, 5, 8, 9)]
    for i, box in enumerate(boxes):
        h.push(_edit(arr, box, i + 1))
    assert h.applied_boxes("photo") == boxes and h.applied_boxes("mask") == []
    h.undo()
    assert h.applied_boxes("photo") == boxes[:1]
