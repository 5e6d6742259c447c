"""Setting CPU threads for a classical fill never imports torch (it cost the CLI seconds per photo)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import numpy as np
from restorer.inference import engine
px = np.full((64, 64, 3), 100, np.uint8)
mask = np.zeros((64, 64), bool)
mask[20:30, 10:50] = True
out, _ = engine.inpaint(px, mask, "telea", engine.EngineOptions(device="cpu", threads=1))
assert (out[mask] != 0).all()
import cv2
print("threads", cv2.getNumThreads(), "torch", "torch" in sys.modules)
"""


def test_telea_with_threads_sets_opencv_and_leaves_torch_unimported():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "threads 1 torch False" in out.stdout


def test_learned_models_still_get_their_torch_threads(monkeypatch):
    import torch

    from restorer.models import device

    before = torch.get_num_threads()
    try:
        device.set_cpu_threads(1, torch_too=True)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def _machine(monkeypatch, cores: int, load: float, own_cpu_per_s: float = 0.0) -> None:
    """A machine with ``cores`` usable cores whose load average is ``load``; this process used
    ``own_cpu_per_s`` CPU seconds per second since the last idle_cores() call (2 s ago)."""
    from restorer.models import device

    monkeypatch.setattr(device, "usable_cores", lambda: cores)
    monkeypatch.setattr(device.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(device.time, "monotonic", lambda: 102.0)
    monkeypatch.setattr(device, "_cpu_seconds", lambda: 10.0 + 2.0 * own_cpu_per_s)
    monkeypatch.setattr(device, "_LAST", [100.0, 10.0])


def test_threads_follow_the_idle_cores_not_the_core_count(monkeypatch):
    from restorer.models import device

    _machine(monkeypatch, cores=2, load=0.1)
    assert device.idle_cores() == 2
    _machine(monkeypatch, cores=2, load=1.3)  # another job keeps one core busy
    assert device.idle_cores() == 1
    _machine(monkeypatch, cores=2, load=7.0)  # never fewer than one
    assert device.idle_cores() == 1
    _machine(monkeypatch, cores=16, load=4.2)
    assert device.idle_cores() == 12
    # this process's own previous fill (a batch) is not another job
    _machine(monkeypatch, cores=2, load=2.0, own_cpu_per_s=1.9)
    assert device.idle_cores() == 2


def test_no_load_average_means_every_usable_core(monkeypatch):
    from restorer.models import device

    def unsupported():
        raise OSError("no load average here")

    monkeypatch.setattr(device, "usable_cores", lambda: 4)
    monkeypatch.setattr(device.os, "getloadavg", unsupported)
    assert device.idle_cores() == 4


def test_a_fill_without_threads_uses_the_idle_cores_for_opencv_torch_and_numba(monkeypatch):
    import cv2
    import numba
    import numpy as np

    from restorer.inference import engine
    from restorer.models import device

    monkeypatch.setattr(device, "idle_cores", lambda: 1)
    px = np.full((96, 96, 3), 120, np.uint8)
    mask = np.zeros((96, 96), bool)
    mask[40:50, 20:70] = True
    before = cv2.getNumThreads(), numba.get_num_threads()
    try:
        engine.inpaint(px, mask, "patchmatch", engine.EngineOptions(device="cpu"))
        assert cv2.getNumThreads() == 1 and numba.get_num_threads() == 1
    finally:
        cv2.setNumThreads(before[0])
        numba.set_num_threads(before[1])


def test_the_app_leaves_the_gui_a_core(monkeypatch):
    from restorer.models import device
    from restorer.ui import fill

    monkeypatch.setattr(fill, "usable_cores", lambda: 8)
    monkeypatch.setattr(fill, "idle_cores", lambda: 8)
    assert fill.fill_threads() == 7
    monkeypatch.setattr(fill, "idle_cores", lambda: 3)
    assert fill.fill_threads() == 3
    monkeypatch.setattr(fill, "usable_cores", lambda: 1)
    monkeypatch.setattr(fill, "idle_cores", device.idle_cores)
    assert fill.fill_threads() == 1
