"""What loading changed in a photo (pages dropped, a mode converted) is said in the status bar."""

from __future__ import annotations

import numpy as np
import tifffile


def test_opening_a_multipage_tiff_says_only_the_first_page_was_read(qtbot, window, tmp_path, ui):
    path = tmp_path / "album.tif"
    with tifffile.TiffWriter(path) as tw:
        for k in range(3):
            tw.write(np.full((40, 60, 3), 40 * k, np.uint8), photometric="rgb")
    ui.open_photo(qtbot, window, path)
    qtbot.waitUntil(lambda: "3 pages" in window.statusBar().currentMessage(), timeout=5000)
    assert "album.tif" in window.statusBar().currentMessage()


def test_opening_a_plain_photo_shows_no_note(qtbot, window, photo_png, ui):
    ui.open_photo(qtbot, window, photo_png)
    assert "note" not in window.statusBar().currentMessage()


def test_saving_says_what_the_format_could_not_carry(qtbot, window, tmp_path, ui, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    src = tmp_path / "scan.tif"
    packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * 80_000 + b"</x:xmpmeta>"
    tifffile.imwrite(src, np.full((40, 60, 3), 90, np.uint8), photometric="rgb",
                     extratags=[(700, 1, len(packet), packet, True)])
    ui.open_photo(qtbot, window, src)
    target = tmp_path / "copy.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "JPEG (*.jpg *.jpeg)")))
    with qtbot.waitSignal(window.photoSaved, timeout=20000):
        assert window.save_as()
    assert target.is_file()
    message = window.statusBar().currentMessage()
    assert "Saved copy.jpg" in message and "XMP packet" in message and "saved without it" in message


def test_a_truncated_jpeg_offers_its_readable_part(qtbot, window, dialogs, tmp_path):
    import io

    from PIL import Image
    from PySide6.QtWidgets import QMessageBox

    buf = io.BytesIO()
    yy, xx = np.mgrid[0:120, 0:160]
    Image.fromarray(np.stack([xx, yy, xx + yy], axis=2).astype(np.uint8)).save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) * 2 // 3])  # past the headers, mid-scan
    dialogs.answer(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        window.open_path(path)
    assert dialogs.titles("question") == ["Open the readable part?"]
    assert window.document.photo.meta.extra["truncated"] and "partly read" in window.windowTitle()
    assert "partly read" in window.statusBar().currentMessage()
    # "No" shows the error, as before
    dialogs.answer(QMessageBox.StandardButton.No)
    with qtbot.waitSignal(window.openFailed, timeout=20000):
        window.files.open_path(path)
    assert dialogs.titles("critical") == ["Cannot open photo"]
