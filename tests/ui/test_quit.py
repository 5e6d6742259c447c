"""Quitting does not wait for a fill thread stuck in a long call (a model load): the process ends at once, status 0."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = r"""
import sys, threading, time
from PySide6.QtCore import QTimer
from restorer.ui import app as appmod

app = appmod.make_app(sys.argv[:1])
launch = appmod.launch
started = threading.Event()

def busy(cancel):  # like a model load: it never looks at the cancel flag
    started.set()
    time.sleep(20)

def launch_and_quit(args):
    w = launch(args)
    w.tasks.submit(lambda cancel, report: busy(cancel))
    def quit_when_busy():
        started.wait(10)
        w.close()
        print("closed", w.threads_running(), flush=True)
    QTimer.singleShot(200, quit_when_busy)
    return w

appmod.launch = launch_and_quit
sys.exit(appmod.main([]))
"""


def test_quit_while_the_fill_thread_is_busy_exits_without_waiting(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RESTORER_SETTINGS=str(tmp_path / "s.ini"))
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, env=env,
                         check=False)
    took = time.monotonic() - start
    assert out.returncode == 0, out.stderr[-2000:]
    assert "closed True" in out.stdout  # the thread was still busy when the window closed...
    assert took < 20, took  # ...and the process did not wait for its 20 s call
    assert "QThread: Destroyed while thread is still running" not in out.stderr
    assert (tmp_path / "s.ini").exists()  # the settings were written before the early exit
