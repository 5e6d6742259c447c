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
