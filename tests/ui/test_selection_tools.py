"""Rectangle (M), lasso (L) and magic wand (W) selections driven with real mouse and key events: each
is one undoable mask step; Alt or Ctrl takes away from the mask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

ALT = Qt.KeyboardModifier.AltModifier
NONE = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


def _drag(qtbot: Any, ui: Any, canvas: Any, points: list[tuple[float, float]], mods: Any = NONE) -> None:
    wpts = [ui.pixel_point(canvas, x, y) for x, y in points]
    qtbot.mousePress(canvas, LEFT, mods, wpts[0])
    for p in wpts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, LEFT, mods, wpts[-1])


def _click(qtbot: Any, ui: Any, canvas: Any, x: float, y: float, mods: Any = NONE) -> None:
    qtbot.mouseClick(canvas, LEFT, mods, ui.pixel_point(canvas, x, y))


def test_rectangle_select_adds_then_alt_takes_away_each_one_step(qtbot: Any, window: Any, photo_png: Path, ui: Any) -> None:
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_M)
    assert canvas.tool == "rectangle" and window.actions.rect_select.isChecked()
    _drag(qtbot, ui, canvas, [(10, 10), (25, 20), (40, 30)])
    expected = np.zeros(doc.shape, np.bool_)
    expected[10:31, 10:41] = True
    assert np.array_equal(doc.mask, expected)
    assert [s.label for s in doc.history.steps] == ["Rectangle"]
    _drag(qtbot, ui, canvas, [(20, 15), (30, 25)], ALT)
    assert not doc.mask[15:26, 20:31].any() and doc.mask[10, 10]
    assert doc.history.steps[-1].label == "Rectangle (subtract)"
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.mask, expected)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not doc.mask.any()
    _click(qtbot, ui, canvas, 50, 50)  # a click is not a rectangle
    assert not doc.mask.any() and len(doc.history) == 2


def test_freehand_lasso_fills_the_outline(qtbot: Any, window: Any, photo_png: Path, ui: Any) -> None:
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_L)
    assert canvas.tool == "lasso"
    _drag(qtbot, ui, canvas, [(20, 20), (60, 20), (60, 60), (40, 70), (20, 60)])
    assert doc.mask[40, 40] and doc.mask[25, 25] and not doc.mask[80, 80] and not doc.mask[10, 10]
    assert doc.history.steps[-1].label == "Lasso" and len(doc.history) == 1


def test_polygon_lasso_by_clicks_closes_with_enter_and_backspace_drops_a_point(qtbot: Any, window: Any,
                                                                                photo_png: Path, ui: Any) -> None:
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    window.actions.lasso.trigger()
    for x, y in ((10, 10), (70, 10), (70, 70), (100, 100)):
        _click(qtbot, ui, canvas, x, y)
    assert canvas.stroking and not doc.mask.any()  # nothing until it is closed
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)  # (100, 100) was a slip
    qtbot.keyClick(canvas, Qt.Key.Key_Return)  # Enter closes the outline instead of filling
    assert not canvas.stroking and not window.fills.running
    assert doc.mask[30, 50] and not doc.mask[60, 20] and not doc.mask[90, 90]
    assert [s.label for s in doc.history.steps] == ["Lasso"]
    # Esc drops an outline in progress
    _click(qtbot, ui, canvas, 100, 20)
    _click(qtbot, ui, canvas, 140, 20)
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.stroking and len(doc.history) == 1


def test_magic_wand_selects_the_clicked_colour_within_the_tolerance(qtbot: Any, window: Any, tmp_path: Path,
                                                                    ui: Any) -> None:
    from PIL import Image

    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[:] = (20, 60, 90)
    rgb[10:30, 15:50] = (200, 180, 40)  # a stain
    rgb[12, 20] = (215, 170, 50)  # a little off
    path = tmp_path / "stain.png"
    Image.fromarray(rgb).save(path)
    doc = ui.open_photo(qtbot, window, path)
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_W)
    assert canvas.tool == "wand"
    window.selection.tolerance.setValue(5)
    _click(qtbot, ui, canvas, 30, 20)
    assert doc.mask.sum() == 20 * 35 - 1 and not doc.mask[12, 20]
    assert doc.history.steps[-1].label == "Magic wand (tolerance 5)"
    window.selection.tolerance.setValue(20)
    assert window.settings.wand_tolerance == 20
    _click(qtbot, ui, canvas, 30, 20)
    assert doc.mask.sum() == 20 * 35 and not doc.mask[40, 60]
    _click(qtbot, ui, canvas, 30, 20, ALT)  # Alt: the same area leaves the mask
    assert not doc.mask.any() and len(doc.history) == 3


def test_a_selection_fills_automatically_when_asked(qtbot: Any, window: Any, photo_png: Path, ui: Any) -> None:
    doc = ui.open_photo(qtbot, window, photo_png)
    assert window.model_picker.set_model("telea")
    window.actions.auto_fill.setChecked(True)
    window.actions.rect_select.trigger()
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        _drag(qtbot, ui, window.canvas, [(30, 30), (50, 45)])
    assert [s.kind for s in doc.history.steps] == ["mask", "fill"]
