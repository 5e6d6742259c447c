"""The Navigator: the whole photo with the canvas's view framed; a click moves the view there."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt


def test_navigator_frames_the_view_and_a_click_centres_the_canvas_there(qtbot: Any, window: Any, photo_png: Any,
                                                                        ui: Any) -> None:
    nav = window.navigator
    assert nav.image_rect().isEmpty()  # nothing open: nothing drawn
    ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    target = nav.image_rect()
    assert not target.isEmpty() and abs(target.width() / target.height() - 160 / 120) < 0.02
    view = nav.visible_rect()
    assert view.contains(QPointF(80, 60))  # fitted: the whole photo is in view
    canvas.zoom_at(8.0, QPointF(canvas.width() / 2, canvas.height() / 2))
    assert nav.visible_rect().width() < 160
    # a click on the photo's top-left quarter puts that point at the canvas's centre
    point = QPointF(target.x() + target.width() * 0.25, target.y() + target.height() * 0.25)
    qtbot.mouseClick(nav, Qt.MouseButton.LeftButton, pos=point.toPoint())
    x, y = canvas.widget_to_image(QPointF(canvas.width() / 2, canvas.height() / 2))
    assert abs(x - 40) < 2 and abs(y - 30) < 2
    assert nav.visible_rect().contains(QPointF(40, 30))
    assert any(a.text() == "Navigator" for a in window.view_menu.actions())
