"""`restorer --smoke-test IMAGE`: the built app checks itself end to end (open, brush, fill, undo, close)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtWidgets import QApplication, QMessageBox


def _wait(app: QApplication, cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def run(app: QApplication, image: Path, timeout: float = 120.0) -> int:
    """Open ``image`` in a real window, fill a brushed stroke with Telea in the worker, undo it, close.

    Prints one line per check and returns 0 when every check passed (1 otherwise). Settings go to
    a temporary file and every dialog is answered automatically, so it runs unattended.
    """
    os.environ.setdefault("RESTORER_SETTINGS", str(Path(tempfile.mkdtemp(prefix="restorer-smoke-")) / "settings.ini"))
    errors: list[str] = []

    def record(_parent: object, title: str, text: str, *args: object, **kwargs: object) -> QMessageBox.StandardButton:
        errors.append(f"{title}: {text}")
        return QMessageBox.StandardButton.Discard

    for kind in ("critical", "warning", "question", "information"):
        setattr(QMessageBox, kind, staticmethod(record))

    from restorer.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    try:
        t0 = time.monotonic()
        window.open_path(image)
        _wait(app, lambda: window.document is not None or bool(errors), timeout, "the photo to open")
        if errors:
            raise RuntimeError(errors[0])
        doc = window.document
        print(f"opened {image.name}: {doc.shape[1]} x {doc.shape[0]}, {doc.pixels.dtype} in {time.monotonic() - t0:.1f} s")
        before = doc.pixels.copy()
        h, w = doc.shape
        doc.begin_stroke()
        doc.paint((w * 0.3, h * 0.3), (w * 0.7, h * 0.6), max(2.0, min(h, w) / 60))
        doc.commit_stroke()
        hole = doc.mask.copy()
        window.model_picker.set_model("telea")
        done: dict[str, object] = {}
        window.fills.fillApplied.connect(lambda edit: done.setdefault("edit", edit))
        window.fills.fillDropped.connect(lambda why: done.setdefault("dropped", why))
        window.fill()
        _wait(app, lambda: bool(done), timeout, "the fill")
        if "edit" not in done:
            raise RuntimeError(f"the fill did not apply: {done.get('dropped')}")
        changed = (doc.pixels != before).any(axis=2)
        if not changed.any() or changed[~hole].any():
            raise RuntimeError("the fill changed no pixels, or pixels outside the mask")
        print(f"filled {int(hole.sum())} masked pixels with telea in the worker thread; nothing outside the mask changed")
        window.undo()
        if not (np.array_equal(doc.pixels, before) and np.array_equal(doc.mask, hole)):
            raise RuntimeError("undo did not restore the exact pixels and mask")
        print("undo restored every pixel")
    except Exception as exc:  # noqa: BLE001 - the smoke test reports, never hangs or tracebacks
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        window.shutdown()
        return 1
    window.shutdown()
    if not (window.tasks.finished and window.file_tasks.finished):
        print("smoke test FAILED: a worker thread is still running after close", file=sys.stderr)
        return 1
    print("worker threads stopped; smoke test passed")
    return 0
