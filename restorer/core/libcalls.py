"""Calls into the image libraries under Restorer's rules: our size limits, and their chatter kept off the user's terminal.

Every decode and encode in ``core`` runs inside ``library_call()``. For its duration:

- Pillow's own limits are ours: ``PngImagePlugin.MAX_TEXT_CHUNK`` (1 MB by default, which refuses
  PNGs whose ICC profile or compressed text inflates past 1 MB) becomes ``MAX_INFLATED``;
  ``MAX_TEXT_MEMORY`` becomes ``MAX_TEXT_TOTAL``; ``Image.MAX_IMAGE_PIXELS`` (Pillow's own
  179 MP bomb limit, which raised its own message) follows the caller's pixel limit. The writers
  keep to the same bounds, so Restorer never writes a PNG it cannot read back.
- What the libraries say goes to the debug log (logger ``restorer.libraries``), never to the
  user: libpng, libtiff and OpenCV write "libpng warning: ..." straight to file descriptor 2 from
  C, so fd 2 is pointed at a temp file and what lands there is logged afterwards; Python
  warnings (Pillow's) are recorded and logged; tifffile's log records are forwarded at debug
  level. The user sees one line, ours. ``RESTORER_DEBUG=1`` (or ``RESTORER_LOG=FILE``) shows the
  log.

The globals are process-wide, so they are set when the first call enters and restored when the
last one leaves (a counter under a lock): the app's file thread and a detection thread do not
undo each other, and Pillow used outside our calls keeps its defaults. While a call is inside,
anything else the process writes to fd 2 also goes to the debug log.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image, PngImagePlugin

# An ICC profile or a text chunk is a few kB to a few MB; inflating more is a zlib bomb.
MAX_INFLATED = 64 << 20
# All text chunks of one PNG together (Pillow's MAX_TEXT_MEMORY, 64 MB by default).
MAX_TEXT_TOTAL = 256 << 20

log = logging.getLogger("restorer.libraries")


class _ToDebugLog(logging.Handler):
    """tifffile logs what it tolerates in a damaged file at warning level; for us that is debug detail."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


_tifffile = logging.getLogger("tifffile")
_tifffile.addHandler(_ToDebugLog())
_tifffile.propagate = False  # else Python's last-resort handler prints its warnings on stderr

_lock = threading.Lock()
_state: dict[str, Any] = {"depth": 0, "limits": []}


def _redirect_fd2() -> tuple[int, Any] | None:
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 at all (a windowed app on Windows): nothing to keep quiet
        return None
    capture = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _restore_fd2, after the call
    os.dup2(capture.fileno(), 2)
    return saved, capture


def _restore_fd2(redirect: tuple[int, Any] | None) -> str:
    if redirect is None:
        return ""
    saved, capture = redirect
    os.dup2(saved, 2)
    os.close(saved)
    capture.seek(0)
    text = capture.read(1 << 20).decode("utf-8", "replace")
    capture.close()
    return text


def _enter(max_pixels: int | None) -> None:
    with _lock:
        s = _state
        if s["depth"] == 0:
            s["pillow"] = (PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY, Image.MAX_IMAGE_PIXELS)
            PngImagePlugin.MAX_TEXT_CHUNK = MAX_INFLATED
            PngImagePlugin.MAX_TEXT_MEMORY = MAX_TEXT_TOTAL
            s["fd2"] = _redirect_fd2()
            s["warnings"] = warnings.catch_warnings(record=True)
            s["caught"] = s["warnings"].__enter__()
            warnings.simplefilter("always")
        s["depth"] += 1
        s["limits"].append(max_pixels)
        _set_pixel_limit()


def _set_pixel_limit() -> None:
    # Pillow raises at twice MAX_IMAGE_PIXELS; at our limit itself the caller's own check, which
    # sees the size first and says how to raise it, always speaks before Pillow's.
    limits = [n for n in _state["limits"] if n is not None]
    Image.MAX_IMAGE_PIXELS = max(limits) if limits else _state["pillow"][2]


def _leave(max_pixels: int | None) -> None:
    with _lock:
        s = _state
        s["depth"] -= 1
        s["limits"].remove(max_pixels)
        if s["depth"] > 0:
            _set_pixel_limit()
            return
        PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY, Image.MAX_IMAGE_PIXELS = s.pop("pillow")
        text = _restore_fd2(s.pop("fd2"))
        caught = s.pop("caught")
        s.pop("warnings").__exit__(None, None, None)
    for line in text.splitlines():
        if line.strip():
            log.debug("%s", line)
    for w in caught:
        log.debug("%s: %s", w.category.__name__, w.message)


@contextmanager
def library_call(*, max_pixels: int | None = None) -> Iterator[None]:
    """Run a decode or encode under Restorer's limits, its libraries' output going to the debug log."""
    _enter(max_pixels)
    try:
        yield
    finally:
        _leave(max_pixels)


def configure_debug_log() -> None:
    """For entry points: ``RESTORER_LOG=FILE`` appends the debug log to FILE, ``RESTORER_DEBUG=1`` prints it on stderr."""
    path, debug = os.environ.get("RESTORER_LOG"), os.environ.get("RESTORER_DEBUG")
    if not path and not debug:
        return
    handler: logging.Handler = logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    root = logging.getLogger("restorer")
    if not any(getattr(h, "_restorer_debug", False) for h in root.handlers):
        handler._restorer_debug = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
