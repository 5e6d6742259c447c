"""Projects through the real window: Save/Open Project round trips with full undo/redo, the original
asked for when it moved, and the recovery copy offered after a crash (a left file, and a real kill -9)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from restorer.core.project import read_project

Btn = QMessageBox.StandardButton


def _work(qtbot, window, ui) -> None:
    """Two strokes, a fill, a third stroke, one undo: a history with a redo step."""
    window.canvas.set_brush_size(6)
    ui.drag(qtbot, window.canvas, [(30, 30), (80, 50)])
    ui.drag(qtbot, window.canvas, [(100, 80), (120, 100)])
    assert window.model_picker.set_model("telea")
    with qtbot.waitSignal(window.fills.fillApplied, timeout=20000):
        window.actions.fill.trigger()
    ui.drag(qtbot, window.canvas, [(20, 100), (60, 104)])
    window.undo()


def _states(doc) -> list[tuple[np.ndarray, np.ndarray]]:
    """Photo and mask at every history state (the document is left where it was)."""
    here, out = doc.history.index, []
    for k in range(len(doc.history) + 1):
        doc.goto(k)
        out.append((doc.pixels.copy(), doc.mask.copy()))
    doc.goto(here)
    return out


def _same(a, b) -> bool:
    return all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b)) and len(a) == len(b)


def test_save_and_open_project_round_trip_with_undo_and_redo(qtbot, window, photo_png, tmp_path, dialogs, monkeypatch, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    states, position = _states(doc), doc.history.index
    assert window.isWindowModified()
    target = tmp_path / "work"  # the suffix is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000) as saved:
        qtbot.keyClick(window.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    project = Path(saved.args[0])
    assert project == tmp_path / "work.restorer" and project.is_file()
    assert not window.isWindowModified(), "a saved project is saved work"
    assert window.projects.save_action in window.menuBar().actions()[0].menu().actions()
    ui.open_photo(qtbot, window, photo_png)  # something else in between
    assert len(window.document.history) == 0
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        assert window.open_path(project)  # as `restorer PROJECT.restorer` and Open Recent do
    opened = window.document
    assert opened is not doc and opened.history.index == position
    assert np.array_equal(opened.pixels, doc.pixels) and np.array_equal(opened.mask, doc.mask)
    assert window.history_panel.isEnabled()
    window.redo()
    assert np.array_equal(opened.mask, states[position + 1][1])
    window.undo()
    window.undo()
    assert np.array_equal(opened.pixels, states[position - 1][0]) and np.array_equal(opened.mask, states[position - 1][1])
    assert _same(_states(opened), states)
    assert dialogs.titles("critical") == []


def test_a_moved_original_is_asked_for(qtbot, window, photo_png, tmp_path, dialogs, monkeypatch, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    states = _states(doc)
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "p.restorer")
    moved = tmp_path / "elsewhere.png"
    shutil.move(photo_png, moved)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(moved), "")))
    dialogs.answer(Btn.Yes)
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        window.projects.open_path(tmp_path / "p.restorer", confirm=False)
    assert dialogs.titles("question") == ["Where is the original photo?"]
    assert "missing" in dialogs.calls[0][2]
    assert window.document.photo.path == moved and _same(_states(window.document), states)


def test_a_recovery_file_left_by_a_crash_is_offered_and_restores_the_steps(qtbot, window, photo_png, recovery_dir,
                                                                          dialogs, ui):
    from restorer.ui.main_window import MainWindow

    doc = ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    qtbot.waitUntil(lambda: not window.projects.recovery.busy, timeout=20000)
    own = window.projects.recovery.path
    assert own is not None and own.parent == recovery_dir
    assert len(read_project(own).steps) == len(doc.history)
    states, position = _states(doc), doc.history.index
    # The crash: the file of an app that is gone stays (with its WAL), as kill -9 would leave it.
    dead = recovery_dir / "recovery-999999.restorer"
    for extra in ("", "-wal"):
        if Path(f"{own}{extra}").exists():
            shutil.copy(f"{own}{extra}", f"{dead}{extra}")
    window.shutdown()
    assert not own.exists(), "a clean quit removes its own recovery file"
    second = MainWindow()
    qtbot.addWidget(second)
    try:
        dialogs.answer(Btn.Yes)
        with qtbot.waitSignal(second.photoOpened, timeout=20000):
            assert second.projects.offer_recovery()
        assert dialogs.titles("question") == ["Recover unsaved work?"]
        assert "scan.png" in dialogs.calls[-1][2] and f"({len(states) - 1} steps)" in dialogs.calls[-1][2]
        recovered = second.document
        assert recovered.history.index == position and recovered.dirty, "recovered work still needs saving"
        assert _same(_states(recovered), states)
        assert not dead.exists(), "the recovered file is gone; this app keeps its own"
        qtbot.waitUntil(lambda: second.projects.recovery.path is not None and not second.projects.recovery.busy,
                        timeout=20000)
        assert second.projects.recovery.path.exists()
        assert not second.projects.offer_recovery(), "nothing is offered twice"
    finally:
        second.shutdown()
    assert list(recovery_dir.glob("*.restorer")) == []


def test_declining_recovery_discards_it(qtbot, window, photo_png, recovery_dir, dialogs, ui):
    ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    qtbot.waitUntil(lambda: not window.projects.recovery.busy, timeout=20000)
    shutil.copy(window.projects.recovery.path, recovery_dir / "recovery-999998.restorer")
    dialogs.answer(Btn.No)
    assert not window.projects.offer_recovery()
    assert not (recovery_dir / "recovery-999998.restorer").exists()


def test_the_app_killed_with_sigkill_leaves_work_the_next_start_recovers(qtbot, window, photo_png, recovery_dir,
                                                                        tmp_path, dialogs):
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        from PySide6.QtWidgets import QApplication
        from restorer.ui.main_window import MainWindow
        app = QApplication([])
        w = MainWindow()
        w.show()
        w.open_path({str(photo_png)!r})
        while w.document is None:
            app.processEvents()
        doc = w.document
        for i in range(4):
            doc.begin_stroke()
            doc.paint((10 + 20 * i, 10), (10 + 20 * i, 80), 4)
            doc.commit_stroke()
            app.processEvents()
        doc.undo()
        while w.projects.recovery.busy or w.projects.recovery.path is None:
            app.processEvents()
        np.save({str(tmp_path / "mask.npy")!r}, doc.mask)
        sys.stdout.write(str(doc.history.index) + "\\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    position = int(proc.stdout.strip())
    assert list(recovery_dir.glob("recovery-*.restorer")), "kill -9 leaves the recovery file"
    dialogs.answer(Btn.Yes)
    with qtbot.waitSignal(window.photoOpened, timeout=20000):
        assert window.projects.offer_recovery()
    doc = window.document
    assert len(doc.history) == 4 and doc.history.index == position == 3
    assert np.array_equal(doc.mask, np.load(tmp_path / "mask.npy"))
    window.redo()
    assert doc.mask[:, 68:74].any(), "the undone stroke is there to redo"


def test_a_project_of_the_apps_fills_renders_to_the_documents_pixels_exactly(qtbot, window, photo_png, tmp_path, ui):
    from restorer.cli import main
    from restorer.core.image import load_photo

    doc = ui.open_photo(qtbot, window, photo_png)
    window.canvas.set_brush_size(8)
    for model, points in (("partialconv-compact", [(30, 30), (90, 50)]), ("telea", [(100, 70), (130, 100)])):
        ui.drag(qtbot, window.canvas, points)
        assert window.model_picker.set_model(model), window.model_picker.reason(model)
        with qtbot.waitSignal(window.fills.fillApplied, timeout=60000):
            window.actions.fill.trigger()
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "app.restorer")
    assert read_project(tmp_path / "app.restorer").steps[1].meta["options"]["threads"] is not None
    assert main(["render", str(tmp_path / "app.restorer"), "-o", str(tmp_path / "render.png"), "--quiet"]) == 0
    assert np.array_equal(load_photo(tmp_path / "render.png").pixels, doc.pixels)


def test_restorer_project_on_the_command_line_opens_it_with_its_history(qtbot, window, photo_png, tmp_path, ui):
    from restorer.ui.app import launch, parse_args

    doc = ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    states = _states(doc)
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "cli.restorer")
    win = launch(parse_args([str(tmp_path / "cli.restorer")]))
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.document is not None, timeout=20000)
        assert win.document.photo.path == photo_png and _same(_states(win.document), states)
        assert win.windowTitle().startswith("scan.png")
    finally:
        win.shutdown()


def test_a_damaged_project_is_one_error_and_the_photo_stays(qtbot, window, photo_png, tmp_path, dialogs, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    _work(qtbot, window, ui)
    with qtbot.waitSignal(window.projects.projectSaved, timeout=20000):
        window.projects.save_to(tmp_path / "p.restorer")
    (tmp_path / "cut.restorer").write_bytes((tmp_path / "p.restorer").read_bytes()[:2048])
    with qtbot.waitSignal(window.projects.projectFailed, timeout=20000) as failed:
        window.open_path(tmp_path / "cut.restorer")
    assert "cut.restorer" in failed.args[0] and "\n" not in failed.args[0]
    assert dialogs.titles("critical") == ["Cannot open project"]
    assert window.document is doc and window.isVisible()


def test_a_recovery_write_never_ends_a_drag_in_progress(qtbot, window, photo_png, recovery_dir, ui):
    doc = ui.open_photo(qtbot, window, photo_png)
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=ui.pixel_point(canvas, 20, 20))
    qtbot.mouseMove(canvas, ui.pixel_point(canvas, 40, 20))
    doc.invert_mask()  # what a fill landing mid-drag does: a history event while the drag is open
    doc.begin_stroke()  # invert_mask committed the drag's first part; the canvas stroke goes on
    qtbot.wait(50)  # the recovery write's timer runs now
    assert doc.stroke_active, "the recovery write left the drag open"
    qtbot.mouseMove(canvas, ui.pixel_point(canvas, 60, 20))  # painting goes on, no error
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=ui.pixel_point(canvas, 60, 20))
    qtbot.waitUntil(lambda: window.projects.recovery.path is not None and window.projects.recovery.path.exists(),
                    timeout=20000)
