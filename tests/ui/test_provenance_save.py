"""The app's Save writes a provenance sidecar with every fill of the history and an XMP history entry; the setting turns both off."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from restorer.core import xmp
from restorer.core.image import load_photo
from restorer.core.provenance import mask_sha256, sidecar_path


def _fill(qtbot, window, ui, points):
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, points)
    mask = window.document.mask.copy()
    with qtbot.waitSignal(window.fills.fillApplied, timeout=30000):
        window.actions.fill.trigger()
    return mask


def test_save_writes_a_sidecar_listing_each_fill(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    window.model_picker.set_model("telea")
    first = _fill(qtbot, window, ui, [(40, 40), (90, 60)])
    second = _fill(qtbot, window, ui, [(100, 20), (120, 90)])
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        window.actions.save.trigger()
    out = Path(saved.args[0])
    data = json.loads(sidecar_path(out).read_text())
    assert data["source"] == {"path": str(photo_png.absolute()), "sha256": hashlib.sha256(photo_png.read_bytes()).hexdigest()}
    assert data["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert [s["mask_sha256"] for s in data["steps"]] == [mask_sha256(first), mask_sha256(second)]
    assert all(s["kind"] == "fill" and s["model"] == "telea" and s["device"] and s["time"] for s in data["steps"])
    assert xmp.history(load_photo(out).meta.extra["xmp"])[-1]["action"] == "modified"
    assert "xmp" not in window.document.photo.meta.extra  # the document's own metadata stay as loaded
    # the next Ctrl+S rewrites the same file and its sidecar
    _fill(qtbot, window, ui, [(20, 100), (60, 110)])
    with qtbot.waitSignal(window.photoSaved, timeout=20000):
        window.actions.save.trigger()
    data = json.loads(sidecar_path(out).read_text())
    assert len(data["steps"]) == 3 and data["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_the_setting_turns_the_sidecar_off(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    window.model_picker.set_model("telea")
    window.actions.sidecar.trigger()  # checked by default: this unchecks it, and it is remembered
    assert window.settings.write_sidecar is False
    _fill(qtbot, window, ui, [(40, 40), (90, 60)])
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        window.actions.save.trigger()
    out = Path(saved.args[0])
    assert out.is_file() and not sidecar_path(out).exists()
    assert "xmp" not in load_photo(out).meta.extra
