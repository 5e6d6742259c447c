"""Guards the app against a PySide6 reference-count bug that crashes long sessions on Python < 3.12.

PySide6 6.12 (cp310-abi3 wheel) drops a reference to ``None`` on every call of a void Qt method
and to ``True``/``False`` on every signal emit, as if they were immortal (they are only from
Python 3.12 on). On 3.11, ``None`` starts with a few thousand references, so after some
thousands of calls CPython aborts with "Fatal Python error: none_dealloc" (seen after ~30 s of
panning during a fill). Until a fixed PySide6 is pinned, we give those singletons a reference
count so large that the lost decrements can never reach zero, which is what 3.12 does anyway.
"""

from __future__ import annotations

import ctypes
import sys

# 2**40 lost references would take years of continuous calls.
_HEADROOM = 1 << 40
_applied = False


def _pyside_drops_none() -> bool:
    from PySide6.QtCore import QPoint

    point = QPoint()
    before = sys.getrefcount(None)
    for _ in range(64):
        point.setX(1)  # a void method: a correct binding leaves None's count unchanged
    return sys.getrefcount(None) < before - 32


def apply() -> bool:
    """Protect None, True and False if this PySide6 needs it; True when the guard is (now) in place."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # immortal singletons: nothing to guard
    if not _pyside_drops_none():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object, at id(obj).
        ctypes.c_ssize_t.from_address(id(obj)).value += _HEADROOM
    _applied = True
    return True
