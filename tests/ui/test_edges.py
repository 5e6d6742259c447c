"""Edges mode through the window: predicted edges shown for the mask, guide lines drawn and erased, passed to the fill."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

torch = pytest.importorskip("torch")

TINY_EDGECONNECT = {"arch": "edgeconnect", "width": 4, "blocks": 1, "sigma": 1.0}


@pytest.fixture
def edge_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Random-init tiny EdgeConnect weights with a valid card, found through RESTORER_WEIGHTS."""
    from safetensors.torch import save_file

    from restorer.inference import engine
    from restorer.models import edgeconnect, registry

    folder = tmp_path / "weights"
    folder.mkdir()
    torch.manual_seed(0)
    net = edgeconnect.build_network(TINY_EDGECONNECT).eval()
    path = folder / "edgeconnect-compact.safetensors"
    save_file({k: v.detach().half().contiguous().clone() for k, v in net.state_dict().items()}, str(path))
    card = {"config": TINY_EDGECONNECT, "sha256": registry.file_sha256(path), "licence": "test"}
    (folder / "edgeconnect-compact.json").write_text(json.dumps(card), encoding="utf-8")
    monkeypatch.setenv("RESTORER_WEIGHTS", str(folder))
    engine.clear_cache()
    yield folder
    engine.clear_cache()


def _enter_edges_mode(qtbot, window, ui, photo_png):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("edgeconnect-compact"), window.model_picker.reason("edgeconnect-compact")
    window.canvas.set_brush_size(16)
    ui.drag(qtbot, window.canvas, [(50, 60), (110, 60)])
    hole = doc.mask.copy()
    with qtbot.waitSignal(window.edges.edgesPredicted, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    assert window.actions.edges.isChecked() and window.edges.enabled
    return doc, hole


def test_edges_mode_draws_and_erases_guides_and_the_fill_uses_them(qtbot, window, photo_png, ui, edge_weights, monkeypatch):
    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    guide = window.edges.guide
    assert window.canvas.target is guide
    assert window.canvas.overlays["edges"].visible
    predicted = guide.edges.copy()

    # a guide line across the hole: thin, and the mask is left alone
    window.canvas.set_brush_size(16)
    ui.drag(qtbot, window.canvas, [(60, 52), (100, 68)])
    assert guide.edges[52, 60] and guide.edges[68, 100] and guide.edges[60, 80]
    new = guide.edges & ~predicted
    assert new[:, 80].sum() <= 4, "guide lines are thin whatever the brush size"
    assert np.array_equal(doc.mask, hole), "in Edges mode the brush draws guides, not the mask"

    # the eraser removes guide lines (predicted or drawn) under it
    qtbot.keyClick(window.canvas, Qt.Key.Key_E)
    ui.drag(qtbot, window.canvas, [(95, 55), (105, 70)])
    assert not guide.edges[62:68, 97:103].any()
    drawn = guide.edges.copy()

    from restorer.inference import engine

    seen = {}
    real_plan = engine.plan

    def spy(pixels, mask, model, options=engine.EngineOptions(), **kw):
        seen["guide"], seen["mode"], seen["model"] = options.guide_edges, options.guide_mode, model
        return real_plan(pixels, mask, model, options, **kw)

    monkeypatch.setattr(engine, "plan", spy)
    before = doc.pixels.copy()
    with qtbot.waitSignal(window.fills.fillApplied, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert seen["model"] == "edgeconnect-compact" and seen["mode"] == "replace"
    assert np.array_equal(seen["guide"], drawn)
    changed = (doc.pixels != before).any(axis=2)
    assert changed.any() and not changed[~hole].any()

    # leaving Edges mode gives the brush back to the mask
    qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    assert not window.edges.enabled and window.canvas.target is doc
    assert window.edges.guide_edges() is None


def test_edges_mode_needs_an_edge_model(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    assert window.model_picker.set_model("telea")
    window.actions.edges.trigger()
    assert not window.actions.edges.isChecked() and not window.edges.enabled
    assert "EdgeConnect" in window.statusBar().currentMessage()
    assert window.canvas.target is window.document


def test_predicted_guides_stay_inside_the_hole(qtbot, window, photo_png, ui, edge_weights):
    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    guide = window.edges.guide
    assert not (guide.edges & ~hole).any(), "editable guides start inside the hole only"
    assert not (guide.context & hole).any(), "context edges are the photo's own, outside the hole"
    assert window.canvas.overlays["edges-context"].visible


def test_guide_lines_are_history_steps_undone_and_redone_by_the_keys(qtbot, window, photo_png, ui, edge_weights):
    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    guide = window.edges.guide
    predicted = guide.edges.copy()
    steps = len(doc.history)
    ui.drag(qtbot, window.canvas, [(60, 52), (100, 68)])
    first = guide.edges.copy()
    ui.drag(qtbot, window.canvas, [(60, 68), (100, 52)])
    assert not np.array_equal(guide.edges, first)
    assert len(doc.history) == steps + 2 and [e.kind for e in doc.history.steps[-2:]] == ["guide", "guide"]

    # each guide line has its own row in the History panel, named as such
    model = window.history_panel.model()
    rows = [model.index(r).data() for r in range(model.rowCount())]
    kinds = [model.index(r).data(model.KindRole) for r in range(model.rowCount())]
    assert rows[-2:] == ["Guide line", "Guide line"] and kinds[-1] == "guide"

    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert np.array_equal(guide.edges, first), "Ctrl+Z takes back the last guide line"
    assert np.array_equal(doc.mask, hole) and doc.history.index == steps + 1
    assert window.history_panel.model().index(model.rowCount() - 1).data(model.StateRole) == "undone"
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert np.array_equal(guide.edges, predicted) and doc.history.index == steps
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(guide.edges, first)
    # past the guide lines, Ctrl+Z goes on to the mask stroke, in the same history
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert doc.history.index == steps - 1 and not doc.mask.any()


def test_guide_lines_are_drawn_at_the_width_the_cursor_shows(qtbot, window, photo_png, ui, edge_weights):
    from restorer.ui.edges import GUIDE_RADIUS

    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    guide = window.edges.guide
    window.canvas.set_brush_size(24)
    assert window.canvas.target is guide and guide.brush_radius == GUIDE_RADIUS  # the cursor's radius
    before = doc.guides.copy()
    ui.drag(qtbot, window.canvas, [(60, 60), (100, 60)])
    drawn = doc.guides & ~before
    width = int(drawn[:, 80].sum())
    assert 2 * GUIDE_RADIUS <= width <= 2 * GUIDE_RADIUS + 1, "a guide line is as wide as the cursor's circle"
    # the eraser erases at the brush size, and its stroke is a step too
    qtbot.keyClick(window.canvas, Qt.Key.Key_E)
    ui.drag(qtbot, window.canvas, [(70, 60), (74, 60)])
    assert doc.history.steps[-1].kind == "guide-erase"
    assert not guide.edges[50:70, 64:80].any() and doc.unguides[60, 72]


def test_guide_lines_survive_a_new_prediction_and_a_saved_project(qtbot, window, photo_png, ui, edge_weights, tmp_path):
    from restorer.core.project import open_project, save_project

    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    ui.drag(qtbot, window.canvas, [(60, 52), (100, 68)])
    lines = doc.guides.copy()
    assert lines.any()
    # a mask stroke makes the model predict again; the user's line is still there
    qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    ui.drag(qtbot, window.canvas, [(50, 90), (80, 90)])
    with qtbot.waitSignal(window.edges.edgesPredicted, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    assert window.edges.guide.edges[lines].all()

    path = tmp_path / "guides.restorer"
    save_project(doc, path)
    back = open_project(path)
    assert np.array_equal(back.guides, doc.guides) and np.array_equal(back.unguides, doc.unguides)
    assert [e.kind for e in back.history.steps] == [e.kind for e in doc.history.steps]
    back.undo()  # the second mask stroke
    assert np.array_equal(back.guides, lines)
    back.undo()  # the guide line
    assert not back.guides.any() and back.history.steps[back.history.index].kind == "guide"


def test_the_status_bar_says_when_predicted_edges_stop_at_a_large_holes_border(qtbot, window, photo_png, ui,
                                                                                 edge_weights, monkeypatch):
    from restorer.core import mask as masks
    from restorer.core.box import BBox
    from restorer.inference import engine

    def border_only(pixels, mask, model, options):  # edges along the hole's rim, none inside
        return [(BBox(0, 0, *mask.shape), (mask & ~masks.shrink(mask, 2)).astype(np.float32))]

    monkeypatch.setattr(engine, "predict_edges", border_only)
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("edgeconnect-compact")
    window.canvas.set_brush_size(40)
    ui.drag(qtbot, window.canvas, [(50, 60), (110, 60)])
    with qtbot.waitSignal(window.edges.edgesPredicted, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    assert window.edges.guide.predicted.any()
    assert "stop near the hole's border" in window.statusBar().currentMessage()

    # a thin hole with the same rim-only edges is fully covered by them: no such warning
    qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    doc.clear_mask()
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(50, 60), (110, 60)])
    with qtbot.waitSignal(window.edges.edgesPredicted, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_G)
    assert "Predicted edges shown" in window.statusBar().currentMessage()
