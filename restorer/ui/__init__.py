"""The desktop app: the only package that imports PySide6."""

from restorer.ui import pyside_guard as _pyside_guard

# Before any widget exists: see pyside_guard for the PySide6 bug this protects against.
_pyside_guard.apply()
