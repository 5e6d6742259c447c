"""Fills through the real window: the worker thread, history steps, exact undo/redo, cancel, stale results, failures."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def _brush_scratch(qtbot, window, ui):
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(40, 30), (70, 60), (100, 90)])


def test_enter_fills_in_the_worker_and_makes_one_history_step(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    _brush_scratch(qtbot, window, ui)
    hole = doc.mask.copy()
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
        assert window.fills.running and window.fills.progress.isVisible()
    assert not window.fills.progress.isVisible()
    changed = (doc.pixels != original).any(axis=2)
    assert changed.any(), "the fill wrote pixels"
    assert not changed[~hole].any(), "only masked pixels change"
    assert not doc.mask.any(), "the filled mask is cleared"
    assert [e.kind for e in doc.history.steps] == ["stroke", "fill"]
    assert "cpu" in window.fills.device_label.text()


def test_undo_and_redo_restore_exact_arrays(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    _brush_scratch(qtbot, window, ui)
    hole = doc.mask.copy()
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    filled = doc.pixels.copy()
    canvas = window.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.pixels, original) and np.array_equal(doc.mask, hole)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not doc.mask.any()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(doc.mask, hole)
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.pixels, filled) and not doc.mask.any()
    # the display copy follows the document (undo repaints from the restored pixels)
    window.history_panel.stepChosen.emit(0)
    assert np.array_equal(doc.pixels, original)
    assert np.array_equal(window.display.rgb(0), original)


def test_escape_cancels_a_running_fill(qtbot, window, photo_png, ui, blocking_model):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("test-blocking")
    _brush_scratch(qtbot, window, ui)
    before = doc.pixels.copy()
    steps = len(doc.history.steps)
    with qtbot.waitSignal(window.fills.fillDropped, timeout=20000) as dropped:
        window.actions.fill.trigger()
        qtbot.waitUntil(blocking_model.entered.is_set, timeout=10000)
        qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
        blocking_model.release.set()
    assert dropped.args == ["cancelled"]
    assert blocking_model.calls == 0, "no model call after the cancel"
    assert np.array_equal(doc.pixels, before) and len(doc.history.steps) == steps
    assert not window.fills.running and not window.fills.progress.isVisible()


def test_result_for_a_changed_document_is_dropped(qtbot, window, photo_png, ui, blocking_model):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("test-blocking")
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(30, 30), (40, 30)])
    before = doc.pixels.copy()
    with qtbot.waitSignal(window.fills.fillDropped, timeout=20000) as dropped:
        window.actions.fill.trigger()
        qtbot.waitUntil(blocking_model.entered.is_set, timeout=10000)
        # the user keeps working while the fill runs: the window takes the stroke at once
        ui.drag(qtbot, window.canvas, [(100, 80), (120, 80)])
        assert doc.mask[80, 100:121].all()
        blocking_model.release.set()
    assert "changed" in dropped.args[0]
    assert np.array_equal(doc.pixels, before)
    assert [e.kind for e in doc.history.steps] == ["stroke", "stroke"]


def test_a_failing_model_shows_an_error_and_the_app_carries_on(qtbot, window, photo_png, ui, blocking_model, dialogs, monkeypatch):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("test-blocking")

    def broken(image, mask, *args, **kwargs):
        raise RuntimeError("simulated crash inside the model")

    monkeypatch.setattr(type(blocking_model), "__call__", lambda self, *a, **k: broken(*a, **k))
    blocking_model.release.set()
    _brush_scratch(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillDropped, timeout=20000):
        window.actions.fill.trigger()
    assert dialogs.titles("warning") == ["Fill failed"]
    assert "simulated crash" in window.statusBar().currentMessage()
    # still usable: another model fills the same mask
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    assert doc.history.steps[-1].kind == "fill"


def test_auto_fill_runs_when_a_stroke_ends(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.auto_check.setChecked(True)
    assert window.actions.auto_fill.isChecked() and window.settings.auto_fill
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        _brush_scratch(qtbot, window, ui)
    assert [e.kind for e in doc.history.steps] == ["stroke", "fill"]


def test_unavailable_models_are_listed_disabled_with_the_reason(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_WEIGHTS", str(tmp_path / "no-weights"))
    picker = window.model_picker
    picker.reload()
    names = [picker.itemData(i) for i in range(picker.count())]
    assert "telea" in names and "edgeconnect" in names
    i = picker.findData("edgeconnect")
    assert not picker.is_enabled_at(i)
    assert "Unavailable" in picker.reason("edgeconnect") and "weights" in picker.reason("edgeconnect")
    assert not picker.set_model("edgeconnect")
    assert picker.is_enabled_at(picker.findData("telea"))


def test_closing_the_window_stops_the_worker_thread(qtbot, window, photo_png, ui, blocking_model, dialogs):
    ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    window.model_picker.set_model("test-blocking")
    _brush_scratch(qtbot, window, ui)
    window.actions.fill.trigger()
    qtbot.waitUntil(blocking_model.entered.is_set, timeout=10000)
    dialogs.answer(dialogs_discard())
    blocking_model.release.set()
    assert window.close()
    assert window.tasks.finished
    assert window.file_tasks.finished


def dialogs_discard():
    from PySide6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Discard


def test_clicking_a_step_in_the_history_list_goes_there(qtbot, window, photo_png, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    original = doc.pixels.copy()
    _brush_scratch(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    filled = doc.pixels.copy()
    panel = window.history_panel
    view, model = panel.view(), panel.model()
    qtbot.waitUntil(lambda: model.rowCount() == 3)  # Original, Brush, Fill
    rect = view.visualRect(model.index(model.row_for_step(0), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.history.index == 0 and np.array_equal(doc.pixels, original) and not doc.mask.any()
    rect = view.visualRect(model.index(model.row_for_step(2), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.history.index == 2 and np.array_equal(doc.pixels, filled)
    assert np.array_equal(window.display.rgb(0), filled)


def test_the_photo_is_locked_while_the_fill_copies_its_crops_and_free_once_they_are(qtbot, window, photo_png, ui,
                                                                                      monkeypatch):
    import threading

    from restorer.inference import engine
    from restorer.ui.fill import PLANNING

    doc = ui.open_photo(qtbot, window, photo_png)
    assert window.model_picker.set_model("telea")
    _brush_scratch(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()  # a fill step the next one could undo
    ui.drag(qtbot, window.canvas, [(20, 100), (60, 100)])
    planning, go_on = threading.Event(), threading.Event()
    real_plan = engine.plan
    seen: dict[str, object] = {}

    def held_plan(pixels, *args, **kwargs):
        planning.set()
        go_on.wait(10)
        return real_plan(pixels, *args, **kwargs)

    monkeypatch.setattr(engine, "plan", held_plan)
    filled = doc.pixels.copy()
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
        assert planning.wait(10)
        seen["lock"] = doc.photo_lock
        window.goto_step(1)  # back before the first fill: it would change pixels being read, so refused
        seen["pixels_kept"] = np.array_equal(doc.pixels, filled) and doc.history.index == 3
        seen["status"] = window.statusBar().currentMessage()
        seen["saved"] = window.save()  # a save would lock the photo too: not started, one status line
        go_on.set()
    assert seen == {"lock": PLANNING, "pixels_kept": True, "status": PLANNING, "saved": False}
    assert doc.photo_lock is None  # released as soon as the crops were copied
    window.goto_step(1)  # and photo steps move again
    assert doc.history.index == 1 and not np.array_equal(doc.pixels, filled)


def test_a_new_fill_while_one_is_planning_takes_over_its_lock(qtbot, window, photo_png, ui, monkeypatch):
    import threading

    from restorer.inference import engine

    doc = ui.open_photo(qtbot, window, photo_png)
    assert window.model_picker.set_model("telea")
    _brush_scratch(qtbot, window, ui)
    planning, go_on = threading.Event(), threading.Event()
    real_plan = engine.plan

    def held_plan(pixels, *args, **kwargs):
        planning.set()
        go_on.wait(10)
        return real_plan(pixels, *args, **kwargs)

    monkeypatch.setattr(engine, "plan", held_plan)
    applied: list[object] = []
    window.fills.fillApplied.connect(applied.append)
    window.actions.fill.trigger()
    assert planning.wait(10)
    first = doc.photo_lock
    window.actions.fill.trigger()  # Enter again (or Auto after a stroke): not refused by the first's lock
    assert window.fills.running and doc.photo_lock == first
    go_on.set()
    qtbot.waitUntil(lambda: bool(applied), timeout=20000)
    qtbot.wait(100)
    assert len(applied) == 1 and doc.photo_lock is None  # the superseded one said nothing
    assert [e.kind for e in doc.history.steps] == ["stroke", "fill"]
