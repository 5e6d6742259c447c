"""CompareView (split drag, keys, hold-for-before, difference) and the comparison pair helpers."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from restorer.core.document import Document
from restorer.core.box import BBox
from restorer.ui.compare import CompareView, qimage_to_rgb8
from restorer.ui.comparison_images import document_pair, step_pair

from restorer.core.image import Photo, PhotoMeta


RED, BLUE = (200, 0, 0), (0, 0, 200)


def solid(h: int, w: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


def make_doc(pixels: np.ndarray) -> Document:
    return Document(Photo(pixels, meta=PhotoMeta("TIFF")))


@pytest.fixture
def view(qtbot):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def rendered(view: CompareView) -> np.ndarray:
    return qimage_to_rgb8(view.grab().toImage())


def send_mouse(view: CompareView, kind: QMouseEvent.Type, x: float, y: float, buttons: Qt.MouseButton) -> None:
    # qtbot.mouseMove cannot hold a button down in Qt 6, so drags are sent as events.
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    pos = QPointF(x, y)
    event = QMouseEvent(kind, pos, view.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view, event)


def test_split_divider_follows_a_mouse_drag_and_shows_before_left_after_right(view, qtbot):
    view.set_pair(solid(100, 200, RED), solid(100, 200, BLUE), "red vs blue")
    rect = view.image_rect()
    assert rect.width() / rect.height() == pytest.approx(2.0, abs=0.02)  # aspect kept
    y = rect.center().y() + rect.height() // 4  # below the handle and the tags
    start = rect.x() + rect.width() * 0.5
    with qtbot.waitSignal(view.dividerMoved, timeout=1000):
        send_mouse(view, QMouseEvent.Type.MouseButtonPress, start, y, Qt.MouseButton.LeftButton)
        for f in (0.45, 0.35, 0.25):
            send_mouse(view, QMouseEvent.Type.MouseMove, rect.x() + rect.width() * f, y, Qt.MouseButton.LeftButton)
        send_mouse(view, QMouseEvent.Type.MouseButtonRelease, rect.x() + rect.width() * 0.25, y, Qt.MouseButton.NoButton)
    assert view.divider() == pytest.approx(0.25, abs=0.01)
    # After release, moving the mouse no longer drags.
    send_mouse(view, QMouseEvent.Type.MouseMove, rect.x() + rect.width() * 0.8, y, Qt.MouseButton.NoButton)
    assert view.divider() == pytest.approx(0.25, abs=0.01)

    img = rendered(view).astype(int)
    x_div = rect.x() + round(0.25 * rect.width())
    for x in (rect.x() + 3, x_div - 4):
        assert tuple(img[y, x]) == RED, x
    for x in (x_div + 4, rect.x() + rect.width() // 2, rect.right() - 3):
        assert tuple(img[y, x]) == BLUE, x


def test_arrow_keys_move_the_divider(view, qtbot):
    view.set_pair(solid(50, 50, RED), solid(50, 50, BLUE))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.divider() == pytest.approx(0.52)
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert view.divider() == pytest.approx(0.42)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.divider() == 0.0
    img = rendered(view)
    rect = view.image_rect()
    assert tuple(img[rect.bottom() - 5, rect.x() + 10]) == BLUE  # all "after" at divider 0


def test_modes_and_holding_for_the_original(view, qtbot):
    view.set_pair(solid(60, 60, RED), solid(60, 60, BLUE))
    with qtbot.waitSignal(view.modeChanged, timeout=1000) as blocker:
        view.set_mode("after")
    assert blocker.args == ["after"] and view.mode() == "after"
    rect = view.image_rect()
    probe = (rect.bottom() - 5, rect.x() + 10)
    assert tuple(rendered(view)[probe]) == BLUE
    view.show_before(True)
    assert tuple(rendered(view)[probe]) == RED
    view.show_before(False)
    assert tuple(rendered(view)[probe]) == BLUE
    with pytest.raises(ValueError):
        view.set_mode("sideways")


def test_difference_mode_is_black_where_unchanged_and_coloured_where_changed(view):
    rng = np.random.default_rng(1)
    before = rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)
    after = before.copy()
    after[20:30, 40:50, 2] += 1  # the smallest possible change
    view.set_pair(before, after)
    view.set_mode("difference")
    img = rendered(view).astype(int)
    rect = view.image_rect()
    scale = rect.width() / 60

    def at(row: float, col: float) -> np.ndarray:
        return img[int(rect.y() + row * scale), int(rect.x() + col * scale)]

    assert at(25, 45).sum() > 0
    for row, col in ((35, 5), (25, 30), (5, 45), (35, 55)):
        assert at(row, col).sum() == 0, (row, col)


def test_document_pair_shows_a_one_pixel_fill_on_a_downscaled_view(view):
    pixels = np.random.default_rng(3).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    doc = make_doc(pixels.copy())
    one = pixels[150:151, 200:201].copy()
    one[0, 0, 0] ^= 1
    doc.apply_fill([(BBox(150, 200, 151, 201), one)], "Tiny fill")
    pair = document_pair(doc, max_side=100)
    assert pair.before.shape == pair.after.shape == (75, 100, 3)
    assert np.count_nonzero(pair.difference) == 1
    assert pair.difference[150 // 4, 200 // 4] > 0
    doc.undo()
    assert np.count_nonzero(document_pair(doc, max_side=100).difference) == 0
    view.set_comparison(pair)
    assert view.has_pair() and view.title() == "Original / current"


def test_mismatched_sizes_and_qimage_input(view):
    with pytest.raises(ValueError):
        view.set_pair(solid(10, 10, RED), solid(10, 11, BLUE))
    before = QImage(30, 20, QImage.Format.Format_RGB32)
    before.fill(0xFFC80000)  # RED as ARGB
    view.set_pair(before, solid(20, 30, BLUE))
    view.set_mode("before")
    rect = view.image_rect()
    assert tuple(rendered(view)[rect.bottom() - 3, rect.x() + 3]) == RED
    view.set_divider(2.0)
    assert view.divider() == 1.0
    view.clear()
    assert not view.has_pair() and view.image_rect().isEmpty()


def test_a_mask_step_in_difference_mode_lights_up_only_the_stroke(view):
    doc = make_doc(np.full((40, 60, 3), 90, dtype=np.uint8))
    doc.begin_stroke()
    doc.paint((10, 20), (50, 20), 2)
    doc.commit_stroke("Brush")
    pair = step_pair(doc, 1)
    assert pair.box == (18, 8, 23, 53)  # the capsule's tight box
    view.set_comparison(pair)
    view.set_mode("difference")
    img = rendered(view).astype(int)
    rect = view.image_rect()
    scale = rect.width() / 45

    def at(row: int, col: int) -> np.ndarray:  # box-relative pixel centre
        return img[int(rect.y() + (row + 0.5) * scale), int(rect.x() + (col + 0.5) * scale)]

    assert at(2, 22).sum() > 0  # on the stroke
    assert at(0, 0).sum() == 0 and at(4, 44).sum() == 0  # round caps leave the corners unpainted
