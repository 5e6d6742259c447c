"""A finished fill's step and display tiles are made in the worker; the GUI thread only swaps them in,
and the document, its history and the display end exactly as the GUI-thread path left them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import Qt

from restorer.core.box import BBox
from restorer.core.document import Document
from restorer.core.history import changed_patches
from restorer.core.image import Photo, PhotoMeta
from restorer.ui.convert import MaskPyramid, Pyramid, RgbPyramid
from restorer.ui.display_tiles import fill_tiles, pyramid_tiles
from restorer.ui.fill_result import prepare_result


def _levels_equal(a, b) -> bool:
    return len(a.levels) == len(b.levels) and all(np.array_equal(x, y) for x, y in zip(a.levels, b.levels))


def test_tiles_are_what_a_box_update_writes_through_every_level():
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 65535, (1101, 1377, 3), dtype=np.uint16, endpoint=True)  # odd sizes: edge blocks
    new = pixels.copy()
    hole = np.zeros(pixels.shape[:2], bool)
    for i in range(0, 1000, 7):
        hole[i + 50:i + 60, i + 20:i + 31] = True  # a diagonal scratch, many 64-px blocks
    new[hole] = rng.integers(0, 65535, (int(hole.sum()), 3), dtype=np.uint16)
    patches = changed_patches("photo", BBox(0, 0, *pixels.shape[:2]), pixels, new)
    assert len(patches) > 10
    shown, expected = RgbPyramid(pixels), RgbPyramid(pixels)
    mask_shown, mask_expected = MaskPyramid(hole), MaskPyramid(hole)
    cleared = changed_patches("mask", BBox(0, 0, *hole.shape), hole, np.zeros_like(hole))
    tiles = fill_tiles(shown, mask_shown, patches + cleared)
    assert _levels_equal(shown, expected), "making tiles changes nothing"
    expected.refresh(new, None)
    mask_expected.levels[0][...] = False
    mask_expected.update(None)
    assert tiles["photo"].swap(shown) and tiles["mask"].swap(mask_shown)
    assert _levels_equal(shown, expected) and _levels_equal(mask_shown, mask_expected)
    assert not tiles["photo"].swap(RgbPyramid(pixels)), "tiles go only into the pyramid they were made for"


def test_tiles_of_boxes_that_touch_at_odd_edges_match_pyramid_update():
    rng = np.random.default_rng(6)
    base = rng.integers(0, 255, (333, 517, 4), dtype=np.uint8)
    a, b = Pyramid(base.copy()), Pyramid(base.copy())
    assert len(a.levels) >= 2
    boxes = [(31, 77, 129, 301), (129, 77, 203, 155), (129, 155, 333, 517)]  # neighbours share 2 x 2 blocks
    tiles = [(box, rng.integers(0, 255, (box[2] - box[0], box[3] - box[1], 4), dtype=np.uint8)) for box in boxes]
    made = pyramid_tiles(b, tiles)
    for (y0, x0, y1, x1), tile in tiles:
        a.levels[0][y0:y1, x0:x1] = tile
    a.update((31, 77, 333, 517))
    assert made.swap(b) and _levels_equal(a, b)


def test_a_result_without_region_copies_is_left_to_the_gui_thread():
    pixels = np.zeros((40, 40, 3), np.uint8)
    region = SimpleNamespace(patch=BBox(0, 0, 10, 10), crop=BBox(0, 0, 20, 20), pixels=pixels[:20, :20].copy())
    job = SimpleNamespace(regions=(region,), shape=pixels.shape, dtype=pixels.dtype, revision=3)
    elsewhere = SimpleNamespace(patches=[(BBox(20, 20, 30, 30), np.ones((10, 10, 3), np.uint8))])
    assert prepare_result(job, elsewhere, {}, None, None).step is None
    ours = SimpleNamespace(patches=[(BBox(0, 0, 10, 10), np.ones((10, 10, 3), np.uint8))])
    done = prepare_result(job, ours, {"mask": np.zeros((40, 40), bool)}, None, None)
    assert done.step is not None and done.step.revision == 3 and done.step.boxes == {"photo": BBox(0, 0, 10, 10)}


def test_a_window_fill_applies_the_prepared_step_exactly(qtbot, window, photo_png, ui, monkeypatch):
    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(40, 30), (70, 60), (100, 90), (160, 100)])
    hole = doc.mask.copy()
    finished = []
    on_finished = window.fills._on_finished
    monkeypatch.setattr(window.fills, "_on_finished", lambda f: (finished.append(f), on_finished(f)))
    gui_thread_fills = []
    monkeypatch.setattr(doc, "apply_fill", lambda *a, **k: gui_thread_fills.append(a))
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000) as applied:
        window.actions.fill.trigger()
    assert not gui_thread_fills, "the step was prepared in the worker"
    assert finished[0].step is not None and set(finished[0].tiles) == {"photo", "mask"}
    edit = applied.args[0]
    # the same step the GUI-thread path makes from the same result
    twin = Document(Photo(pixels=original.copy(), alpha=None, meta=PhotoMeta(format="PNG"), path=None))
    twin.set_mask(hole)
    expected = twin.apply_fill(finished[0].result.patches, edit.label)
    assert [(p.target, p.box) for p in edit.patches] == [(p.target, p.box) for p in expected.patches]
    assert all(np.array_equal(p.before, q.before) and np.array_equal(p.after, q.after)
               for p, q in zip(edit.patches, expected.patches))
    assert np.array_equal(doc.pixels, twin.pixels) and not doc.mask.any()
    # the display and the mask overlay are what a full rebuild gives
    assert _levels_equal(window.session.display, RgbPyramid(doc.pixels))
    assert _levels_equal(window.session.mask_display, MaskPyramid(doc.mask))
    filled = doc.pixels.copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.pixels, original) and np.array_equal(doc.mask, hole)
    assert np.array_equal(window.display.rgb(0), original)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.pixels, filled) and not doc.mask.any()
    assert _levels_equal(window.session.display, RgbPyramid(doc.pixels))


def test_a_stale_prepared_result_is_dropped(qtbot, window, photo_png, ui, blocking_model):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("test-blocking")
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(30, 30), (40, 30)])
    with qtbot.waitSignal(window.fills.fillDropped, timeout=20000) as dropped:
        window.actions.fill.trigger()
        qtbot.waitUntil(blocking_model.entered.is_set, timeout=10000)
        ui.drag(qtbot, window.canvas, [(80, 80), (90, 80)])  # the mask changes while the fill runs
        before, steps = doc.pixels.copy(), len(doc.history.steps)
        blocking_model.release.set()
    assert "dropped" in dropped.args[0]
    assert np.array_equal(doc.pixels, before) and len(doc.history.steps) == steps
    assert _levels_equal(window.session.display, RgbPyramid(doc.pixels))
