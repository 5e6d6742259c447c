"""The empty window: the hint to open or drop a photo, and recent photos that open on a click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from restorer.ui.welcome import HINT


def _remember(*paths: Path) -> None:
    from restorer.ui.settings import Settings

    settings = Settings()
    for path in paths:
        settings.add_recent(path)
    settings.sync()


def test_empty_window_says_how_to_start_and_lists_recent_photos(qtbot: Any, window: Any, photo_png: Path,
                                                                 tmp_path: Path) -> None:
    _remember(tmp_path / "gone.png", photo_png)  # gone.png: deleted since, listed but not clickable
    window.files.rebuild_recent()  # what the window does at start
    panel = window.welcome
    assert panel.isVisible() and panel.hint.text() == HINT
    assert [b.toolTip() for b in panel.recent_buttons] == [str(photo_png.resolve()), str((tmp_path / "gone.png").resolve())]
    assert panel.recent_buttons[0].isEnabled() and not panel.recent_buttons[1].isEnabled()
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        qtbot.mouseClick(panel.recent_buttons[0], Qt.MouseButton.LeftButton)
    assert window.document is not None and window.document.photo.path == photo_png
    assert not panel.isVisible()  # the photo takes the canvas


def test_the_recent_photos_are_listed_at_start_and_clear_recent_empties_them(qtbot: Any, dialogs: Any,
                                                                             photo_png: Path) -> None:
    from restorer.ui.main_window import MainWindow

    _remember(photo_png)
    win = MainWindow()
    qtbot.addWidget(win)
    try:
        assert len(win.welcome.recent_buttons) == 1
        clear = next(a for a in win.recent_menu.actions() if a.text() == "Clear Recent")
        clear.trigger()
        assert win.welcome.recent_buttons == [] and win.welcome.recent_title.isHidden()
    finally:
        win.shutdown()


def test_nothing_open_disables_cancel_and_back_to_editing_and_shows_a_device(qtbot: Any, window: Any,
                                                                             photo_png: Path, ui: Any) -> None:
    a = window.actions
    assert not a.cancel.isEnabled() and not a.back_to_canvas.isEnabled()
    assert window.fills.device_label.text() != "Device: -"
    assert window.model_picker.set_model("telea")
    assert window.fills.device_label.text() == "Device: cpu"
    ui.open_photo(qtbot, window, photo_png)
    assert a.cancel.isEnabled() and a.back_to_canvas.isEnabled()


def test_a_learned_model_shows_where_it_will_run_before_the_first_fill(qtbot: Any, window: Any) -> None:
    assert window.model_picker.set_model("telea")
    assert window.model_picker.set_model("partialconv-compact")
    qtbot.waitUntil(lambda: window.fills.device_label.text() == "Device: cpu", timeout=60000)  # no GPU in CI
