"""The Help menu: shortcuts read from the actions, Getting Started on F1, About naming each model's terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from restorer.models import registry
from restorer.models.terms import NON_COMMERCIAL, model_terms


def _menu_titles(window: Any) -> list[str]:
    return [a.text().replace("&", "") for a in window.menuBar().actions()]


def test_help_menu_is_last_and_f1_opens_getting_started(qtbot: Any, window: Any) -> None:
    assert _menu_titles(window)[-1] == "Help"
    qtbot.keyClick(window.canvas, Qt.Key.Key_F1)
    dialog = window.help.dialogs["start"]
    assert dialog.isVisible() and dialog.windowTitle() == "Getting Started"
    text = dialog.text()
    for spec in registry.all_specs():  # every model is named with what it is for
        assert spec.name in text and spec.best_for in text
    from restorer.detection import registry as detectors

    for det in detectors.all_specs():
        assert det.name in text


def test_shortcut_list_follows_the_actions(window: Any) -> None:
    window.actions.fill.setShortcut(QKeySequence("Ctrl+Alt+F"))  # a changed key shows at once
    window.actions.help_shortcuts.trigger()
    text = window.help.dialogs["shortcuts"].text()
    assert "Ctrl+Alt+F" in text and "Ctrl+O" in text and "F1" in text and "Ctrl+Shift+Z" in text
    # every shortcut of every action in the menus is listed
    listed = 0
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            if action.isVisible() and not key.isEmpty():
                assert key.toString(QKeySequence.SequenceFormat.NativeText) in text, action.text()
                listed += 1
    assert listed > 20


def test_about_names_version_licence_and_each_models_terms(window: Any) -> None:
    from restorer import __version__

    window.actions.help_about.trigger()
    text = window.help.dialogs["about"].text()
    assert __version__ in text and "GPL-3.0-or-later" in text
    cards = sorted(Path(registry.weights_dir()).glob("*.json"))
    assert cards, "the shipped weights have cards"
    for spec in registry.all_specs():
        assert spec.name in text
        terms = model_terms(spec)
        assert terms.licence in text
        if spec.card_name and (registry.weights_dir() / spec.card_name).is_file():
            card = json.loads((registry.weights_dir() / spec.card_name).read_text())
            assert card["licence"] in text and card["data"][:60] in text
            assert terms.restricted  # the shipped cards say research and non-commercial only
    assert NON_COMMERCIAL in text.lower()


def test_picker_shows_best_for_and_the_terms_in_its_tooltip(window: Any) -> None:
    picker = window.model_picker
    assert picker.set_model("partialconv-compact")
    assert picker.currentText() == "partialconv-compact"  # the closed box stays narrow
    assert NON_COMMERCIAL in picker.toolTip().lower()
    i = picker.findData("telea")
    assert picker.itemData(i, Qt.ItemDataRole.UserRole + 1) == registry.get_spec("telea").best_for
    assert picker.set_model("telea")
    assert "Apache-2.0" in picker.toolTip() and NON_COMMERCIAL not in picker.toolTip().lower()


def test_a_missing_card_is_said_not_crashed(tmp_path: Path) -> None:
    terms = model_terms(registry.get_spec("partialconv-compact"), folder=tmp_path)
    assert "not installed" in terms.card and terms.unread and not terms.restricted
    (tmp_path / "partialconv-compact.json").write_text("{not json")
    assert "unreadable" in model_terms(registry.get_spec("partialconv-compact"), folder=tmp_path).card


def test_mask_menu_has_import_and_export_mask(window: Any) -> None:
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    for name in ("Mask", "File"):
        actions = menus[name].actions()
        assert window.actions.import_mask in actions and window.actions.export_mask in actions
