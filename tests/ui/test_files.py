"""Opening and saving through the real window: drag and drop, command line, bad files, save beside, unsaved-close."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from restorer.core.image import load_photo

Btn = QMessageBox.StandardButton


def _stroke(qtbot, window, ui):
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, [(40, 40), (90, 60)])


def test_drag_and_drop_opens_the_file(qtbot, window, photo_png):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_png))])
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # the real sequence: enter (the window says it takes files), then drop
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPoint(50, 50).toPointF(), Qt.DropAction.CopyAction, mime, buttons, mods)
    with qtbot.waitSignal(window.photoOpened, timeout=20000) as opened:
        QApplication.sendEvent(window, event)
    assert event.isAccepted()
    assert Path(opened.args[0]) == photo_png
    assert window.document.pixels.shape == (120, 160, 3)
    assert window.windowTitle().startswith("scan.png")


def test_command_line_opens_the_image(qtbot, photo_png, dialogs):
    from restorer.ui.app import launch, parse_args

    args = parse_args([str(photo_png)])
    assert args.image == photo_png
    win = launch(args)
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.document is not None, timeout=20000)
        assert win.isVisible() and win.document.photo.path == photo_png
    finally:
        win.shutdown()
    assert win.tasks.finished and win.file_tasks.finished


def test_a_bad_file_shows_an_error_and_the_app_stays_up(qtbot, window, tmp_path, photo_png, dialogs, ui):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    with qtbot.waitSignal(window.openFailed, timeout=20000) as failed:
        window.open_path(bad)
    assert "broken.png" in failed.args[0]
    assert dialogs.titles("critical") == ["Cannot open photo"]
    assert window.document is None and window.isVisible()
    assert not window.file_bar.isVisible()
    doc = ui.open_photo(qtbot, window, photo_png)
    assert doc.pixels.shape == (120, 160, 3)


def test_save_writes_beside_the_original_and_never_over_it(qtbot, window, photo_png, ui):
    original_bytes = photo_png.read_bytes()
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    assert window.isWindowModified()
    with qtbot.waitSignal(window.photoSaved) as saved:
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    out = Path(saved.args[0])
    assert out == photo_png.with_name("scan-restored.png")
    assert photo_png.read_bytes() == original_bytes
    assert np.array_equal(load_photo(out).pixels, doc.pixels)
    assert not doc.dirty and not window.isWindowModified()
    # a later Ctrl+S updates the same restored file; the original is still untouched
    _stroke(qtbot, window, ui)
    with qtbot.waitSignal(window.photoSaved) as saved_again:
        window.actions.save.trigger()
    assert Path(saved_again.args[0]) == out
    assert photo_png.read_bytes() == original_bytes


def test_save_picks_a_free_name_and_keeps_16_bits(qtbot, window, photo_tiff16, ui):
    taken = photo_tiff16.with_name("scan16-restored.tif")
    taken.write_bytes(b"someone else's file")
    doc = ui.open_photo(qtbot, window, photo_tiff16)
    assert doc.pixels.dtype == np.uint16
    _stroke(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    with qtbot.waitSignal(window.photoSaved) as saved:
        window.actions.save.trigger()
    out = Path(saved.args[0])
    assert out.name == "scan16-restored-2.tif"
    assert taken.read_bytes() == b"someone else's file"
    back = load_photo(out)
    assert back.pixels.dtype == np.uint16 and np.array_equal(back.pixels, doc.pixels)


@pytest.mark.parametrize("confirm", [False, True])
def test_save_as_over_the_original_needs_explicit_confirmation(qtbot, window, photo_png, ui, dialogs, monkeypatch, confirm):
    original_bytes = photo_png.read_bytes()
    ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(photo_png), "PNG (*.png)")))
    dialogs.answer(Btn.Yes if confirm else Btn.No)
    if confirm:
        with qtbot.waitSignal(window.photoSaved, timeout=20000):
            assert window.save_as()
    else:
        assert not window.save_as() and not window.files.saving
    assert dialogs.titles("warning") == ["Overwrite the original?"]
    assert (photo_png.read_bytes() == original_bytes) is not confirm


def test_save_as_chooses_the_format(qtbot, window, photo_tiff16, ui, dialogs, monkeypatch, tmp_path):
    ui.open_photo(qtbot, window, photo_tiff16)
    target = tmp_path / "out" / "copy"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "PNG (*.png)")))
    with qtbot.waitSignal(window.photoSaved, timeout=20000):
        assert window.save_as()
    assert load_photo(target.with_suffix(".png")).pixels.dtype == np.uint16
    # 16-bit to JPEG asks first; "No" writes nothing
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target) + ".jpg", "JPEG (*.jpg *.jpeg)")))
    dialogs.answer(Btn.No)
    assert not window.save_as()
    assert not Path(str(target) + ".jpg").exists()
    assert dialogs.titles("question") == ["Save as 8-bit?"]


def _fill(qtbot, window):
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()


def test_closing_with_unsaved_work_asks_first(qtbot, window, photo_png, ui, dialogs):
    ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    _fill(qtbot, window)
    dialogs.answer(Btn.Cancel)
    assert not window.close()
    assert window.isVisible() and dialogs.titles("question") == ["Unsaved changes"]
    dialogs.answer(Btn.Save)
    assert not window.close()  # not yet: the window closes itself once the file is written
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20000)
    assert photo_png.with_name("scan-restored.png").exists()
    assert window.tasks.finished


def test_opening_another_photo_with_unsaved_work_asks(qtbot, window, photo_png, photo_tiff16, ui, dialogs):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    dialogs.answer(Btn.Cancel)
    assert not window.open_path(photo_tiff16)
    assert window.document is doc
    dialogs.answer(Btn.Discard)
    ui.open_photo(qtbot, window, photo_tiff16)
    assert window.document is not doc


def test_mask_export_and_import_round_trip(qtbot, window, photo_png, ui, monkeypatch, tmp_path):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    painted = doc.mask.copy()
    target = tmp_path / "mask.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.actions.export_mask.trigger()
    window.actions.clear_mask.trigger()  # the export wrote a copy: clearing now changes nothing in the file
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == f"Mask saved to {target}", timeout=20000)
    assert not doc.mask.any()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.actions.import_mask.trigger()
    qtbot.waitUntil(lambda: doc.history.steps[-1].label == "Import mask", timeout=20000)
    assert np.array_equal(doc.mask, painted)


def test_recent_files_menu_reopens(qtbot, window, photo_png, photo_tiff16, ui):
    ui.open_photo(qtbot, window, photo_png)
    ui.open_photo(qtbot, window, photo_tiff16)
    entries = [a for a in window.recent_menu.actions() if a.toolTip().endswith((".png", ".tif"))]
    assert [Path(a.toolTip()).name for a in entries] == ["scan16.tif", "scan.png"]
    with qtbot.waitSignal(window.photoOpened, timeout=20000) as opened:
        entries[1].trigger()
    assert Path(opened.args[0]).name == "scan.png"


def test_smoke_test_flag_checks_the_app_end_to_end(photo_png, tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RESTORER_SETTINGS=str(tmp_path / "smoke.ini"))
    out = subprocess.run([sys.executable, "-m", "restorer.ui.app", "--smoke-test", str(photo_png)],
                         capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "smoke test passed" in out.stdout and "undo restored every pixel" in out.stdout
    missing = subprocess.run([sys.executable, "-m", "restorer.ui.app", "--smoke-test", str(tmp_path / "nope.png")],
                             capture_output=True, text=True, timeout=180, env=env)
    assert missing.returncode == 1 and "FAILED" in missing.stderr


def test_a_mask_only_change_is_not_called_an_unsaved_photo(qtbot, window, photo_png, ui, dialogs):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    _fill(qtbot, window)
    with qtbot.waitSignal(window.photoSaved, timeout=20000):
        window.actions.save.trigger()
    assert not doc.dirty and not doc.photo_dirty
    _stroke(qtbot, window, ui)  # the mask changes after the save; the photo does not
    assert doc.dirty and not doc.photo_dirty
    dialogs.answer(Btn.Cancel)
    assert not window.close()
    _, title, text = dialogs.calls[-1]
    assert title == "Unsaved mask" and "only the mask changed since the last save" in text
    dialogs.answer(Btn.Discard)
    assert window.close()
    assert dialogs.titles("question") == ["Unsaved mask", "Unsaved mask"]
