"""The app's persistent preferences (QSettings): brush, model, overlay, folders, recent files, layout."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

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
        return int(value)  # type: ignore[call-overload]
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


T = TypeVar("T")


class _Pref(Generic[T]):
    """One stored preference as an attribute of Settings: read through ``parse`` (stored value or
    None -> T, so a missing or garbled entry gives the default), written as ``write(value)``."""

    def __init__(self, key: str, parse: Callable[[object], T], write: Callable[[T], object]) -> None:
        self.key, self.parse, self.write = key, parse, write

    def __get__(self, obj: Settings, owner: type | None = None) -> T:
        return self.parse(obj.store.value(self.key))

    def __set__(self, obj: Settings, value: T) -> None:
        obj.store.setValue(self.key, self.write(value))


class Settings:
    """Typed access to the stored preferences; every value has a default so a fresh install works."""

    brush_size = _Pref("brush/size", lambda v: max(1, _int(v, 24)), int)
    overlay_opacity = _Pref("view/overlayOpacity", lambda v: min(1.0, max(0.0, _float(v, 0.5))), float)
    auto_fill = _Pref("fill/auto", lambda v: _bool(v, False), bool)
    grain = _Pref("fill/grain", lambda v: _bool(v, False), bool)
    model = _Pref("fill/model", lambda v: str(v or ""), str)  # "" = never chosen: the registry's default
    device = _Pref("fill/device", lambda v: str(v or "auto"), str)
    detector = _Pref("detect/detector", lambda v: str(v or ""), str)  # "" = never chosen: the registry's default
    last_folder = _Pref("files/lastFolder", lambda v: str(v or ""), str)
    # Provenance: NAME.restorer.json beside each saved photo and an XMP history entry in it (issue 17).
    write_sidecar = _Pref("files/sidecar", lambda v: _bool(v, True), bool)
    # JPEG to JPEG keeps the source's DCT blocks no fill touched (core/jpegmaster.py); off = the
    # CLI's --jpeg-reencode, a full re-encode at the default quality.
    jpeg_master = _Pref("files/jpegMaster", lambda v: _bool(v, True), bool)
    # Save Project puts the original's bytes into the project, so it opens when the file moved or is gone.
    embed_original = _Pref("files/embedOriginal", lambda v: _bool(v, False), bool)
    wand_tolerance = _Pref("mask/wandTolerance", lambda v: min(255, max(0, _int(v, 32))), int)
    grow_px = _Pref("mask/growPx", lambda v: min(500, max(1, _int(v, 3))), int)  # Grow/Shrink Mask's last amount
    feather_px = _Pref("fill/featherPx", lambda v: min(64, max(-1, _int(v, -1))), int)  # -1 automatic, 0 off

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else open_settings()

    # files ----------------------------------------------------------------------------------------
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
