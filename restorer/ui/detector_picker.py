"""DetectorPicker: the Detect tool bar's list of every registered damage detector, remembered in Settings.

A detector that cannot run (weights missing, corrupt or modified) is listed disabled with the
reason as its tooltip, as the model picker does for fills; the box's tooltip describes the chosen one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from restorer.detection import registry
from restorer.ui.model_picker import SpecPicker, list_specs
from restorer.ui.settings import Settings


class DetectorPicker(SpecPicker):
    """Every registered detector; the choice is stored in ``settings.detector`` ("" = the registry's default)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setMinimumContentsLength(10)
        self.reload()
        self.currentIndexChanged.connect(self._chosen)

    def reload(self) -> None:
        """List the detectors again (their weights may have appeared) and select the remembered one."""
        self.blockSignals(True)
        list_specs(self, registry.all_specs(), registry.check, "detector",
                   lambda spec: f"{spec.description}\nLicence: {spec.licence}")
        wanted = self.settings.detector
        if not (wanted and self._select(wanted)):
            self._select(registry.default_name())
        self.blockSignals(False)
        self._update_tip()

    def _select(self, name: str) -> bool:
        i = self.findData(name)
        if i < 0 or not self.is_enabled_at(i):
            return False
        self.setCurrentIndex(i)
        return True

    def set_detector(self, name: str) -> bool:
        """Choose ``name`` if it is listed and can run (remembered); False, choice unchanged, otherwise."""
        return self._select(name)

    def current_detector(self) -> str:
        data = self.currentData()
        return str(data) if data is not None else registry.default_name()

    def _chosen(self, _index: int) -> None:
        self.settings.detector = self.current_detector()
        self._update_tip()

    def _update_tip(self) -> None:
        tip = self.reason(self.current_detector())
        self.setToolTip(f"Detector used by Detect Damage: {self.current_detector()}\n{tip}")
