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
