"""Step generators: long work (fills, synthesis, detection) yields progress and returns its result."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

R = TypeVar("R")


def drain(gen: Generator[Any, None, R], on_progress: Callable[[Any], None] | None = None) -> R:
    """Run a step generator to the end in the calling thread, handing each step to ``on_progress``;
    returns the generator's return value."""
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(step)
