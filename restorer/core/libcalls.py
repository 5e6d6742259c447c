"""Calls into the image libraries under Restorer's rules: our size limits, and their chatter kept off the user's terminal.

Every decode and encode in ``core`` runs inside ``library_call()``. For its duration:

- Pillow's own limits are ours: ``PngImagePlugin.MAX_TEXT_CHUNK`` (1 MB by default, which refuses
  PNGs whose ICC profile or compressed text inflates past 1 MB) becomes ``MAX_INFLATED``;
  ``MAX_TEXT_MEMORY`` becomes ``MAX_TEXT_TOTAL``. The writers keep to the same bounds, so
  Restorer never writes a PNG it cannot read back.
- The module globals are set only while at least one call is inside (a counter under a lock, so
  the app's file thread and a CLI call in another thread do not undo each other), and restored
  after the last one leaves: Pillow used elsewhere in the process keeps its defaults.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import PngImagePlugin

# An ICC profile or a text chunk is a few kB to a few MB; inflating more is a zlib bomb.
MAX_INFLATED = 64 << 20
# All text chunks of one PNG together (Pillow's MAX_TEXT_MEMORY, 64 MB by default).
MAX_TEXT_TOTAL = 256 << 20

_lock = threading.Lock()
_depth = 0
_saved: dict[str, object] = {}


def _enter() -> None:
    global _depth
    with _lock:
        if _depth == 0:
            _saved.update(chunk=PngImagePlugin.MAX_TEXT_CHUNK, memory=PngImagePlugin.MAX_TEXT_MEMORY)
            PngImagePlugin.MAX_TEXT_CHUNK = MAX_INFLATED
            PngImagePlugin.MAX_TEXT_MEMORY = MAX_TEXT_TOTAL
        _depth += 1


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0:
            PngImagePlugin.MAX_TEXT_CHUNK = _saved["chunk"]  # type: ignore[assignment]
            PngImagePlugin.MAX_TEXT_MEMORY = _saved["memory"]  # type: ignore[assignment]


@contextmanager
def library_call() -> Iterator[None]:
    """Run a decode or encode with Restorer's limits in force (see the module docstring)."""
    _enter()
    try:
        yield
    finally:
        _leave()
