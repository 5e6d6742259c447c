"""sha256 of files: the one implementation behind weights checks, records and provenance sidecars."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Weights are checked whenever a model list is shown: hash each file once per (size, mtime).
_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The hex sha256 of the file's bytes, read in 1 MiB chunks (remembered while size and mtime stay)."""
    st = Path(path).stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _cache[key] = h.hexdigest()
    return _cache[key]
