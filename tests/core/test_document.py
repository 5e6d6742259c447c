"""Document: strokes as single edits, fills, mask operations, exact undo/redo/goto, events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from restorer.core.document import Document, DocumentEvent
from restorer.core.image import Photo, PhotoMeta, load_photo
from restorer.core.box import BBox
from restorer.core.mask import segment
from restorer.errors import MaskError, PhotoBusy, RestorerError


def make_photo(pixels: np.ndarray, path: Path | None = None) -> Photo:
    return Photo(pixels=pixels, alpha=None, meta=PhotoMeta(format="PNG"), path=path)


def random_photo(rng: np.random.Generator, h: int, w: int, c: int, dtype: type) -> Photo:
    top = np.iinfo(dtype).max
    return make_photo(rng.integers(0, top, (h, w, c), dtype=dtype, endpoint=True))


@pytest.fixture
def doc() -> Document:
    return Document(random_photo(np.random.default_rng(1), 60, 80, 3, np.uint8))


# -- strokes -------------------------------------------------------------------------------


def test_drag_paints_where_it_went_and_is_one_edit(doc):
    doc.begin_stroke()
    pts = [(10, 10), (20, 12), (35, 30), (36, 50)]
    for a, b in zip(pts, pts[1:]):
        doc.paint(a, b, 3)
    assert doc.mask.any(), "paint is live, before commit"
    edit = doc.commit_stroke()
    expected = np.zeros_like(doc.mask)
    for a, b in zip(pts, pts[1:]):
        segment(expected, a, b, 3)
    assert np.array_equal(doc.mask, expected)
    assert doc.mask[10, 10] and doc.mask[50, 36] and not doc.mask[50, 10]
    assert len(doc.history) == 1 and edit is doc.history.steps[0]
    assert edit.kind == "stroke" and edit.label == "Brush" and len(edit.patches) == 1
    patch = edit.patches[0]
    assert patch.target == "mask" and patch.box == BBox(7, 7, 54, 40)
    assert not patch.before.any() and np.array_equal(patch.after, expected[patch.box.slices])


def test_erase_stroke_and_no_op_stroke(doc):
    doc.mask[20:30, :] = True
    doc.begin_stroke(erase=True)
    doc.paint((0, 25), (79, 25), 0.5)
    edit = doc.commit_stroke("Erase line")
    assert edit.kind == "erase" and edit.label == "Erase line"
    assert not doc.mask[25].any() and doc.mask[24].all() and doc.mask[26].all()
    assert edit.patches[0].box == BBox(25, 0, 26, 80)
    # erasing where nothing is painted changes nothing: no history step
    doc.begin_stroke(erase=True)
    assert doc.paint((5, 5), (10, 5), 2) is not None
    assert doc.commit_stroke() is None and len(doc.history) == 1
    doc.begin_stroke()
    assert doc.paint((500, 500), (600, 500), 2) is None
    assert doc.commit_stroke() is None


def test_paint_outside_a_stroke_is_an_error(doc):
    with pytest.raises(RuntimeError):
        doc.paint((1, 1), (2, 2), 1)


def test_abort_restores_the_mask_across_tiles():
    rng = np.random.default_rng(2)
    d = Document(random_photo(rng, 600, 700, 1, np.uint16))
    d.mask[:] = rng.random(d.mask.shape) > 0.7
    before = d.mask.copy()
    rev = d.revision
    d.begin_stroke()
    d.paint((10, 10), (650, 580), 30)  # crosses many 256-pixel tiles
    d.paint((650, 580), (20, 590), 12)
    assert not np.array_equal(d.mask, before)
    d.abort_stroke()
    assert np.array_equal(d.mask, before)
    assert len(d.history) == 0 and not d.stroke_active and d.revision > rev
    d.begin_stroke(erase=True)
    d.paint((100, 100), (300, 300), 40)
    d.abort_stroke()
    assert np.array_equal(d.mask, before)


def test_a_new_stroke_or_undo_commits_the_open_one(doc):
    doc.begin_stroke()
    doc.paint((5, 5), (15, 5), 2)
    doc.begin_stroke()  # the first drag's release was lost
    doc.paint((5, 40), (15, 40), 2)
    assert len(doc.history) == 1
    doc.undo()  # commits the second drag, then undoes it
    assert len(doc.history) == 2 and doc.history.index == 1
    assert doc.mask[5, 10] and not doc.mask[40, 10]


def test_short_stroke_on_100_megapixel_mask_copies_a_small_area():
    photo = make_photo(np.zeros((10_000, 10_000, 1), np.uint8))
    d = Document(photo, byte_budget=1 << 30)
    d.begin_stroke()
    for i in range(5):
        d.paint((5000 + 4 * i, 7000), (5004 + 4 * i, 7002), 6)
        # the undo snapshot holds at most the few tiles the stroke reached, not the mask
        assert d.stroke_nbytes <= 4 * 256 * 256
    edit = d.commit_stroke()
    (patch,) = edit.patches
    assert patch.box == BBox(6994, 4994, 7009, 5027)
    assert patch.before.shape == patch.after.shape == (15, 33) and edit.nbytes == 2 * 15 * 33
    assert d.history.nbytes == edit.nbytes
    d.undo()
    assert not d.mask[6990:7010, 4990:5040].any()
    d.redo()
    assert d.mask[7000, 5000] and int(d.mask[6990:7010, 4990:5040].sum()) == int(patch.after.sum())


def test_long_diagonal_drag_on_100_megapixel_mask_stores_only_touched_tiles():
    d = Document(make_photo(np.zeros((10_000, 10_000, 1), np.uint8)))
    d.begin_stroke()
    pts = [(100 + 98 * i, 150 + 97 * i) for i in range(101)]  # mouse events along a diagonal
    for a, b in zip(pts, pts[1:]):
        d.paint(a, b, 10)
    painted = int(d.mask.sum())
    assert d.stroke_nbytes <= 400 * 256 * 256  # ~ the tiles along the line, not 10 000 x 10 000
    edit = d.commit_stroke()
    assert len(edit.patches) > 50 and edit.nbytes < 20_000_000
    assert sum(int(p.after.sum()) - int(p.before.sum()) for p in edit.patches) == painted
    assert edit.box("mask") == BBox(140, 90, 9861, 9911)
    d.undo()
    assert not d.mask.any()
    d.redo()
    assert int(d.mask.sum()) == painted and d.mask[5000, (5000 - 150) * 98 // 97 + 100]


# -- fills ---------------------------------------------------------------------------------


def test_apply_fill_is_one_edit_and_undo_restores_photo_and_mask(doc):
    pixels0 = doc.pixels.copy()
    doc.mask[10:20, 10:30] = True
    mask0 = doc.mask.copy()
    new1 = np.full((12, 22, 3), 7, np.uint8)
    new2 = np.full((5, 5, 3), 200, np.uint8)
    edit = doc.apply_fill([(BBox(9, 9, 21, 31), new1), (BBox(18, 28, 23, 33), new2)], "Fill (telea)",
                          meta={"model": "telea"})
    assert edit.kind == "fill" and edit.meta == {"model": "telea"} and len(doc.history) == 1
    assert not doc.mask.any()
    assert (doc.pixels[9:18, 9:28] == 7).all() and (doc.pixels[18:23, 28:33] == 200).all()
    assert [p.target for p in edit.patches] == ["photo", "photo", "mask"]
    doc.undo()
    assert np.array_equal(doc.pixels, pixels0) and np.array_equal(doc.mask, mask0)
    doc.redo()
    assert (doc.pixels[18:23, 28:33] == 200).all() and not doc.mask.any()


def test_apply_fill_keeps_only_changed_pixels_and_keeps_mask_when_asked(doc):
    doc.mask[30:35, 40:45] = True
    crop = doc.pixels[20:50, 30:60].copy()
    crop[12:14, 11:16] = 0  # the only change inside a 30 x 30 crop
    crop[12:14, 11:16, 1] = 1
    edit = doc.apply_fill([(BBox(20, 30, 50, 60), crop)], "Fill", clear_mask=False)
    (patch,) = edit.patches
    assert patch.box == BBox(32, 41, 34, 46) and patch.after.shape == (2, 5, 3)
    assert doc.mask.sum() == 25


@pytest.mark.parametrize("box,arr", [
    (BBox(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint16)),       # wrong dtype
    (BBox(0, 0, 4, 4), np.zeros((4, 5, 3), np.uint8)),        # wrong size
    (BBox(0, 0, 4, 4), np.zeros((4, 4, 1), np.uint8)),        # wrong channels
    (BBox(0, 0, 4, 4), np.zeros((4, 4), np.uint8)),           # missing channel axis
    (BBox(58, 0, 62, 4), np.zeros((4, 4, 3), np.uint8)),      # outside the photo
    (BBox(3, 3, 3, 8), np.zeros((0, 5, 3), np.uint8)),        # empty
])
def test_apply_fill_validates_every_patch_before_changing_anything(doc, box, arr):
    pixels0 = doc.pixels.copy()
    doc.mask[1:3, 1:3] = True
    rev = doc.revision
    good = (BBox(10, 10, 12, 12), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError):
        doc.apply_fill([good, (box, arr)], "bad")
    assert np.array_equal(doc.pixels, pixels0) and doc.mask.sum() == 4
    assert len(doc.history) == 0 and doc.revision == rev


# -- mask operations -------------------------------------------------------------------------


def test_mask_operations_are_undoable_edits(doc):
    doc.mask[20:30, 20:30] = True
    m0 = doc.mask.copy()
    assert doc.grow_mask(2).kind == "mask" and doc.mask[18, 25] and not doc.mask[17, 25]
    doc.shrink_mask(4)
    assert doc.mask[22:28, 22:28].all() and not doc.mask[21, 25]
    doc.invert_mask()
    assert doc.mask[0, 0] and not doc.mask[25, 25]
    doc.clear_mask()
    assert not doc.mask.any()
    assert doc.clear_mask() is None and len(doc.history) == 4
    new = np.zeros(doc.shape, np.uint8)
    new[0:5, 0:5] = 255
    edit = doc.set_mask(new)
    assert edit.label == "Import mask" and doc.mask.sum() == 25 and doc.mask.dtype == bool
    doc.goto(0)
    assert np.array_equal(doc.mask, m0)
    assert [doc.step(k).label for k in (1, 2, 3, 4)] == ["Grow mask 2 px", "Shrink mask 4 px", "Invert mask",
                                                         "Clear mask"]
    assert [p.target for p in doc.step_patches(1)] == ["mask"] and doc.step_region(1, "photo") is None
    with pytest.raises(IndexError):
        doc.step(0)
    with pytest.raises(IndexError):
        doc.goto(6)
    with pytest.raises(MaskError):
        doc.set_mask(np.zeros((10, 10), bool))


# -- exact round trips -----------------------------------------------------------------------


def _random_op(d: Document, rng: np.random.Generator) -> str:
    h, w = d.shape
    choice = rng.integers(0, 10)
    if choice < 4:
        d.begin_stroke(erase=bool(rng.integers(0, 3) == 0))
        pts = rng.uniform(-10, [w + 10, h + 10], (int(rng.integers(2, 6)), 2))
        for a, b in zip(pts, pts[1:]):
            d.paint(tuple(a), tuple(b), float(rng.uniform(0.3, 25)))
        if rng.integers(0, 5) == 0:
            d.abort_stroke()
            return "abort"
        d.commit_stroke()
        return "stroke"
    if choice < 7:
        patches = []
        for _ in range(int(rng.integers(1, 4))):
            y0, x0 = int(rng.integers(0, h - 1)), int(rng.integers(0, w - 1))
            y1, x1 = int(rng.integers(y0 + 1, h + 1)), int(rng.integers(x0 + 1, w + 1))
            top = np.iinfo(d.pixels.dtype).max
            arr = rng.integers(0, top, (y1 - y0, x1 - x0, d.pixels.shape[2]), endpoint=True,
                               dtype=d.pixels.dtype)
            patches.append((BBox(y0, x0, y1, x1), arr))
        d.apply_fill(patches, "Fill", clear_mask=bool(rng.integers(0, 4) != 0))
        return "fill"
    op = int(rng.integers(0, 4))
    if op == 0:
        d.grow_mask(int(rng.integers(1, 6)))
    elif op == 1:
        d.shrink_mask(int(rng.integers(1, 4)))
    elif op == 2:
        d.invert_mask()
    else:
        d.clear_mask()
    return "mask"


@pytest.mark.parametrize("dtype,channels", [(np.uint8, 1), (np.uint8, 3), (np.uint16, 1), (np.uint16, 3)])
def test_random_edits_undo_redo_goto_restore_exact_arrays(dtype, channels):
    rng = np.random.default_rng(1234 + channels)
    d = Document(random_photo(rng, 270, 300, channels, dtype))  # spans 256-pixel tiles
    snaps = [(d.pixels.copy(), d.mask.copy())]  # snaps[k] = state k

    def check(k: int) -> None:
        assert d.history.index == k
        assert np.array_equal(d.pixels, snaps[k][0]) and np.array_equal(d.mask, snaps[k][1])
        assert d.pixels.dtype == dtype and d.pixels.shape[2] == channels

    for _ in range(60):
        r = rng.integers(0, 8)
        if r == 0 and d.can_undo:
            d.undo()
            check(d.history.index)
            continue
        if r == 1 and d.can_redo:
            d.redo()
            check(d.history.index)
            continue
        start, count = d.history.index, len(d.history)
        _random_op(d, rng)
        if len(d.history) != count or d.history.index != start:  # a step was pushed
            assert d.history.index == start + 1
            del snaps[start + 1:]
            snaps.append((d.pixels.copy(), d.mask.copy()))
        check(d.history.index)
    n = len(d.history)
    assert n >= 8
    for k in list(rng.permutation(n + 1)) + [0, n]:
        d.goto(int(k))
        check(int(k))
    while d.undo() is not None:
        check(d.history.index)
    while d.redo() is not None:
        check(d.history.index)
    assert np.array_equal(d.original_pixels(), snaps[0][0])
    box = BBox(100, 50, 200, 290)
    assert np.array_equal(d.original_pixels(box), snaps[0][0][box.slices])
    for k in range(1, n + 1):
        for target, i in (("photo", 0), ("mask", 1)):
            view = d.step_region(k, target, pad=3)
            if view is None:
                assert np.array_equal(snaps[k - 1][i], snaps[k][i])
                continue
            box, before, after = view
            assert np.array_equal(before, snaps[k - 1][i][box.slices])
            assert np.array_equal(after, snaps[k][i][box.slices])


def test_byte_budget_evicts_oldest_keeps_newest_and_stays_exact():
    rng = np.random.default_rng(5)
    d = Document(random_photo(rng, 64, 64, 3, np.uint16), byte_budget=60_000)
    snaps = [(d.pixels.copy(), d.mask.copy())]
    for i in range(12):
        arr = rng.integers(0, 65535, (20, 40, 3), dtype=np.uint16)  # 2 x 4800 bytes
        edit = d.apply_fill([(BBox(i * 3, 0, i * 3 + 20, 40), arr)], f"fill {i}")
        snaps.append((d.pixels.copy(), d.mask.copy()))
        assert d.history.nbytes <= 60_000
        assert d.history.steps[-1] is edit
    dropped = d.history.dropped
    assert dropped > 0 and len(d.history) + dropped == 12
    d.goto(0)
    assert np.array_equal(d.pixels, snaps[dropped][0])
    # one edit larger than the whole budget is still kept (alone)
    big = rng.integers(0, 65535, (100, 100, 3), dtype=np.uint16)
    d2 = Document(make_photo(np.zeros((100, 100, 3), np.uint16)), byte_budget=60_000)
    for i in range(3):
        d2.apply_fill([(BBox(i, 0, i + 1, 100), np.ones((1, 100, 3), np.uint16))], f"line {i}")
    state3 = d2.pixels.copy()
    d2.apply_fill([(BBox(0, 0, 100, 100), big | 1)], "big")
    assert len(d2.history) == 1 and d2.history.nbytes > 60_000 and d2.history.index == 1
    assert d2.history.dropped == 3
    d2.undo()
    assert np.array_equal(d2.pixels, state3)
    with pytest.raises(RestorerError):
        d.original_pixels()  # dropped photo edits and no file to reload from


def test_original_pixels_survive_mask_only_eviction():
    rng = np.random.default_rng(6)
    d = Document(random_photo(rng, 40, 40, 1, np.uint8), byte_budget=500)
    original = d.pixels.copy()
    arr = np.zeros((5, 5, 1), np.uint8)
    arr[...] = d.pixels[0:5, 0:5] ^ 1
    d.apply_fill([(BBox(0, 0, 5, 5), arr)], "fill", clear_mask=False)
    for i in range(6):
        d.begin_stroke()
        d.paint((5, 10 + 4 * i), (30, 10 + 4 * i), 1)
        d.commit_stroke()
    assert d.history.dropped > 0 and d.history.has_dropped("photo")
    d2 = Document(random_photo(rng, 40, 40, 1, np.uint8), byte_budget=300)
    original2 = d2.pixels.copy()
    for i in range(6):
        d2.begin_stroke()
        d2.paint((5, 10 + 4 * i), (30, 10 + 4 * i), 1)
        d2.commit_stroke()
    d2.apply_fill([(BBox(0, 0, 5, 5), np.zeros((5, 5, 1), np.uint8))], "fill")
    assert d2.history.dropped > 0 and not d2.history.has_dropped("photo")
    assert np.array_equal(d2.original_pixels(), original2)
    assert not np.array_equal(d.pixels, original)


def test_original_pixels_reload_the_file_once_photo_steps_were_dropped(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 255, (40, 50), dtype=np.uint8)
    path = tmp_path / "scan.png"
    Image.fromarray(pixels).save(path)
    d = Document(load_photo(path), byte_budget=3000)
    for i in range(5):
        arr = rng.integers(0, 255, (20, 30, 1), dtype=np.uint8)
        d.apply_fill([(BBox(i, i, i + 20, i + 30), arr)], f"fill {i}")
    assert d.history.has_dropped("photo") and not np.array_equal(d.pixels[..., 0], pixels)
    assert np.array_equal(d.original_pixels()[..., 0], pixels)
    assert np.array_equal(d.original_pixels(BBox(5, 6, 25, 30))[..., 0], pixels[5:25, 6:30])
    d.mark_saved(path)  # the user chose to overwrite the original
    with pytest.raises(RestorerError):
        d.original_pixels()


# -- revision, dirty, events ---------------------------------------------------------------


def test_revision_dirty_and_events(doc, tmp_path):
    events: list[DocumentEvent] = []
    doc.add_listener(events.append)
    assert doc.revision == 0 and not doc.dirty
    doc.begin_stroke()
    box = doc.paint((10, 10), (20, 10), 2)
    assert events == [DocumentEvent("mask", box)] and doc.revision == 1 and doc.dirty
    doc.paint((20, 10), (20, 20), 2)
    assert doc.revision == 2
    doc.commit_stroke()
    assert events[-1] == DocumentEvent("history") and doc.revision == 2
    events.clear()
    fill = doc.apply_fill([(BBox(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint8))], "Fill")
    assert [e.kind for e in events] == ["photo", "mask", "history"] and doc.revision == 3
    assert events[0].box == fill.box("photo") and events[1].box == BBox(8, 8, 23, 23)
    doc.mark_saved(tmp_path / "out.png")
    assert not doc.dirty and events[-1] == DocumentEvent("saved") and doc.saved_path == tmp_path / "out.png"
    events.clear()
    doc.undo()
    assert doc.revision == 4 and doc.dirty
    assert [e.kind for e in events] == ["photo", "mask", "history"]
    doc.redo()
    assert doc.revision == 5 and doc.dirty  # back at the saved pixels, but a later revision
    doc.goto(0)
    assert doc.revision == 6 and events[-1] == DocumentEvent("history")
    doc.goto(0)  # already there: no change, no revision
    assert doc.revision == 6
    doc.remove_listener(events.append)
    n = len(events)
    doc.redo()
    assert len(events) == n


def test_mark_saved_at_the_revision_a_background_save_started_from(doc, tmp_path):
    doc.apply_fill([(BBox(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint8))], "Fill")
    written = doc.revision  # the save starts here and writes these pixels
    doc.begin_stroke()
    doc.paint((10, 10), (20, 10), 2)  # the user paints while it writes
    doc.mark_saved(tmp_path / "out.png", revision=written)
    assert doc.dirty and doc.stroke_active and doc.saved_path == tmp_path / "out.png"
    doc.mark_saved(tmp_path / "out.png")  # a save of the state now: the stroke is committed first
    assert not doc.dirty and not doc.stroke_active and doc.history.steps[-1].label == "Brush"


def test_a_locked_photo_refuses_photo_changes_and_keeps_mask_changes(doc):
    doc.begin_stroke()
    doc.paint((10, 10), (30, 10), 3)
    doc.commit_stroke()
    doc.apply_fill([(BBox(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint8))], "Fill")
    doc.begin_stroke()
    doc.paint((40, 40), (50, 40), 3)
    doc.commit_stroke()
    pixels, index = doc.pixels.copy(), doc.history.index
    doc.lock_photo("Saving out.png")
    assert doc.photo_lock == "Saving out.png"
    with pytest.raises(PhotoBusy, match="Saving out.png"):
        doc.lock_photo("another save")
    doc.undo()  # the last stroke: mask only
    assert doc.history.index == index - 1
    revision = doc.revision
    for change in (doc.undo, lambda: doc.goto(0),
                   lambda: doc.apply_fill([(BBox(0, 0, 2, 2), np.ones((2, 2, 3), np.uint8))], "Fill")):
        with pytest.raises(PhotoBusy):
            change()
        assert np.array_equal(doc.pixels, pixels) and doc.history.index == index - 1 and doc.revision == revision
    doc.redo()  # the stroke again: mask only
    doc.invert_mask()
    doc.undo()
    assert doc.history.index == index and np.array_equal(doc.pixels, pixels)
    doc.unlock_photo()
    assert doc.photo_lock is None
    doc.goto(0)
    assert not doc.mask.any() and not np.array_equal(doc.pixels, pixels)
    doc.lock_photo("Saving")
    doc.redo()  # the first stroke: mask only
    with pytest.raises(PhotoBusy):
        doc.redo()  # the fill
    assert doc.history.index == 1


def test_read_only_pixels_are_copied_not_written():
    pixels = np.zeros((10, 10, 3), np.uint8)
    pixels.flags.writeable = False
    d = Document(make_photo(pixels))
    d.apply_fill([(BBox(0, 0, 2, 2), np.ones((2, 2, 3), np.uint8))], "Fill")
    assert not pixels.any() and d.pixels[0, 0, 0] == 1
    with pytest.raises(ValueError):
        Document(make_photo(np.zeros((10, 10), np.uint8)))
    with pytest.raises(ValueError):
        Document(make_photo(np.zeros((10, 10, 3), np.float32)))


def test_photo_dirty_counts_photo_changes_only(tmp_path):
    doc = Document(Photo(np.zeros((20, 30, 3), np.uint8)))
    doc.begin_stroke()
    doc.paint((5, 5), (10, 5), 2)
    doc.commit_stroke()
    assert doc.dirty and not doc.photo_dirty
    doc.apply_fill([(BBox(0, 0, 4, 4), np.full((4, 4, 3), 9, np.uint8))], "Fill")
    assert doc.photo_dirty
    doc.mark_saved(tmp_path / "out.png")
    assert not doc.dirty and not doc.photo_dirty
    doc.undo()  # the fill's undo changes the photo again
    assert doc.photo_dirty
    doc.redo()
    doc.mark_saved(tmp_path / "out.png")
    doc.invert_mask()
    assert doc.dirty and not doc.photo_dirty


def test_a_save_that_did_not_lock_the_photo_passes_the_photo_revision_it_wrote(tmp_path):
    doc = Document(Photo(np.zeros((20, 30, 3), np.uint8)))
    revision, photo_revision = doc.revision, doc.photo_revision  # a project snapshot starts here
    doc.apply_fill([(BBox(0, 0, 4, 4), np.full((4, 4, 3), 9, np.uint8))], "Fill")  # lands during the write
    doc.mark_saved(tmp_path / "p.restorer", revision=revision, photo_revision=photo_revision)
    assert doc.dirty and doc.photo_dirty  # the fill is not in the file
