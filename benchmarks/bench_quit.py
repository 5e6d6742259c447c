"""How long Quit takes while the fill thread is busy (the learned model's warm-up importing torch).

    PYTHONPATH=$PWD python benchmarks/bench_quit.py [PHOTO]

Opens PHOTO in the real window offscreen, closes it 0.9 s after launch (while the worker imports
torch for the remembered learned model), and prints how long close() took and how long the process
took to end after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

CODE = r"""
import sys, time
from PySide6.QtCore import QTimer
from restorer.ui import app as appmod
app = appmod.make_app(sys.argv[:1])
orig = appmod.launch
def launch(args):
    w = orig(args)
    def quit_now():
        t0 = time.perf_counter()
        w.close()
        print("close() took %.2f s" % (time.perf_counter() - t0), flush=True)
    QTimer.singleShot(900, quit_now)
    return w
appmod.launch = launch
sys.exit(appmod.main(sys.argv[1:]))
"""


def main() -> int:
    photo = sys.argv[1] if len(sys.argv) > 1 else "resources/samples/astronaut-scratched.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RESTORER_SETTINGS="/tmp/restorer-bench-quit.ini")
    proc = subprocess.Popen([sys.executable, "-c", CODE, photo], env=env, stdout=subprocess.PIPE, text=True)
    closed = None
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line.rstrip())
        if line.startswith("close()"):
            closed = time.perf_counter()
    proc.wait()
    if closed is not None:
        print(f"process ended {time.perf_counter() - closed:.2f} s after close(); exit status {proc.returncode}")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
