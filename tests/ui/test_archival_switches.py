"""The archival switches in the File menu: "Save JPEG Masters: Keep Untouched Blocks" (on by default;
off = a full re-encode) and "Embed the Original in Projects" (off by default), both remembered."""

from __future__ import annotations

import json
from pathlib import Path

import jpeglib
import numpy as np
from PySide6.QtCore import Qt

from restorer.core.project import read_project
from restorer.core.provenance import sidecar_path


def _file_menu_texts(window) -> list[str]:
    menu = window.menuBar().actions()[0].menu()
    return [a.text() for a in menu.actions()]


def _filled_jpeg(qtbot, window, tmp_path: Path, ui) -> Path:
    from PIL import Image

    src = tmp_path / "photos" / "scan.jpg"
    src.parent.mkdir(parents=True)
    Image.fromarray(ui.make_photo()).save(src, quality=85, subsampling=0)
    ui.open_photo(qtbot, window, src)
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, [(40, 40), (90, 60)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    return src


def _same_blocks(a: Path, b: Path) -> float:
    """The share of luma DCT blocks of ``b`` equal to ``a``'s."""
    da, db = jpeglib.read_dct(str(a)), jpeglib.read_dct(str(b))
    return float(np.all(np.asarray(da.Y) == np.asarray(db.Y), axis=(2, 3)).mean())


def test_both_switches_are_in_the_file_menu_with_their_defaults(window):
    texts = _file_menu_texts(window)
    assert "Save JPEG Masters: Keep &Untouched Blocks" in texts and "&Embed the Original in Projects" in texts
    a = window.actions
    assert a.jpeg_master.isCheckable() and a.jpeg_master.isChecked() and window.settings.jpeg_master
    assert a.embed_original.isCheckable() and not a.embed_original.isChecked() and not window.settings.embed_original
    assert "--jpeg-reencode" in a.jpeg_master.toolTip()


def test_turning_jpeg_masters_off_re_encodes_the_whole_photo(qtbot, window, tmp_path, ui):
    src = _filled_jpeg(qtbot, window, tmp_path, ui)
    window.actions.jpeg_master.trigger()  # off
    assert not window.settings.jpeg_master
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    out = Path(saved.args[0])
    assert _same_blocks(src, out) < 0.5, "a full re-encode at another quality changes most blocks"
    assert "jpeg_master" not in json.loads(sidecar_path(out).read_text())

    window.actions.jpeg_master.trigger()  # on again: most blocks are the source's
    assert window.settings.jpeg_master
    window.undo()
    window.redo()  # a change since the save, so Ctrl+S writes again
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    again = Path(saved.args[0])
    assert _same_blocks(src, again) > 0.8
    assert json.loads(sidecar_path(again).read_text())["jpeg_master"]["mcus_reencoded"] > 0


def test_embed_the_original_puts_it_into_saved_projects(qtbot, window, photo_png, tmp_path, ui):
    ui.open_photo(qtbot, window, photo_png)
    ui.drag(qtbot, window.canvas, [(40, 40), (90, 60)])
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "plain.restorer")
    assert not read_project(tmp_path / "plain.restorer").embedded
    window.actions.embed_original.trigger()
    assert window.settings.embed_original
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "embedded.restorer")
    data = read_project(tmp_path / "embedded.restorer")
    assert data.embedded
    assert "the original inside" in window.statusBar().currentMessage()
    assert (tmp_path / "embedded.restorer").stat().st_size > (tmp_path / "plain.restorer").stat().st_size


def test_the_switches_are_remembered(qtbot, dialogs, window):
    from restorer.ui.main_window import MainWindow

    window.actions.jpeg_master.trigger()
    window.actions.embed_original.trigger()
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert not again.actions.jpeg_master.isChecked() and again.actions.embed_original.isChecked()
    finally:
        again.shutdown()
