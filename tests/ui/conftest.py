"""UI test fixtures: settings in a temp ini, a real MainWindow shown offscreen, generated photos, recorded dialogs."""

from __future__ import annotations

import sys
import threading
import types
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402


@pytest.fixture(autouse=True)
def settings_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every UI test reads and writes preferences in its own ini file, never the user's."""
    path = tmp_path / "settings" / "restorer.ini"
    monkeypatch.setenv("RESTORER_SETTINGS", str(path))
    return path


@pytest.fixture(autouse=True)
def recovery_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recovery projects go to the test's own folder, never the user's data folder."""
    path = tmp_path / "recovery"
    monkeypatch.setenv("RESTORER_RECOVERY_DIR", str(path))
    return path


class DialogRecorder:
    """Stands in for QMessageBox's static functions: records each call and answers from a queue."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.answers: list[QMessageBox.StandardButton] = []

    def answer(self, *buttons: QMessageBox.StandardButton) -> None:
        self.answers.extend(buttons)

    def _make(self, kind: str) -> Callable[..., QMessageBox.StandardButton]:
        def fake(parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> QMessageBox.StandardButton:
            self.calls.append((kind, title, text))
            if self.answers:
                return self.answers.pop(0)
            return QMessageBox.StandardButton.Ok if kind in ("critical", "information") else QMessageBox.StandardButton.No

        return fake

    def titles(self, kind: str | None = None) -> list[str]:
        return [t for k, t, _ in self.calls if kind is None or k == kind]


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    recorder = DialogRecorder()
    for kind in ("critical", "warning", "question", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(recorder._make(kind)))
    return recorder


def make_photo(height: int = 120, width: int = 160, channels: int = 3, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    """A smooth gradient with mild noise: something a fill can continue plausibly."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width, yy / height, (xx + yy) / (width + height)], axis=2)[:, :, :channels]
    base = np.clip(base + rng.normal(0, 0.02, base.shape), 0, 1)
    top = np.iinfo(dtype).max
    return (base * top).astype(dtype)


@pytest.fixture
def photo_png(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "photos" / "scan.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(make_photo()).save(path)
    return path


@pytest.fixture
def photo_tiff16(tmp_path: Path) -> Path:
    import tifffile

    path = tmp_path / "photos" / "scan16.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, make_photo(dtype=np.uint16), photometric="rgb")
    return path


@pytest.fixture
def window(qtbot: Any, dialogs: DialogRecorder) -> Iterator[Any]:
    from restorer.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    # Whatever the test did, no thread may outlive it.
    win.shutdown()
    assert win.tasks.finished
    assert win.file_tasks.finished


def open_photo(qtbot: Any, win: Any, path: Path) -> Any:
    with qtbot.waitSignal(win.photoOpened, timeout=20000):
        assert win.open_path(path)
    qtbot.waitUntil(lambda: win.document is not None)
    win.canvas.setFocus()
    return win.document


def pixel_point(canvas: Any, x: float, y: float) -> QPoint:
    """The widget point over the centre of photo pixel (x, y)."""
    return canvas.image_to_widget(x + 0.5, y + 0.5).toPoint()


def drag(qtbot: Any, canvas: Any, points: list[tuple[float, float]], button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    """Press at the first photo point, move through the rest, release at the last."""
    wpts = [pixel_point(canvas, x, y) for x, y in points]
    qtbot.mousePress(canvas, button, pos=wpts[0])
    for p in wpts[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, button, pos=wpts[-1])


class BlockingModel:
    """A fake model whose loading waits until the test lets it go (to test cancel and stale results deterministically).

    The engine checks the cancel token right after loading, so a cancel sent while the load
    is held always stops the job before any model call.
    """

    device = "cpu"

    def __init__(self, name: str) -> None:
        self.name = name
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def load(self) -> "BlockingModel":
        self.entered.set()
        self.release.wait(20)
        return self

    def __call__(self, image: np.ndarray, mask: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        self.calls += 1
        return np.where(mask > 0.5, 0.5, image).astype(np.float32)


@pytest.fixture
def blocking_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockingModel]:
    """Registers 'test-blocking' for this test only."""
    from restorer.models import registry

    model = BlockingModel("test-blocking")
    module = types.ModuleType("restorer_ui_test_fakes")
    module.build = lambda spec, device="auto", weights=None, **kw: model.load()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "restorer_ui_test_fakes", module)
    spec = registry.ModelSpec(
        name="test-blocking", description="test model that blocks", factory="restorer_ui_test_fakes:build",
        licence="test",
    )
    registry.all_specs()  # make sure the built-ins are registered first
    monkeypatch.setitem(registry._SPECS, spec.name, spec)
    from restorer.inference import engine

    engine.clear_cache()  # a model left from another test would skip the held load
    yield model
    model.release.set()
    try:
        from restorer.inference import engine

        engine.clear_cache()
    except ImportError:
        pass


@pytest.fixture
def ui() -> types.SimpleNamespace:
    """The driving helpers above, for test modules (tests/ is not a package, so they can't import conftest)."""
    return types.SimpleNamespace(open_photo=open_photo, pixel_point=pixel_point, drag=drag, make_photo=make_photo)
