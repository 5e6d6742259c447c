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
