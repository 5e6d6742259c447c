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


def test_guide_lines_undo_and_redo_one_stroke_at_a_time(qtbot, window, photo_png, ui, edge_weights):
    doc, hole = _enter_edges_mode(qtbot, window, ui, photo_png)
    guide = window.edges.guide
    predicted = guide.edges.copy()
    steps = len(doc.history)
    ui.drag(qtbot, window.canvas, [(60, 52), (100, 68)])
    first = guide.edges.copy()
    ui.drag(qtbot, window.canvas, [(60, 68), (100, 52)])
    assert not np.array_equal(guide.edges, first)
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert np.array_equal(guide.edges, first), "Ctrl+Z takes back the last guide line"
    assert np.array_equal(doc.mask, hole) and len(doc.history) == steps and doc.history.index == steps
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert np.array_equal(guide.edges, predicted)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(guide.edges, first)
    # with no guide strokes left to undo, Ctrl+Z goes back to the document's history
    window.edges.guide.forget_history()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, ctrl)
    assert doc.history.index == steps - 1
    assert window.canvas.target is guide and guide.brush_radius == 1.0  # the cursor shows what is drawn
