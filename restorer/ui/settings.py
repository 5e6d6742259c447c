"""The app's persistent preferences (QSettings): brush, model, overlay, folders, recent files, layout."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 10


def open_settings() -> QSettings:
    """$RESTORER_SETTINGS names an ini file (tests, portable installs); otherwise the platform's store."""
    path = os.environ.get("RESTORER_SETTINGS")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Restorer", "Restorer")


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _float(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _bool(value: object, default: bool) -> bool:
    # IniFormat gives strings back ("true"/"false"); native stores give bools.
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


class Settings:
    """Typed access to the stored preferences; every value has a default so a fresh install works."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else open_settings()

    # brush and overlay ------------------------------------------------------------------------
    @property
    def brush_size(self) -> int:
        return max(1, _int(self.store.value("brush/size"), 24))

    @brush_size.setter
    def brush_size(self, value: int) -> None:
        self.store.setValue("brush/size", int(value))

    @property
    def overlay_opacity(self) -> float:
        return min(1.0, max(0.0, _float(self.store.value("view/overlayOpacity"), 0.5)))

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self.store.setValue("view/overlayOpacity", float(value))

    @property
    def auto_fill(self) -> bool:
        return _bool(self.store.value("fill/auto"), False)

    @auto_fill.setter
    def auto_fill(self, value: bool) -> None:
        self.store.setValue("fill/auto", bool(value))

    # model ----------------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return str(self.store.value("fill/model") or "telea")

    @model.setter
    def model(self, value: str) -> None:
        self.store.setValue("fill/model", value)

    @property
    def device(self) -> str:
        return str(self.store.value("fill/device") or "auto")

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("fill/device", value)

    # files ----------------------------------------------------------------------------------------
    @property
    def last_folder(self) -> str:
        return str(self.store.value("files/lastFolder") or "")

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self.store.setValue("files/lastFolder", value)

    @property
    def recent_files(self) -> list[str]:
        value = self.store.value("files/recent")
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value]

    def add_recent(self, path: Path) -> list[str]:
        entry = str(Path(path).resolve())
        recent = [p for p in self.recent_files if p != entry]
        recent.insert(0, entry)
        recent = recent[:MAX_RECENT]
        self.store.setValue("files/recent", recent)
        return recent

    def clear_recent(self) -> None:
        self.store.setValue("files/recent", [])

    # window layout --------------------------------------------------------------------------------
    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def sync(self) -> None:
        self.store.sync()
