"""ModelPicker: the tool bar's list of every registered model, what each is best for, and why one cannot run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from restorer.models import registry
from restorer.models.terms import model_terms

BEST_FOR_ROLE = Qt.ItemDataRole.UserRole + 1


def list_specs(box: QComboBox, specs: Iterable[Any], check: Callable[[Any], Any], what: str,
               ready_tip: Callable[[Any], str]) -> list[Any]:
    """Fill ``box`` with one item per registry spec (data = its name): enabled with ``ready_tip(spec)``
    as its tooltip when ``check(spec).ready``, else disabled with the reason. Returns the specs listed."""
    box.clear()
    model = box.model()
    assert isinstance(model, QStandardItemModel)
    listed = []
    for spec in specs:
        try:
            state = check(spec)
            ready, reason = state.ready, state.reason
        except Exception as exc:  # noqa: BLE001 - a broken entry must not stop the app from starting
            ready, reason = False, f"cannot check this {what}: {exc}"
        box.addItem(spec.name, spec.name)
        i = box.count() - 1
        box.setItemData(i, ready_tip(spec) if ready else f"Unavailable: {reason}", Qt.ItemDataRole.ToolTipRole)
        model.item(i).setEnabled(ready)
        listed.append(spec)
    return listed


class SpecPicker(QComboBox):
    """A list of registry entries filled by ``list_specs``: which can run, and why one cannot."""

    def is_enabled_at(self, i: int) -> bool:
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(i)
        return bool(item is not None and item.isEnabled())

    def reason(self, name: str) -> str:
        """The tooltip of ``name``'s entry: its description, or why it cannot run."""
        i = self.findData(name)
        return str(self.itemData(i, Qt.ItemDataRole.ToolTipRole) or "") if i >= 0 else ""


class _BestForDelegate(QStyledItemDelegate):
    """The open list shows "name — best for"; the closed box keeps the bare name, so the tool bar stays narrow."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        best = index.data(BEST_FOR_ROLE)
        if best:
            option.text = f"{option.text}  —  {best}"


class ModelPicker(SpecPicker):
    """Every registered model with what it is best for; ones that cannot run are disabled, with the
    reason as the tooltip. The tooltip of the box is the chosen model's: what it is and its terms."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumContentsLength(14)
        self.setItemDelegate(_BestForDelegate(self))
        self.currentIndexChanged.connect(self._update_tip)
        self.reload()

    def _update_tip(self, _index: int = -1) -> None:
        tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) if self.currentIndex() >= 0 else None
        self.setToolTip(f"Model used to fill the mask: {self.currentData()}\n{tip}" if tip else "Model used to fill the mask")

    def reload(self) -> None:
        current = self.current_model()
        self.blockSignals(True)
        specs = list_specs(self, registry.all_specs(), registry.check, "model",
                           lambda spec: f"{spec.description}\n{model_terms(spec).short()}")
        for i, spec in enumerate(specs):
            self.setItemData(i, spec.best_for, BEST_FOR_ROLE)
        self.blockSignals(False)
        if current:
            self.set_model(current)
        self._update_tip()

    def current_model(self) -> str | None:
        data = self.currentData()
        return str(data) if data is not None else None

    def set_model(self, name: str) -> bool:
        """Select ``name`` if it is listed and enabled; False (selection unchanged) otherwise."""
        i = self.findData(name)
        if i < 0 or not self.is_enabled_at(i):
            return False
        self.setCurrentIndex(i)
        return True

