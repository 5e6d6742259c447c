"""Saving and mask import in the file thread: the window keeps working, the photo holds still while
it is written, and closing or opening another photo waits for the save to succeed."""

from __future__ import annotations

import errno
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from restorer.core import image, maskfile
from restorer.core.document import Document
from restorer.core.image import load_photo

Btn = QMessageBox.StandardButton


class HeldSave:
    """Stands in for save_photo: notes the calling thread, waits until the test lets it go, then
    writes for real (or raises ``error``)."""

    def __init__(self) -> None:
        self.real = image.save_photo
        self.threads: list[threading.Thread] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()
        self.error: BaseException | None = None

    def __call__(self, photo: Any, path: Any, **kwargs: Any) -> list[str]:
        self.threads.append(threading.current_thread())
        self.entered.set()
        self.release.wait(20)
        try:
            if self.error is not None:
                raise self.error
            return self.real(photo, path, **kwargs)
        finally:
            self.returned.set()


@pytest.fixture
def held_save(window: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSave]:
    """After ``window``, so it lets a held save go before the window's threads are waited on."""
    held = HeldSave()
    monkeypatch.setattr(image, "save_photo", held)
    yield held
    held.release.set()


def _stroke(qtbot: Any, window: Any, ui: Any, y: int = 50) -> None:
    window.canvas.set_brush_size(8)
    ui.drag(qtbot, window.canvas, [(40, y), (90, y + 10)])


def _fill_with_telea(qtbot: Any, window: Any) -> None:
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()


def _status(window: Any) -> str:
    return window.statusBar().currentMessage()


def test_saving_runs_in_the_file_thread_while_the_window_keeps_working(qtbot, window, photo_tiff16, ui, held_save):
    doc = ui.open_photo(qtbot, window, photo_tiff16)
    _stroke(qtbot, window, ui)
    _fill_with_telea(qtbot, window)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    assert _status(window) == "Saving scan16-restored.tif…"
    assert window.file_bar.isVisible() and not window.actions.save.isEnabled()
    # the event loop runs while save_photo is still inside: timers tick, zoom and brush work
    seen = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= seen + 5, timeout=10000)
    scale = window.canvas.scale
    window.zoom_step(-1)
    assert window.canvas.scale < scale
    ui.drag(qtbot, window.canvas, [(100, 80), (120, 80)])
    assert doc.mask[80, 100:121].all()
    assert not held_save.returned.is_set()
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        held_save.release.set()
    timer.stop()
    assert held_save.threads and held_save.threads[0] is not threading.main_thread()
    out = Path(saved.args[0])
    assert out.name == "scan16-restored.tif"
    assert np.array_equal(load_photo(out).pixels, doc.pixels)
    assert _status(window).startswith("Saved scan16-restored.tif in ")
    # the stroke painted during the save is not in the file: the document is still unsaved
    assert doc.dirty and window.isWindowModified() and doc.saved_path == out
    assert window.actions.save.isEnabled() and not window.file_bar.isVisible()


def test_photo_changes_are_refused_while_a_save_writes_the_photo(qtbot, window, photo_png, ui, held_save):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    _fill_with_telea(qtbot, window)
    _stroke(qtbot, window, ui, y=90)  # a mask edit after the fill
    filled, steps = doc.pixels.copy(), doc.history.index
    window.actions.save.trigger()
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    assert not window.actions.fill.isEnabled()
    window.fill()  # e.g. auto-fill after a stroke
    assert not window.fills.running and _status(window).startswith("Saving scan-restored.png: ")
    window.undo()  # the stroke: mask only, so it may go
    assert doc.history.index == steps - 1 and not doc.mask.any()
    window.undo()  # the fill would change the pixels being written
    assert doc.history.index == steps - 1 and "once the file is written" in _status(window)
    window.goto_step(0)
    assert doc.history.index == steps - 1
    assert not window.save() and _status(window) == "Already saving scan-restored.png…"
    assert np.array_equal(doc.pixels, filled)
    with qtbot.waitSignal(window.photoSaved, timeout=20000) as saved:
        held_save.release.set()
    out = Path(saved.args[0])
    assert len(held_save.threads) == 1
    assert np.array_equal(load_photo(out).pixels, filled)
    assert doc.dirty  # the mask undo came after the state that was written
    window.undo()  # the save is done: the fill can be undone now
    assert doc.history.index == steps - 2 and not np.array_equal(doc.pixels, filled)
    assert np.array_equal(load_photo(out).pixels, filled)


def test_a_fill_that_finishes_during_a_save_is_applied_after_it(qtbot, window, photo_png, ui, blocking_model, held_save):
    doc = ui.open_photo(qtbot, window, photo_png)
    window.model_picker.reload()
    assert window.model_picker.set_model("test-blocking")
    _stroke(qtbot, window, ui)
    before = doc.pixels.copy()
    window.actions.fill.trigger()
    qtbot.waitUntil(blocking_model.entered.is_set, timeout=10000)
    window.actions.save.trigger()
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    blocking_model.release.set()
    qtbot.waitUntil(lambda: window.fills.progress.bar.format() == "Waiting for the save…", timeout=20000)
    assert np.array_equal(doc.pixels, before) and window.fills.running
    with qtbot.waitSignals([window.photoSaved, window.fills.fillApplied], order="strict", timeout=20000):
        held_save.release.set()
    assert np.array_equal(load_photo(photo_png.with_name("scan-restored.png")).pixels, before)
    assert not np.array_equal(doc.pixels, before) and doc.history.steps[-1].kind == "fill" and doc.dirty


@pytest.mark.parametrize("fails", [False, True])
def test_save_them_first_closes_the_window_only_once_the_file_is_written(qtbot, window, photo_png, ui, dialogs, held_save, fails):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    _fill_with_telea(qtbot, window)  # a photo change: a mask-only one asks another question
    out = photo_png.with_name("scan-restored.png")
    dialogs.answer(Btn.Save)
    assert not window.close()
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    assert window.isVisible() and dialogs.titles("question") == ["Unsaved changes"]
    assert _status(window) == "Saving scan-restored.png… the window closes once it is written"
    if not fails:
        held_save.release.set()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=20000)
        assert out.exists() and not doc.dirty
        assert window.file_tasks.finished
        return
    held_save.error = OSError(errno.ENOSPC, "No space left on device")
    with qtbot.waitSignal(window.saveFailed, timeout=20000) as failed:
        held_save.release.set()
    message = failed.args[0]
    assert message == f"{out}: cannot save: No space left on device"
    assert dialogs.calls[-1] == ("critical", "Cannot save", message)
    # nothing was discarded: the window stays, the work is still unsaved and editable
    assert window.isVisible() and doc.dirty and window.document is doc
    assert doc.photo_lock is None and window.actions.save.isEnabled()
    assert sorted(p.name for p in photo_png.parent.iterdir()) == ["scan.png"]


def test_closing_during_a_save_waits_for_the_file_then_closes(qtbot, window, photo_png, ui, dialogs, held_save):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    window.actions.save.trigger()
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    assert not window.close()
    assert window.isVisible()
    assert _status(window) == "Saving scan-restored.png… the window closes once it is written"
    held_save.release.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20000)
    assert dialogs.titles() == []  # the save held all the work: nothing to ask
    assert np.array_equal(load_photo(photo_png.with_name("scan-restored.png")).pixels, doc.pixels)


def test_opening_another_photo_saves_first_and_opens_after_the_write(qtbot, window, photo_png, photo_tiff16, ui, dialogs, held_save):
    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    _fill_with_telea(qtbot, window)  # a photo change: a mask-only one asks another question
    dialogs.answer(Btn.Save)
    assert not window.open_path(photo_tiff16)
    qtbot.waitUntil(held_save.entered.is_set, timeout=10000)
    assert window.document is doc and not window.files.loading
    with qtbot.waitSignal(window.photoOpened, timeout=20000) as opened:
        held_save.release.set()
    assert Path(opened.args[0]) == photo_tiff16
    assert not doc.dirty and photo_png.with_name("scan-restored.png").exists()


def test_mask_import_reads_in_the_file_thread_and_makes_the_same_step(qtbot, window, photo_png, ui, monkeypatch, tmp_path):
    doc = ui.open_photo(qtbot, window, photo_png)
    target = tmp_path / "mask.png"
    wanted = np.zeros(doc.shape, np.bool_)
    wanted[20:50, 30:90] = True
    maskfile.save_mask(wanted, target)
    _stroke(qtbot, window, ui, y=70)
    painted, steps = doc.mask.copy(), len(doc.history.steps)
    threads: list[threading.Thread] = []
    real = maskfile.load_mask

    def recorded(*args: Any, **kwargs: Any) -> np.ndarray:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(maskfile, "load_mask", recorded)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.actions.import_mask.trigger()
    qtbot.waitUntil(lambda: len(doc.history.steps) == steps + 1, timeout=20000)
    assert threads and threads[0] is not threading.main_thread()
    assert np.array_equal(doc.mask, wanted) and _status(window) == "Mask imported from mask.png"
    # the step the synchronous import made: set_mask on the GUI thread, from the same state
    reference = Document(image.Photo(doc.pixels.copy()))
    reference.mask[:] = painted
    expected = reference.set_mask(real(target, doc.shape), label="Import mask")
    edit = doc.history.steps[-1]
    assert (edit.label, edit.kind) == (expected.label, expected.kind) == ("Import mask", "mask")
    assert [(p.target, p.box) for p in edit.patches] == [(p.target, p.box) for p in expected.patches]
    assert all(np.array_equal(a.before, b.before) and np.array_equal(a.after, b.after)
               for a, b in zip(edit.patches, expected.patches))
    window.undo()
    assert np.array_equal(doc.mask, painted)


@pytest.mark.parametrize("kind", ["not an image", "wrong size"])
def test_a_bad_mask_file_says_why_and_changes_nothing(qtbot, window, photo_png, ui, dialogs, monkeypatch, tmp_path, kind):
    from PIL import Image

    doc = ui.open_photo(qtbot, window, photo_png)
    _stroke(qtbot, window, ui)
    painted, steps = doc.mask.copy(), len(doc.history.steps)
    bad = tmp_path / "bad.png"
    if kind == "not an image":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    else:
        Image.fromarray(np.zeros((10, 12), np.uint8)).save(bad)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad), "")))
    window.actions.import_mask.trigger()
    qtbot.waitUntil(lambda: dialogs.titles("critical") == ["Cannot import mask"], timeout=20000)
    message = dialogs.calls[-1][2]
    assert message.startswith(str(bad)) and "\n" not in message
    if kind == "wrong size":
        assert "mask is 12 x 10 pixels but the photo is 160 x 120" in message
    assert np.array_equal(doc.mask, painted) and len(doc.history.steps) == steps
    assert not window.file_bar.isVisible()
