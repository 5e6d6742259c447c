"""HistoryPanel over a real Document: rows, thumbnails, clicks and keys, dimmed redo steps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPixmap

from restorer.core.document import Document
from restorer.core.image import Photo, PhotoMeta
from restorer.core.box import BBox
from restorer.ui import comparison_images
from restorer.ui.history_panel import HistoryModel, HistoryPanel

GREY = 120


def make_doc(h: int = 60, w: int = 80, budget: int = 2 << 30) -> Document:
    pixels = np.full((h, w, 3), GREY, dtype=np.uint8)
    pixels[:, :, 1] += (np.arange(w) % 7).astype(np.uint8)[None, :]  # a little texture
    return Document(Photo(pixels, meta=PhotoMeta("PNG")), byte_budget=budget)


def stroke(doc: Document, p0: tuple[float, float], p1: tuple[float, float], label: str, r: float = 3) -> None:
    doc.begin_stroke()
    doc.paint(p0, p1, r)
    doc.commit_stroke(label)


def fill_green(doc: Document, box: BBox, label: str = "Fill (telea)") -> None:
    patch = np.zeros((box.height, box.width, 3), dtype=np.uint8)
    patch[..., 1] = 230
    doc.apply_fill([(box, patch)], label)


def three_steps() -> Document:
    doc = make_doc()
    stroke(doc, (20, 30), (40, 30), "Brush 1")
    stroke(doc, (60, 10), (60, 20), "Brush 2")
    fill_green(doc, BBox(25, 15, 35, 45))
    return doc


def rows(model: HistoryModel, role: int = Qt.ItemDataRole.DisplayRole) -> list:
    return [model.data(model.index(r), role) for r in range(model.rowCount())]


@pytest.fixture
def panel(qtbot):
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.resize(260, 400)
    yield panel
    panel.set_document(None)


def test_rows_are_original_then_every_step_with_its_label(panel):
    doc = three_steps()
    panel.set_document(doc)
    model = panel.model()
    assert rows(model) == ["Original", "Brush 1", "Brush 2", "Fill (telea)"]
    assert rows(model, HistoryModel.IndexRole) == [0, 1, 2, 3]
    assert rows(model, HistoryModel.KindRole) == ["original", "stroke", "stroke", "fill"]
    assert rows(model, HistoryModel.StateRole) == ["done", "done", "done", "current"]

    # New steps appear as the document changes; a step after an undo replaces the redo tail.
    stroke(doc, (5, 5), (10, 5), "Brush 3")
    assert rows(model)[-1] == "Brush 3" and model.rowCount() == 5
    doc.undo()
    doc.undo()
    stroke(doc, (70, 50), (75, 55), "Brush 4")
    assert rows(model) == ["Original", "Brush 1", "Brush 2", "Brush 4"]


def test_thumbnails_have_the_thumbnail_size_and_show_the_step(panel):
    doc = three_steps()
    panel.set_document(doc)
    model = panel.model()
    for r in range(model.rowCount()):
        thumb = model.data(model.index(r), HistoryModel.ThumbnailRole)
        assert thumb.dtype == np.uint8 and thumb.ndim == 3 and max(thumb.shape[:2]) == 64
        pixmap = model.data(model.index(r), Qt.ItemDataRole.DecorationRole)
        assert isinstance(pixmap, QPixmap) and max(pixmap.width(), pixmap.height()) == 64
    # The whole 80 x 60 photo: 64 x 48.
    assert model.data(model.index(0), HistoryModel.ThumbnailRole).shape == (48, 64, 3)
    # A stroke's thumbnail is centred on the stroke and tints the mask red; the fill's shows green.
    brush = model.data(model.index(1), HistoryModel.ThumbnailRole).astype(int)
    cy, cx = brush.shape[0] // 2, brush.shape[1] // 2
    assert brush[cy, cx, 0] > brush[cy, cx, 1] + 60
    fill = model.data(model.index(3), HistoryModel.ThumbnailRole).astype(int)
    assert fill[fill.shape[0] // 2, fill.shape[1] // 2, 1] > 200


def test_thumbnail_of_an_undone_step_still_shows_that_step(qtbot):
    doc = three_steps()
    doc.goto(0)  # everything undone: photo and mask as loaded
    panel = HistoryPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    fill = panel.model().data(panel.model().index(3), HistoryModel.ThumbnailRole).astype(int)
    assert fill[fill.shape[0] // 2, fill.shape[1] // 2, 1] > 200
    assert np.all(doc.photo.pixels[..., 0] == GREY)  # the document itself was not touched
    panel.set_document(None)


def test_thumbnails_never_convert_the_whole_photo(monkeypatch, panel):
    doc = make_doc(1500, 2000)
    stroke(doc, (1000, 700), (1010, 700), "Brush")
    seen: list[int] = []
    real = comparison_images.to_display_rgb8
    monkeypatch.setattr(comparison_images, "to_display_rgb8", lambda a, icc=None: seen.append(a.size) or real(a, icc))
    panel.set_document(doc)
    for r in range(panel.model().rowCount()):
        panel.model().data(panel.model().index(r), HistoryModel.ThumbnailRole)
    assert seen and max(seen) < doc.photo.pixels.size // 50


def test_clicking_a_row_emits_step_chosen_with_its_history_index(qtbot, panel):
    doc = three_steps()
    panel.set_document(doc)
    panel.stepChosen.connect(doc.goto)
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view()
    rect = view.visualRect(panel.model().index(1))
    with qtbot.waitSignal(panel.stepChosen, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [1]
    assert doc.history.index == 1
    assert rows(panel.model(), HistoryModel.StateRole) == ["done", "current", "undone", "undone"]


def test_keyboard_up_and_enter_choose_the_previous_step(qtbot, panel):
    doc = three_steps()
    panel.set_document(doc)
    panel.show()
    qtbot.waitExposed(panel)
    panel.view().setFocus()
    assert panel.view().currentIndex().row() == 3  # the cursor starts on the current step
    qtbot.keyClick(panel.view(), Qt.Key.Key_Up)
    assert panel.cursor_step() == 2 and doc.history.index == 3
    with qtbot.waitSignal(panel.stepChosen, timeout=1000) as blocker:
        qtbot.keyClick(panel.view(), Qt.Key.Key_Return)
    assert blocker.args == [2]
    with qtbot.waitSignal(panel.compareRequested, timeout=1000) as blocker:
        qtbot.keyClick(panel.view(), Qt.Key.Key_C)
    assert blocker.args == [2]


def test_undone_steps_are_dimmed_and_the_current_one_highlighted(panel):
    doc = three_steps()
    panel.set_document(doc)
    model = panel.model()
    doc.undo()
    doc.undo()
    assert rows(model, HistoryModel.DimmedRole) == [False, False, True, True]
    assert rows(model, HistoryModel.StateRole) == ["done", "current", "undone", "undone"]
    assert model.data(model.index(1), Qt.ItemDataRole.FontRole).bold()
    dim = model.data(model.index(3), Qt.ItemDataRole.DecorationRole).toImage().pixelColor(32, 24)
    bright = model.data(model.index(3), HistoryModel.ThumbnailRole)[24, 32]
    assert abs(dim.green() - 128) < abs(int(bright[1]) - 128)  # faded towards grey
    doc.redo()
    doc.redo()
    assert not any(rows(model, HistoryModel.DimmedRole))
    assert panel.view().currentIndex().row() == 3


def test_a_note_row_says_when_older_steps_were_dropped(panel):
    doc = make_doc(budget=400)  # bytes: only a couple of small strokes fit
    panel.set_document(doc)
    for i in range(6):
        stroke(doc, (10 + 10 * i, 20), (10 + 10 * i, 40), f"Brush {i + 1}")
    model = panel.model()
    dropped = doc.history.dropped
    assert dropped > 0
    labels = rows(model)
    assert str(dropped) in labels[0] and "dropped" in labels[0]
    assert labels[1] == "Oldest kept state" and labels[-1] == "Brush 6"
    assert model.rowCount() == 2 + len(doc.history.steps)
    assert model.flags(model.index(0)) == Qt.ItemFlag.NoItemFlags
    assert rows(model, HistoryModel.IndexRole)[:3] == [-1, 0, 1]


def test_a_replaced_or_detached_document_is_no_longer_followed(panel):
    doc = three_steps()
    panel.set_document(doc)
    other = make_doc()
    panel.set_document(other)
    stroke(doc, (5, 5), (9, 5), "Brush 3")
    assert rows(panel.model()) == ["Original"]
    stroke(other, (5, 5), (9, 5), "Other brush")
    assert rows(panel.model()) == ["Original", "Other brush"]
    panel.set_document(None)
    stroke(other, (5, 15), (9, 15), "Ignored")
    assert panel.model().rowCount() == 0
    assert panel.model().data(QModelIndex()) is None


def test_gray_16_bit_photos_get_rgb_thumbnails(panel):
    pixels = (np.arange(90 * 120, dtype=np.uint16).reshape(90, 120, 1) * 6) % 65535
    doc = Document(Photo(pixels.astype(np.uint16), meta=PhotoMeta("TIFF")))
    stroke(doc, (30, 40), (60, 40), "Brush")
    doc.apply_fill([(BBox(38, 28, 43, 63), np.full((5, 35, 1), 60000, dtype=np.uint16))], "Fill")
    panel.set_document(doc)
    model = panel.model()
    thumbs = [model.data(model.index(r), HistoryModel.ThumbnailRole) for r in range(3)]
    assert [t.shape for t in thumbs] == [(48, 64, 3), (64, 64, 3), (64, 64, 3)]
    fill = thumbs[2].astype(int)
    assert fill[32, 32, 0] > 220 and fill[32, 32, 0] == fill[32, 32, 1]  # bright grey, not tinted
