"""The record of what was changed: one JSON object per restored file, for archivists' provenance logs."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from restorer import __version__
from restorer.core.mask import bbox


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def write_records(path: Path, records: list[dict[str, Any]], *, append: bool = False) -> None:
    """Write records as JSON lines (appending keeps the log of earlier runs in the same folder)."""
    from restorer.core.image import atomic_write

    old = path.read_text(encoding="utf-8") if append and path.exists() else ""
    text = old + "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
