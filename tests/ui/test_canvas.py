"""The canvas driven with real mouse and key events: brush, eraser, size keys, zoom, pan, mask commands."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt



def test_drag_paints_the_mask_where_the_cursor_went(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    canvas.set_brush_size(6)
    ui.drag(qtbot, canvas, [(30, 40), (60, 40), (90, 40)])
    mask = doc.mask
    assert mask[40, 30:91].all(), "every pixel the cursor passed over is masked"
    assert mask[40 - 2, 30:91].all() and mask[40 + 2, 30:91].all(), "the brush has its width"
    assert not mask[:30].any() and not mask[51:].any(), "nothing far from the stroke"
    assert not mask[:, :25].any() and not mask[:, 96:].any()
    # one drag is one history step
    assert len(doc.history.steps) == 1 and doc.history.steps[0].kind == "stroke"


def test_eraser_removes_and_keys_switch_tools(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    canvas.set_brush_size(10)
    ui.drag(qtbot, canvas, [(20, 60), (120, 60)])
    assert doc.mask[60, 20:121].all()
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert canvas.tool == "eraser"
    ui.drag(qtbot, canvas, [(60, 60), (80, 60)])
    assert not doc.mask[55:66, 60:81].any(), "erased where the eraser went"
    assert doc.mask[60, 20:50].all() and doc.mask[60, 91:121].all(), "kept elsewhere"
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    assert canvas.tool == "brush"
    assert [e.kind for e in doc.history.steps] == ["stroke", "erase"]


def test_bracket_keys_and_slider_change_brush_size(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    canvas.set_brush_size(20)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.brush_size > 20
    bigger = canvas.brush_size
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.brush_size < bigger
    window.brush_slider.setValue(42)
    assert canvas.brush_size == 42
    assert window.brush_spin.value() == 42
    assert window.settings.brush_size == 42


def test_wheel_zooms_around_the_cursor_and_fit_keys(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    fit_scale = canvas.scale
    anchor = QPointF(300, 200)
    before = canvas.widget_to_image(anchor)
    canvas.zoom_at(2.0, anchor)
    after = canvas.widget_to_image(anchor)
    assert abs(canvas.scale - 2 * fit_scale) < 1e-9
    assert np.allclose(before, after), "the photo point under the cursor stays under it"
    qtbot.keyClick(canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert canvas.scale == 1.0
    qtbot.keyClick(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert abs(canvas.scale - fit_scale) < 1e-9


def test_middle_button_and_space_drag_pan_without_painting(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    tx, ty = canvas.tx, canvas.ty
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(200, 200))
    qtbot.mouseMove(canvas, QPoint(230, 210))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(230, 210))
    assert (canvas.tx - tx, canvas.ty - ty) == (30, 10)
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(230, 210))
    qtbot.mouseMove(canvas, QPoint(200, 200))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert (canvas.tx, canvas.ty) == (tx, ty)
    assert not doc.mask.any(), "panning never paints"


def test_mask_commands_and_show_hide(qtbot, window, photo_png, ui, monkeypatch):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    canvas.set_brush_size(8)
    ui.drag(qtbot, canvas, [(50, 50), (70, 50)])
    area = doc.mask.sum()
    from PySide6.QtWidgets import QInputDialog

    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (asked.append(a[3]), (3, True))[1]))
    window.actions.grow_mask.trigger()
    assert doc.mask.sum() > area
    window.actions.shrink_mask.trigger()
    window.actions.shrink_mask.trigger()
    assert 0 < doc.mask.sum() < area
    window.actions.invert_mask.trigger()
    assert doc.mask[0, 0] and not doc.mask[50, 60]
    window.actions.clear_mask.trigger()
    assert not doc.mask.any()
    assert asked == [3, 3, 3]  # each asks, starting from the last amount
    qtbot.keyClick(canvas, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert not canvas.overlays["mask"].visible
    qtbot.keyClick(canvas, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert canvas.overlays["mask"].visible


def test_escape_aborts_a_stroke_in_progress(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=ui.pixel_point(canvas, 40, 40))
    qtbot.mouseMove(canvas, ui.pixel_point(canvas, 80, 40))
    assert doc.mask.any()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=ui.pixel_point(canvas, 80, 40))
    assert not doc.mask.any()
    assert len(doc.history.steps) == 0


def test_zoom_keys_photoshop_and_gimp_style(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    ctrl, none = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.NoModifier
    for key, mods, factor in ((Qt.Key.Key_Equal, ctrl, 1.25), (Qt.Key.Key_Minus, ctrl, 0.8),
                              (Qt.Key.Key_Plus, none, 1.25), (Qt.Key.Key_Equal, none, 1.25), (Qt.Key.Key_Minus, none, 0.8)):
        before = canvas.scale
        qtbot.keyClick(canvas, key, mods)
        assert abs(canvas.scale / before - factor) < 1e-9, (key, mods)
    qtbot.keyClick(canvas, Qt.Key.Key_1)  # GIMP: 1 is 100 %
    assert canvas.scale == 1.0


def test_shift_wheel_scrolls_sideways_instead_of_zooming(qtbot, window, photo_png, ui):
    from PySide6.QtGui import QWheelEvent

    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    canvas.zoom_at(4.0, QPointF(100, 100))
    scale, tx, ty = canvas.scale, canvas.tx, canvas.ty

    def wheel(mods, dy):
        event = QWheelEvent(QPointF(100, 100), canvas.mapToGlobal(QPointF(100, 100)), QPoint(0, 0), QPoint(0, dy),
                            Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
        canvas.wheelEvent(event)

    wheel(Qt.KeyboardModifier.ShiftModifier, -120)
    assert canvas.scale == scale and canvas.ty == ty and canvas.tx < tx  # a notch down moves the view right
    wheel(Qt.KeyboardModifier.NoModifier, 120)
    assert canvas.scale > scale  # the plain wheel still zooms


def test_bare_zoom_keys_do_not_steal_typing_in_the_tool_bar(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    scale = canvas.scale
    spin = window.selection.tolerance
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "1")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 1 and canvas.scale == scale  # "1" typed a digit, it did not zoom to 100 %
