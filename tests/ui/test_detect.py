"""Detect Damage in the window: proposals from the worker, the sensitivity slider, click to toggle, Add to Mask as one undo, Esc."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

SPECKS = [(40, 50), (60, 200), (150, 90), (180, 260), (100, 150)]  # (row, col) of dark specks of radius 2-4


def _damaged_photo(path: Path) -> np.ndarray:
    """A soft RGB photo with grain, five dark specks of growing size and one bright vertical scratch."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:220, 0:320].astype(np.float32)
    base = 0.55 + 0.2 * np.sin(xx / 70) * np.cos(yy / 55)
    photo = np.clip(base[..., None] * [1.0, 0.9, 0.8] + rng.normal(0, 0.01, (220, 320, 1)), 0, 1)
    photo = (photo * 255).astype(np.uint8)
    for i, (r, c) in enumerate(SPECKS):
        cv2.circle(photo, (c, r), 2 + i % 3, (15, 15, 15), -1)
    cv2.line(photo, (230, 20), (232, 200), (240, 240, 240), 2)
    Image.fromarray(photo).save(path)
    return photo


@pytest.fixture
def damaged_png(tmp_path: Path) -> Path:
    path = tmp_path / "photos" / "damaged.png"
    path.parent.mkdir(parents=True)
    _damaged_photo(path)
    return path


def _detect(qtbot, window):
    with qtbot.waitSignal(window.detect.detected, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    return window.detect.layer


def test_detect_proposes_damage_apart_from_the_mask_and_add_to_mask_is_one_undo(qtbot, window, damaged_png, ui):
    doc = ui.open_photo(qtbot, window, damaged_png)
    layer = _detect(qtbot, window)
    assert layer is not None and layer.count - 1 >= len(SPECKS)
    for r, c in SPECKS:
        assert layer.accepted[r, c], (r, c)
    assert layer.accepted[100, 231]  # the scratch
    assert not doc.mask.any()  # proposals are not the mask
    canvas = window.canvas
    assert canvas.overlays["proposals"].visible and canvas.overlays["proposals"].pyramid.levels[0] is layer.accepted
    steps = len(doc.history.steps)
    proposed = layer.accepted_mask()
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(doc.mask, proposed)
    assert proposed.sum() > layer.accepted.sum()  # grown a little so a fill covers the rim
    assert len(doc.history.steps) == steps + 1
    assert window.detect.layer is None and "proposals" not in canvas.overlays
    assert canvas.target is doc
    window.undo()
    assert not doc.mask.any()
    window.redo()
    assert np.array_equal(doc.mask, proposed)


def test_sensitivity_slider_rethresholds_without_detecting_again(qtbot, window, damaged_png, ui, monkeypatch):
    from restorer import detection

    calls = []
    real = detection.detect_damage
    monkeypatch.setattr(detection, "detect_damage", lambda *a, **k: calls.append(1) or real(*a, **k))
    ui.open_photo(qtbot, window, damaged_png)
    layer = _detect(qtbot, window)
    at_half = int(layer.accepted.sum())
    with qtbot.waitSignal(window.detect.proposalsChanged, timeout=5000):
        window.detect.slider.setValue(5)  # sensitivity 5 %: threshold 0.95
    strict = int(layer.accepted.sum())
    with qtbot.waitSignal(window.detect.proposalsChanged, timeout=5000):
        window.detect.slider.setValue(95)
    loose = int(layer.accepted.sum())
    assert strict < at_half <= loose
    assert window.detect.layer is layer and len(calls) == 1 and not window.detect.running
    # the detector's own confirming rule holds at every threshold (damage.proposals)
    from restorer.detection.damage import proposals

    assert layer.confirm == real(window.session.document.pixels, window.detect.picker.current_detector()).confirm
    assert layer.count == proposals(layer.levels, layer.threshold, layer.confirm)[0]


def test_click_toggles_a_proposal_after_zoom_and_pan(qtbot, window, damaged_png, ui):
    doc = ui.open_photo(qtbot, window, damaged_png)
    layer = _detect(qtbot, window)
    canvas = window.canvas
    canvas.zoom_at(2.0, canvas.rect().center().toPointF())
    canvas.pan_by(40, -25)
    r, c = SPECKS[2]
    assert layer.accepted[r, c]  # proposals survive pan and zoom
    point = ui.pixel_point(canvas, c, r)
    assert canvas.rect().contains(point)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=point)
    assert layer.rejected[r, c] and not layer.accepted[r, c]
    assert not doc.mask.any()  # a click reviews; it does not paint
    others = [s for s in SPECKS if s != SPECKS[2]]
    assert all(layer.accepted[rr, cc] for rr, cc in others)
    window.detect.add_to_mask()
    assert not doc.mask[r, c] and all(doc.mask[rr, cc] for rr, cc in others)


def test_click_again_accepts_and_threshold_keeps_the_choice(qtbot, window, damaged_png, ui):
    ui.open_photo(qtbot, window, damaged_png)
    layer = _detect(qtbot, window)
    r, c = SPECKS[4]
    assert layer.toggle_at(c, r) is False
    with qtbot.waitSignal(window.detect.proposalsChanged, timeout=5000):
        window.detect.slider.setValue(70)
    assert layer.rejected[r, c]  # still refused at another threshold
    assert layer.toggle_at(c, r) is True and layer.accepted[r, c]
    assert layer.toggle_at(5, 5) is None  # nothing there


def test_escape_clears_proposals_and_the_brush_paints_the_mask_again(qtbot, window, damaged_png, ui):
    doc = ui.open_photo(qtbot, window, damaged_png)
    _detect(qtbot, window)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    assert window.detect.layer is None and "proposals" not in window.canvas.overlays
    assert window.canvas.target is doc
    ui.drag(qtbot, window.canvas, [(20, 20), (60, 20)])
    assert doc.mask.any()
    assert not window.detect.add_action.isEnabled()


def test_a_running_detection_shows_progress_and_esc_cancels_it(qtbot, window, damaged_png, ui, monkeypatch):
    from restorer import detection
    from restorer.errors import Cancelled

    entered = threading.Event()

    def held(pixels, detector="classical", cancel=None, on_progress=None):
        on_progress(detection.Progress(1, 4, "Detecting damage"))
        entered.set()
        while not cancel.wait(0.01):
            pass
        raise Cancelled("detection cancelled")

    monkeypatch.setattr(detection, "detect_damage", held)
    ui.open_photo(qtbot, window, damaged_png)
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    assert window.detect.running
    qtbot.waitUntil(lambda: window.detect.progress.bar.maximum() == 4, timeout=10000)
    assert window.detect.progress.isVisible() and window.detect.progress.bar.value() == 1
    qtbot.keyClick(window.canvas, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.detect.running, timeout=10000)
    assert window.detect.layer is None and not window.detect.progress.isVisible()
    assert "cancelled" in window.statusBar().currentMessage()
