"""Ctrl+V pastes the clipboard's image as a new untitled photo; dropped image data opens too; Save asks where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from restorer.ui.clipboard import photo_from_qimage


def _qimage(rgb: np.ndarray) -> QImage:
    h, w, _ = rgb.shape
    return QImage(np.ascontiguousarray(rgb).data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def test_qimage_becomes_the_array_contract() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    photo = photo_from_qimage(_qimage(rgb))
    assert photo.pixels.dtype == np.uint8 and np.array_equal(photo.pixels, rgb)
    assert photo.alpha is None and photo.path is None
    gray = QImage(5, 4, QImage.Format.Format_Grayscale16)
    gray.fill(40000)
    g = photo_from_qimage(gray)
    assert g.pixels.shape == (4, 5, 1) and g.pixels.dtype == np.uint16 and (g.pixels == 40000).all()
    argb = QImage(3, 2, QImage.Format.Format_ARGB32)
    argb.fill(Qt.GlobalColor.transparent)
    assert photo_from_qimage(argb).alpha is not None  # transparency kept aside, not dropped
    with pytest.raises(ValueError):
        photo_from_qimage(QImage())


def test_ctrl_v_pastes_a_new_untitled_photo_and_save_asks_where(qtbot: Any, window: Any, dialogs: Any,
                                                                 tmp_path: Path, monkeypatch: Any, ui: Any) -> None:
    rgb = ui.make_photo(40, 60)
    QApplication.clipboard().setImage(_qimage(rgb))
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        qtbot.keyClick(window.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    doc = window.document
    assert doc is not None and doc.photo.path is None and np.array_equal(doc.pixels, rgb)
    assert "untitled" in window.windowTitle()
    assert window.settings.recent_files == []  # nothing to reopen

    asked: list[str] = []
    target = tmp_path / "pasted.png"

    def fake_save_path(parent: Any, start: Path, suffix: str) -> Path:
        asked.append(str(start))
        return target

    from restorer.ui import files

    monkeypatch.setattr(files, "ask_save_path", fake_save_path)
    with qtbot.waitSignal(window.photoSaved, timeout=20000):
        window.actions.save.trigger()
    assert asked and asked[0].endswith("untitled.png")
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(target)), rgb)
    assert "pasted.png" in window.windowTitle()
    with qtbot.waitSignal(window.photoSaved, timeout=20000):  # the second save goes to the same file
        window.actions.save.trigger()
    assert len(asked) == 1


def test_paste_with_no_image_says_so(qtbot: Any, window: Any) -> None:
    QApplication.clipboard().setText("just text")
    assert window.paste() is False
    assert window.document is None and "no image" in window.statusBar().currentMessage()


def test_dropped_image_data_opens_without_a_file(qtbot: Any, window: Any, ui: Any) -> None:
    rgb = ui.make_photo(30, 50, seed=3)
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    mime = QMimeData()
    mime.setData("image/png", buf.getvalue())  # what a browser drag carries beside an http URL
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        window.dropEvent(drop)
    assert window.document is not None and window.document.photo.path is None
    assert np.array_equal(window.document.pixels, rgb)
