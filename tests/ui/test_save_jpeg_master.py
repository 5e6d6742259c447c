"""The app's Ctrl+S on a JPEG writes a JPEG master: DCT blocks outside the fill's MCUs stay the original's."""

from __future__ import annotations

import json
from pathlib import Path

import jpeglib
import numpy as np
from PySide6.QtCore import Qt

from restorer.core.image import load_photo
from restorer.core.provenance import sidecar_path


def test_ctrl_s_on_a_jpeg_keeps_the_untouched_blocks(qtbot, window, tmp_path, ui):
    from PIL import Image

    src = tmp_path / "photos" / "scan.jpg"
    src.parent.mkdir(parents=True)
    Image.fromarray(ui.make_photo()).save(src, quality=85, subsampling=0)  # 4:4:4: the MCU is one 8 x 8 block
    doc = ui.open_photo(qtbot, window, src)
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, [(40, 40), (90, 60)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    out = Path(saved.args[0])
    assert out == src.with_name("scan-restored.jpg")

    changed = np.any(doc.pixels != load_photo(src).pixels, axis=2)
    assert changed.any()
    h, w = changed.shape
    touched = np.zeros((-(-h // 8), -(-w // 8)), bool)
    for y, x in zip(*np.nonzero(changed), strict=True):
        touched[y // 8, x // 8] = True
    a, b = jpeglib.read_dct(str(src)), jpeglib.read_dct(str(out))
    assert np.array_equal(a.qt, b.qt)
    for pa, pb in ((a.Y, b.Y), (a.Cb, b.Cb), (a.Cr, b.Cr)):
        same = np.all(np.asarray(pa) == np.asarray(pb), axis=(2, 3))
        assert same[~touched].all() and not same.all()
    assert window.settings.write_sidecar  # on by default: the sidecar says how much was re-encoded
    assert json.loads(sidecar_path(out).read_text())["jpeg_master"]["mcus_reencoded"] == int(touched.sum())
