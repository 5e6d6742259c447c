"""Which compute device a learned model runs on: CUDA, Apple MPS or the CPU."""

from __future__ import annotations

import os
import sys
import time

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


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


_LAST = [time.monotonic(), _cpu_seconds()]  # this process's CPU time at the last idle_cores() call


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS tells it, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def idle_cores() -> int:
    """How many cores are free for a fill now: the usable cores less what other processes keep busy.

    "Other processes" is the 1-minute load average less this process's own recent use (its CPU time
    since the last call over the wall time, so a batch's previous fill does not count against the
    next). More threads than free cores made a fill slower, not faster: two threads were 1.4x faster
    than one on a quiet 2-core machine and 1.75x slower on a loaded one (issue 15). Where the OS
    reports no load average (Windows), all usable cores.
    """
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    now, cpu = time.monotonic(), _cpu_seconds()
    wall = now - _LAST[0]
    own = (cpu - _LAST[1]) / wall if wall > 0.5 else 0.0
    if wall > 0.5:
        _LAST[:] = [now, cpu]
    others = max(0.0, load - min(own, load))
    return max(1, min(cores, int(cores - others + 0.5)))


def set_cpu_threads(threads: int | None, *, torch_too: bool = True) -> None:
    """Limit the CPU threads torch, OpenCV and numba (patch synthesis) use; None: ``idle_cores()``.

    ``torch_too=False`` (a classical fill) leaves torch alone, and unimported unless it already
    is: importing it only to set its threads cost a Telea fill from the CLI 2-7 s.
    """
    threads = int(threads) if threads else idle_cores()
    import cv2

    cv2.setNumThreads(threads)
    if "numba" in sys.modules:  # before torch: launching numba's OpenMP layer resets OpenMP's thread count
        import numba

        numba.set_num_threads(max(1, min(threads, int(getattr(numba.config, "NUMBA_NUM_THREADS", threads)))))
    if torch_too or "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
