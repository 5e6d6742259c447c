"""The README's Detect Damage screenshot: the shipped scratched sample with its proposals, one of them turned off.

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/screenshot_detect.py

Works on a copy of resources/samples/astronaut-scratched.png; writes resources/screenshots/detect-damage.png.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from screenshots import SAMPLE, settle, wait

OUT = ROOT / "resources" / "screenshots" / "detect-damage.png"


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="restorer-detect-shot-"))
    os.environ["RESTORER_SETTINGS"] = str(tmp / "settings.ini")
    photo = tmp / SAMPLE.name
    shutil.copy(SAMPLE, photo)

    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from restorer.ui.app import make_app
    from restorer.ui.main_window import MainWindow

    app = make_app(sys.argv[:1])
    window = MainWindow()
    window.resize(1400, 940)
    window.show()
    window.open_path(photo)
    wait(app, lambda: window.document is not None)
    settle(app)
    done: list[bool] = []
    window.detect.detected.connect(lambda: done.append(True))
    window.detect.detect_action.trigger()  # what D does (under Xvfb without a window manager nothing has key focus)
    wait(app, lambda: bool(done), 60)
    layer = window.detect.layer
    # turn off the largest proposal that is not on the sample's own scratches, with a real click
    from screenshots import SAMPLE_MASK

    from restorer.core.maskfile import load_mask

    truth = load_mask(SAMPLE_MASK, window.document.shape)
    sizes = np.bincount(layer.labels[~truth].ravel())
    sizes[0] = 0
    label = int(sizes.argmax())
    ys, xs = np.nonzero(layer.labels == label)
    i = len(ys) // 2
    point = window.canvas.image_to_widget(xs[i] + 0.5, ys[i] + 0.5).toPoint()
    QTest.mouseClick(window.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseMove(window.canvas, window.canvas.image_to_widget(60, 470).toPoint())
    settle(app, 0.5)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT))
    print(f"wrote {OUT}: {layer.count - 1} proposals, {layer.accepted_count} accepted")
    window.detect.clear()
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
