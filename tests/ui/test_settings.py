"""Preferences persist between runs, in the ini file the test points RESTORER_SETTINGS at."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from restorer.ui.settings import MAX_RECENT, Settings


def test_preferences_survive_a_restart(qtbot, window, photo_png, ui, settings_ini):
    ui.open_photo(qtbot, window, photo_png)
    window.brush_slider.setValue(57)
    window.opacity_slider.setValue(30)
    window.model_picker.set_model("navier-stokes")
    window.auto_check.setChecked(True)
    window.resize(700, 500)
    assert window.close()
    assert settings_ini.is_file(), "settings went to the temp ini, not the user's store"
    text = settings_ini.read_text()
    assert "navier-stokes" in text and "57" in text

    from restorer.ui.main_window import MainWindow

    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert again.canvas.brush_size == 57 and again.brush_slider.value() == 57
        assert again.opacity_slider.value() == 30
        assert again.model_picker.current_model() == "navier-stokes"
        assert again.actions.auto_fill.isChecked()
        assert again.settings.last_folder == str(photo_png.parent)
        assert again.settings.recent_files == [str(photo_png.resolve())]
        assert (again.width(), again.height()) == (700, 500)
    finally:
        again.shutdown()


def test_recent_files_are_capped_and_deduplicated(tmp_path):
    s = Settings()
    for i in range(MAX_RECENT + 3):
        s.add_recent(tmp_path / f"p{i}.png")
    s.add_recent(tmp_path / "p5.png")
    recent = s.recent_files
    assert len(recent) == MAX_RECENT
    assert recent[0].endswith("p5.png") and recent.count(recent[0]) == 1


def test_a_garbled_settings_file_falls_back_to_defaults(settings_ini):
    settings_ini.parent.mkdir(parents=True, exist_ok=True)
    settings_ini.write_text("[brush]\nsize=banana\n[view]\noverlayOpacity=7\n")
    s = Settings()
    assert s.brush_size == 24
    assert s.overlay_opacity == 1.0
    assert s.model == ""  # never chosen: the window takes the registry's default
    assert QMessageBox  # settings never need a dialog


@pytest.mark.parametrize("weights", ["shipped", "none"])
def test_first_start_picks_the_best_installed_model(qtbot, dialogs, tmp_path, monkeypatch, weights):
    from restorer.models import registry
    from restorer.ui.main_window import MainWindow

    if weights == "none":
        monkeypatch.setenv("RESTORER_WEIGHTS", str(tmp_path / "no-weights"))
    win = MainWindow()
    qtbot.addWidget(win)
    try:
        expected = "guided-ensemble" if weights == "shipped" else "telea"
        assert registry.default_model() == expected
        assert win.model_picker.current_model() == expected
    finally:
        win.shutdown()


def test_device_choice_is_remembered_and_used_by_the_next_fill(qtbot, window, photo_png, ui, monkeypatch):
    cpu = next(a for a in window.device_menu.actions() if a.data() == "cpu")
    cpu.trigger()
    assert window.settings.device == "cpu"
    from restorer.inference import engine

    seen = {}
    real_plan = engine.plan

    def spy(pixels, mask, model, options=engine.EngineOptions(), **kw):
        seen["device"] = options.device
        return real_plan(pixels, mask, model, options, **kw)

    monkeypatch.setattr(engine, "plan", spy)
    ui.open_photo(qtbot, window, photo_png)
    ui.drag(qtbot, window.canvas, [(30, 30), (60, 40)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    assert seen["device"] == "cpu"


@pytest.mark.parametrize(("answer", "feather", "feather_px"), [(-1, True, None), (0, False, None), (12, True, 12)])
def test_seam_feather_is_asked_remembered_and_passed_to_the_fill(qtbot, window, photo_png, ui, monkeypatch,
                                                                  answer, feather, feather_px):
    from PySide6.QtWidgets import QInputDialog

    from restorer.inference import engine

    monkeypatch.setattr(QInputDialog, "getInt", staticmethod(lambda *a, **k: (answer, True)))
    window.actions.feather.trigger()
    assert window.settings.feather_px == answer
    seen = {}
    real_plan = engine.plan

    def spy(pixels, mask, model, options=None, **kw):
        seen["feather"] = (options.feather, options.feather_px)
        return real_plan(pixels, mask, model, options, **kw)

    monkeypatch.setattr(engine, "plan", spy)
    ui.open_photo(qtbot, window, photo_png)
    assert window.model_picker.set_model("telea")
    ui.drag(qtbot, window.canvas, [(30, 30), (60, 40)])
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    assert seen["feather"] == (feather, feather_px)
