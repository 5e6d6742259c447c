"""The detector picker of Detect Damage: every registered detector, the ones that cannot run disabled
with the reason, the choice remembered in Settings and named by the proposals it made."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from restorer.detection import registry



@pytest.fixture
def damaged_png(tmp_path: Path) -> Path:
    """A soft gray-brown photo with grain and a few dark specks."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:160, 0:200].astype(np.float32)
    base = 0.55 + 0.2 * np.sin(xx / 60) * np.cos(yy / 45)
    photo = np.clip(base[..., None] * [1.0, 0.9, 0.8] + rng.normal(0, 0.01, (160, 200, 1)), 0, 1)
    photo = (photo * 255).astype(np.uint8)
    for r, c in [(40, 50), (100, 150), (120, 60)]:
        cv2.circle(photo, (c, r), 3, (15, 15, 15), -1)
    path = tmp_path / "photos" / "damaged.png"
    path.parent.mkdir(parents=True)
    Image.fromarray(photo).save(path)
    return path


@pytest.fixture
def extra_detector():
    """A third registered detector that can run (the classical one under another name)."""
    spec = registry.register(registry.DetectorSpec(name="test-lines", description="classical, renamed for a test",
                                                   factory="restorer.detection.classical:build", licence="test"))
    yield spec
    registry.unregister(spec.name)


def test_the_picker_lists_every_detector_and_disables_one_that_cannot_run(window, tmp_path, monkeypatch,
                                                                          extra_detector):
    monkeypatch.setenv("RESTORER_WEIGHTS", str(tmp_path / "no-weights"))  # damage-unet's weights are not there
    picker = window.detect.picker
    picker.reload()
    names = [picker.itemData(i) for i in range(picker.count())]
    assert names == [s.name for s in registry.all_specs()] and {"classical", "damage-unet", "test-lines"} <= set(names)
    unet = names.index("damage-unet")
    assert not picker.is_enabled_at(unet)
    assert picker.reason("damage-unet").startswith("Unavailable:") and "damage-unet.safetensors" in picker.reason("damage-unet")
    assert not picker.set_detector("damage-unet") and picker.current_detector() == "classical"
    assert picker.is_enabled_at(names.index("test-lines")) and "renamed for a test" in picker.reason("test-lines")
    assert "Detector used by Detect Damage: classical" in picker.toolTip()


def test_the_chosen_detector_runs_is_remembered_and_named(qtbot, window, damaged_png, ui, monkeypatch, extra_detector):
    from restorer import detection
    from restorer.ui.detector_picker import DetectorPicker

    used = []
    real = detection.detect_damage
    monkeypatch.setattr(detection, "detect_damage", lambda pixels, detector=None, **k: used.append(detector)
                        or real(pixels, detector, **k))
    doc = ui.open_photo(qtbot, window, damaged_png)
    picker = window.detect.picker
    picker.reload()
    assert picker.set_detector("test-lines")
    assert window.settings.detector == "test-lines"
    assert DetectorPicker(window.settings).current_detector() == "test-lines", "a new window picks it again"

    with qtbot.waitSignal(window.detect.detected, timeout=30000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    assert used == ["test-lines"] and window.detect.detector_used == "test-lines"
    assert "from test-lines in" in window.statusBar().currentMessage()
    assert "test-lines" in window.detect.count_label.toolTip()
    qtbot.keyClick(window.canvas, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert doc.history.steps[-1].label == "Add detected damage (test-lines)" and doc.mask.any()


def test_a_remembered_detector_that_cannot_run_now_falls_back_to_the_default(window, tmp_path, monkeypatch):
    from restorer.ui.detector_picker import DetectorPicker

    window.settings.detector = "damage-unet"
    monkeypatch.setenv("RESTORER_WEIGHTS", str(tmp_path / "no-weights"))
    picker = DetectorPicker(window.settings)
    assert picker.current_detector() == registry.default_name() == "classical"
    window.settings.detector = "no-such-detector"
    assert DetectorPicker(window.settings).current_detector() == "classical"


def test_the_learned_detector_can_be_picked_when_its_weights_are_there(qtbot, window, damaged_png, ui):
    if not registry.check(registry.get_spec("damage-unet")).ready:
        pytest.skip("the damage-unet weights are not in this checkout")
    ui.open_photo(qtbot, window, damaged_png)
    assert window.detect.picker.set_detector("damage-unet")
    with qtbot.waitSignal(window.detect.detected, timeout=60000):
        window.detect.detect_action.trigger()
    assert window.detect.detector_used == "damage-unet" and window.detect.layer is not None
    assert isinstance(window.detect.layer.levels, np.ndarray)
