"""Screenshots of the real window for the README: a photo with a mask and the history panel, and the split comparison.

Run under a virtual X server so the real xcb platform draws the window:
    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/screenshots.py
(without a display it falls back to Qt's offscreen platform). Works on a copy of the shipped
sample (resources/samples/astronaut-scratched.png), so nothing is written beside the sample.
Writes resources/screenshots/main-window.png, split-comparison.png, welcome.png (the empty window),
selection.png (a magic-wand selection and a lasso outline in progress) and help-about.png.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
SAMPLE = ROOT / "resources" / "samples" / "astronaut-scratched.png"
SAMPLE_MASK = ROOT / "resources" / "samples" / "astronaut-scratched-mask.png"
OUT = ROOT / "resources" / "screenshots"


def wait(app, cond, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)


def settle(app, seconds: float = 0.3) -> None:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="restorer-shots-"))
    os.environ["RESTORER_SETTINGS"] = str(tmp / "settings.ini")  # a fresh user, not yours
    photo = tmp / "astronaut-scratched.png"
    shutil.copy(SAMPLE, photo)

    import numpy as np

    from restorer.core.maskfile import load_mask
    from restorer.ui.app import make_app
    from restorer.ui.main_window import MainWindow

    app = make_app(sys.argv[:1])
    from restorer.ui.settings import Settings

    Settings().add_recent(photo)  # the empty window lists it, as after a first session
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    settle(app, 1.0)
    OUT.mkdir(parents=True, exist_ok=True)
    welcome_png = OUT / "welcome.png"
    window.grab().save(str(welcome_png))
    window.open_path(photo)
    wait(app, lambda: window.document is not None)
    doc = window.document
    damage = load_mask(SAMPLE_MASK, doc.shape)

    # Step 1-2: the left half's damage marked and filled, as a user would after brushing it.
    left = damage.copy()
    left[:, doc.shape[1] // 2:] = False
    doc.set_mask(left, label="Import mask")
    done: dict = {}
    window.fills.fillApplied.connect(lambda _e: done.setdefault("ok", True))
    window.fills.fillDropped.connect(lambda why: done.setdefault("dropped", why))
    # The model a new user gets: the best installed one (registry.default_model()).
    window.fill()
    wait(app, lambda: bool(done))
    if "dropped" in done:
        raise RuntimeError(f"fill did not apply: {done['dropped']}")

    # Step 3: a real brush stroke with the mouse along the long scratch on the right (x = 421 - 0.2375 y) ...
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    canvas = window.canvas
    canvas.set_brush_size(9)
    points = [(421 - 0.2375 * y, y) for y in range(0, 512, 32)]
    wp = [canvas.image_to_widget(x + 0.5, y + 0.5).toPoint() for x, y in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wp[0])
    for p in wp[1:]:
        QTest.mouseMove(canvas, p)
        app.processEvents()
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, wp[-1])
    # ... and the rest of the right half's damage added as a second mask.
    right = damage.copy()
    right[:, : doc.shape[1] // 2] = False
    doc.set_mask(doc.mask | right, label="Import mask")
    QTest.mouseMove(canvas, canvas.image_to_widget(330, 120).toPoint())  # brush outline in view
    settle(app)

    OUT.mkdir(parents=True, exist_ok=True)
    main_png = OUT / "main-window.png"
    window.grab().save(str(main_png))

    # Fill the rest too, then the split comparison of the whole document: original left, now right.
    done.clear()
    window.fill()
    wait(app, lambda: bool(done))
    window.comparing.compare_document("split")
    window.comparing.view.set_divider(0.5)
    settle(app)
    split_png = OUT / "split-comparison.png"
    window.grab().save(str(split_png))

    # Selections: a magic-wand click on the dark sky (one undoable step), and a lasso being clicked.
    window.show_canvas()
    window.actions.wand.trigger()
    window.selection.tolerance.setValue(24)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     canvas.image_to_widget(470.5, 30.5).toPoint())
    window.actions.lasso.trigger()
    for x, y in ((60, 380), (200, 350), (230, 470), (90, 500)):
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         canvas.image_to_widget(x + 0.5, y + 0.5).toPoint())
        settle(app, 0.05)
    QTest.mouseMove(canvas, canvas.image_to_widget(70, 470).toPoint())
    settle(app)
    selection_png = OUT / "selection.png"
    window.grab().save(str(selection_png))
    canvas.abort_stroke()

    about = window.help.show("about")
    about.resize(900, 720)
    settle(app)
    about_png = OUT / "help-about.png"
    about.grab().save(str(about_png))
    about.close()

    doc.mark_saved(tmp / "unused.png")  # no save prompt: this run changes nothing the user owns
    window.close()
    print(f"wrote {main_png}, {split_png}, {welcome_png}, {selection_png}, {about_png} "
          f"({np.count_nonzero(doc.mask)} masked pixels shown)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
