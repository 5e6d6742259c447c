"""Fake models for the engine tests: record every call, fill with a constant, fail on demand."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from restorer.errors import OutOfMemory
from restorer.inference import engine
from restorer.models import registry

FILL = 0.25  # every fake fills holes with this grey


@dataclass
class CallLog:
    """What a fake model saw: one entry per forward pass."""

    shapes: list[tuple[int, ...]] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    edges: list[np.ndarray | None] = field(default_factory=list)
    edge_calls: int = 0

    @property
    def calls(self) -> int:
        return len(self.shapes)


_LOGS: dict[str, CallLog] = {}
_ids = itertools.count()


class FakeInpainter:
    def __init__(self, name: str, device: str, log: CallLog, oom_on: str | None) -> None:
        self.name, self.device, self.log, self.oom_on = name, device, log, oom_on

    def __call__(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray:
        assert image.dtype == np.float32 and image.ndim == 4 and image.shape[1] == 3
        assert mask.shape == (image.shape[0], 1, *image.shape[2:])
        assert 0.0 <= image.min() and image.max() <= 1.0
        if self.oom_on is not None and self.device == self.oom_on:
            raise OutOfMemory("simulated: CUDA out of memory")
        self.log.shapes.append(image.shape)
        self.log.devices.append(self.device)
        self.log.edges.append(None if edges is None else edges.copy())
        return np.where(mask > 0.5, np.float32(FILL), image).astype(np.float32)


class FakeEdgeInpainter(FakeInpainter):
    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self.log.edge_calls += 1
        return np.zeros((image.shape[0], 1, *image.shape[2:]), np.float32)


def build(spec: registry.ModelSpec, device: str = "auto", weights: Path | None = None,
          card: dict[str, Any] | None = None, half: bool = False) -> FakeInpainter:
    cls = FakeEdgeInpainter if spec.config.get("edges") else FakeInpainter
    return cls(spec.name, device, _LOGS[spec.name], spec.config.get("oom_on"))


@contextlib.contextmanager
def fake_model(*, work_size: int | None = 256, pad_multiple: int = 8, neural: bool = True,
               edges: bool = False, oom_on: str | None = None) -> Iterator[tuple[str, CallLog]]:
    """Register a fake model for the duration of a test; yields its name and call log."""
    name = f"fake-{next(_ids)}"
    log = _LOGS[name] = CallLog()
    registry.register(registry.ModelSpec(
        name=name, description="fake", factory=f"{__name__}:build", licence="none",
        pad_multiple=pad_multiple, work_size=work_size, kind="learned" if neural else "classical",
        predicts_edges=edges, context=(32, 0.5) if neural else (7, 0.0),
        config={"edges": edges, "oom_on": oom_on},
    ))
    try:
        yield name, log
    finally:
        registry.unregister(name)
        _LOGS.pop(name, None)
        engine.clear_cache()
