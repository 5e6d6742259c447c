"""Which compute device a learned model runs on: CUDA, Apple MPS or the CPU."""

from __future__ import annotations

import sys

from restorer.errors import ModelUnavailable

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(preference: str = "auto") -> str:
    """Turn 'auto'/'cpu'/'cuda'/'mps' into a device this machine has; raises ModelUnavailable if asked for one it lacks."""
    if preference not in DEVICES:
        raise ModelUnavailable(f"unknown device {preference!r}; choose one of {', '.join(DEVICES)}")
    if preference == "cpu":
        return "cpu"
    import torch  # imported here so that listing models stays torch-free until a device is needed

    has_cuda = torch.cuda.is_available()
    has_mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if preference == "auto":
        return "cuda" if has_cuda else "mps" if has_mps else "cpu"
    if preference == "cuda" and not has_cuda:
        raise ModelUnavailable("device 'cuda' was asked for, but no CUDA GPU is available")
    if preference == "mps" and not has_mps:
        raise ModelUnavailable("device 'mps' was asked for, but Apple MPS is not available")
    return preference


def set_cpu_threads(threads: int | None, *, torch_too: bool = True) -> None:
    """Limit the CPU threads torch and OpenCV use (None leaves the defaults).

    ``torch_too=False`` (a classical fill) leaves torch alone, and unimported unless it already
    is: importing it only to set its threads cost a Telea fill from the CLI 2-7 s.
    """
    if not threads:
        return
    import cv2

    cv2.setNumThreads(int(threads))
    if torch_too or "torch" in sys.modules:
        import torch

        torch.set_num_threads(int(threads))
