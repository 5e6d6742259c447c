"""The record of what was changed: one JSON object per restored file, for archivists' provenance logs."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from restorer import __version__
from restorer.checksums import file_sha256
from restorer.core.mask import bbox
from restorer.errors import RestorerError


class RecordError(RestorerError):
    """A record file cannot be written where it was asked for (it would replace something)."""


def edit_record(
    *, source: Path, output: Path, mask: np.ndarray, model: str, device: str, seconds: float, notes: Iterable[str] = ()
) -> dict[str, Any]:
    """Describe one fill: which file, which pixels (count and bounding box), which model, and the checksums."""
    box = bbox(mask)
    return {
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "restorer": __version__,
        "source": str(source),
        "source_sha256": file_sha256(source),
        "output": str(output),
        "output_sha256": file_sha256(output) if output.exists() else None,
        "model": model,
        "device": device,
        "mask_pixels": int(np.count_nonzero(mask)),
        "mask_box_y0_x0_y1_x1": None if box is None else list(box),
        "seconds": round(seconds, 3),
        "notes": list(notes),
    }


def _same_path(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same resolved path (even if neither exists yet) or inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.samefile(b)
    except OSError:
        return False


def check_record_path(path: Path, others: Sequence[tuple[str, Path]], *, append: bool) -> None:
    """Refuse a record path that is one of the files of the run, or an existing file unless appending.

    ``others`` are (role, path) pairs such as ("input photo", photo); called before any work so
    the refusal costs nothing. The write itself re-checks existence (see ``append_records``).
    """
    for role, other in others:
        if _same_path(path, other):
            raise RecordError(f"{path}: is the {role}; give the record another file name")
    if path.is_dir():
        raise RecordError(f"{path}: is a folder; give a file name for the record")
    if not path.parent.is_dir():
        raise RecordError(f"{path}: folder {path.parent} does not exist")
    if path.exists():
        if not append:
            raise RecordError(f"{path}: already exists; pass --append-record to add to it")
        if not path.is_file():
            raise RecordError(f"{path}: is not a regular file")
        with open(path, "rb") as f:
            head = f.read(1)
        if head not in (b"", b"{"):
            raise RecordError(f"{path}: is not a record file (JSON lines); refusing to append to it")


def append_records(path: Path, records: Iterable[dict[str, Any]], *, create: bool = False) -> None:
    """Append records as JSON lines, each flushed and fsynced as it is written.

    ``create``: the file must not exist yet (O_EXCL, so a file that appeared since the check is
    never replaced). A torn last line (a run killed mid-write) is cut off first, so it cannot
    swallow the next record; a complete last line without its newline gets one.
    """
    flags = os.O_RDWR | os.O_CREAT | (os.O_EXCL if create else 0)
    try:
        fd = os.open(path, flags, 0o666)
    except FileExistsError:
        raise RecordError(f"{path}: already exists; pass --append-record to add to it") from None
    except OSError as e:
        raise RecordError(f"{path}: cannot write the record ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "r+b") as f:
            _repair_tail(f)
            f.seek(0, os.SEEK_END)
            for record in records:
                f.write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        raise RecordError(f"{path}: cannot write the record ({e.strerror or e})") from None


def _repair_tail(f: Any) -> None:
    end = f.seek(0, os.SEEK_END)
    if end == 0:
        return
    f.seek(end - 1)
    if f.read(1) == b"\n":
        return
    # Find the start of the last line (records are small; read back in blocks until a newline).
    pos, tail = end, b""
    while pos > 0 and b"\n" not in tail:
        step = min(pos, 1 << 16)
        pos -= step
        f.seek(pos)
        tail = f.read(step) + tail
    start = pos + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
    f.seek(start)
    last = f.read()
    try:
        json.loads(last)
    except ValueError:
        f.truncate(start)  # a fragment of a record: never a record, and it would join the next one
    else:
        f.seek(0, os.SEEK_END)
        f.write(b"\n")
    f.flush()


def write_records(path: Path, records: list[dict[str, Any]], *, append: bool = False) -> None:
    """Write records as JSON lines: a new file (refusing an existing one) or, with ``append``, added to it."""
    append_records(path, records, create=not append)
