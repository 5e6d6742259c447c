"""Before/after in the window: the split and difference views for the document and one step, hold \\ for the original."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from restorer.core.image import to_display_rgb8


def _fill_once(qtbot, window, ui):
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, [(30, 30), (100, 80)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()


def test_split_and_difference_views_of_the_document(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    _fill_once(qtbot, window, ui)
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    view = window.comparing.view
    assert window.stack.currentWidget() is view and view.has_pair()
    assert view.mode() == "split"
    assert "drag the divider" in window.statusBar().currentMessage()
    window.actions.compare_difference.trigger()
    assert view.mode() == "difference"
    status = window.statusBar().currentMessage()
    assert "divider" not in status and "black = unchanged" in status  # there is no divider here
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.canvas


def test_one_history_step_from_the_panel(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    _fill_once(qtbot, window, ui)
    window.history_panel.compareRequested.emit(2)
    view = window.comparing.view
    assert window.stack.currentWidget() is view
    assert view.title().startswith("Step 2")
    assert doc.history.steps[1].kind == "fill"


def test_compare_selected_step_uses_the_panel_cursor(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    _fill_once(qtbot, window, ui)  # step 1 the stroke, step 2 the fill (current)
    panel = window.history_panel
    view = panel.view()
    view.setCurrentIndex(panel.model().index(1))  # row 0 is Original: put the cursor on step 1
    assert panel.cursor_step() == 1
    window.actions.compare_step.trigger()
    assert window.stack.currentWidget() is window.comparing.view
    assert window.comparing.view.title().startswith("Step 1")


def test_holding_backslash_shows_the_original(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    _fill_once(qtbot, window, ui)
    canvas = window.canvas
    qtbot.keyPress(canvas, Qt.Key.Key_Backslash)
    assert canvas.alternate is not None
    assert np.array_equal(canvas.alternate.rgb(0), to_display_rgb8(original))
    assert not np.array_equal(canvas.display.levels[0], canvas.alternate.levels[0])
    qtbot.keyRelease(canvas, Qt.Key.Key_Backslash)
    assert canvas.alternate is None


def test_the_original_is_redrawn_only_where_photo_edits_changed_it(qtbot, window, photo_png, ui, monkeypatch):
    from restorer.ui import convert
    from restorer.ui.convert import RgbPyramid

    built = []

    class Counting(RgbPyramid):
        def __init__(self, pixels):
            built.append(pixels.shape)
            super().__init__(pixels)

    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    _fill_once(qtbot, window, ui)
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(120, 20), (60, 110)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    window.undo()  # an undone fill is the original again there: nothing to redraw for it
    assert any(p.target == "photo" for e in doc.history.steps[: doc.history.index] for p in e.patches)
    monkeypatch.setattr(convert, "RgbPyramid", Counting)
    qtbot.keyPress(window.canvas, Qt.Key.Key_Backslash)
    alternate = window.canvas.alternate
    qtbot.keyRelease(window.canvas, Qt.Key.Key_Backslash)
    assert built == []  # the whole photo was not converted again
    full = RgbPyramid(original)
    assert len(alternate.levels) == len(full.levels)
    for mine, theirs in zip(alternate.levels, full.levels):
        assert np.array_equal(mine, theirs)
    assert not np.array_equal(window.canvas.display.levels[0], alternate.levels[0])
    assert alternate.levels[0] is not window.canvas.display.levels[0]


def test_holding_backslash_in_the_split_view_shows_before(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    _fill_once(qtbot, window, ui)
    window.actions.compare_split.trigger()
    view = window.comparing.view
    qtbot.keyPress(view, Qt.Key.Key_Backslash)
    assert view.showing_before()
    qtbot.keyRelease(view, Qt.Key.Key_Backslash)
    assert not view.showing_before()
    assert window.canvas.alternate is None
