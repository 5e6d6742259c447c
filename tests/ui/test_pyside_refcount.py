"""The app survives long sessions: many void Qt calls and signal emits must not free None/True/False.

PySide6-Essentials 6.12.0 lost a reference to None on every void call (and to True on every emit)
under Python 3.11 and aborted the app after ~30 s of use; pyproject.toml pins below 6.12. This
test fails on such a binding.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import restorer.ui
from PySide6.QtCore import QObject, QPoint, Signal

class Source(QObject):
    changed = Signal(int)

point, source = QPoint(), Source()
source.changed.connect(lambda v: None)
for i in range(200_000):  # far more than None's and True's natural reference counts
    point.setX(i)
    source.changed.emit(i)
print("alive", sys.getrefcount(None) > 0)
"""


def test_a_long_session_of_qt_calls_does_not_abort_python():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "alive True" in out.stdout
