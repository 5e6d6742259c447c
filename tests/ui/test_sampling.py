"""Sampling Area mode: the brush paints where synthesis copies from, undoably, and the fill gets it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt


def test_sampling_area_is_painted_undone_and_reaches_the_fill(qtbot, window, photo_png, ui, monkeypatch) -> None:
    doc = ui.open_photo(qtbot, window, photo_png)
    window.canvas.set_brush_size(12)
    ui.drag(qtbot, window.canvas, [(50, 60), (90, 60)])  # the hole, in the mask
    hole = doc.mask.copy()
    qtbot.keyClick(window.canvas, Qt.Key.Key_S)
    assert window.actions.sampling.isChecked() and window.sampling.enabled
    layer = window.sampling.layer
    assert window.canvas.target is layer
    ui.drag(qtbot, window.canvas, [(20, 20), (40, 20)])
    assert layer.area[20, 30] and np.array_equal(doc.mask, hole), "the brush paints the area, not the mask"
    ui.drag(qtbot, window.canvas, [(20, 100), (40, 100)])
    assert layer.area[100, 30]

    window.undo()  # the last area stroke goes; the mask is untouched
    assert layer.area[20, 30] and not layer.area[100, 30] and np.array_equal(doc.mask, hole)
    window.redo()
    assert layer.area[100, 30]

    from restorer.inference import engine

    seen = {}
    real_plan = engine.plan

    def spy(pixels, mask, model, options=engine.EngineOptions(), **kw):
        seen["area"], seen["mode"] = options.sample_area, options.sample_mode
        return real_plan(pixels, mask, model, options, **kw)

    monkeypatch.setattr(engine, "plan", spy)
    window.actions.sampling_never.trigger()
    assert window.model_picker.set_model("patchmatch")
    window.fill()
    qtbot.waitUntil(lambda: "area" in seen, timeout=20000)
    assert seen["mode"] == "deny" and seen["area"][20, 30] and seen["area"][100, 30]

    qtbot.keyClick(window.canvas, Qt.Key.Key_S)  # back to the mask
    assert window.canvas.target is doc and not window.sampling.enabled
