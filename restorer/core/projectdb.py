"""The .restorer file's SQLite layer: schema and its version, connections, arrays as compressed blobs.

Only this module speaks SQL. A project is one SQLite database (stdlib ``sqlite3``):
``PRAGMA application_id`` marks it as ours, ``PRAGMA user_version`` is the schema version, and the
tables are ``project`` (one row: the original, the photo's shape, the mask, the current position),
``original_file`` (the original's bytes, when embedded), ``steps`` (one row per history step) and
``patches`` (each step's before/after pixels). Arrays are stored as zlib-compressed raw bytes whose
shape and dtype the row says (bool arrays bit-packed first), so reading never unpickles and a
damaged blob is caught by zlib's checksum and the exact length it must decompress to.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from restorer.core.box import BBox
from restorer.errors import RestorerError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x52535452  # "RSTR": `file` and SQLite tools can tell a project from other databases
# zlib level 1: written after every step in the background, so speed counts; on a noisy 16-bit
# scan's patches higher levels gain under 1 % of size for 2-3x the time.
COMPRESS_LEVEL = 1

SCHEMA = """
CREATE TABLE project (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    software TEXT NOT NULL, version TEXT NOT NULL, written TEXT NOT NULL,
    original_path TEXT, original_size INTEGER, original_sha256 TEXT,
    height INTEGER NOT NULL, width INTEGER NOT NULL, channels INTEGER NOT NULL, dtype TEXT NOT NULL,
    position INTEGER NOT NULL, dropped INTEGER NOT NULL, dropped_targets TEXT NOT NULL,
    mask BLOB NOT NULL,
    base_photo BLOB
);
CREATE TABLE original_file (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
CREATE TABLE steps (
    seq INTEGER PRIMARY KEY,
    label TEXT NOT NULL, kind TEXT NOT NULL,
    model TEXT, weights_sha256 TEXT, options TEXT, meta TEXT NOT NULL,
    fill_box TEXT, fill_mask BLOB,
    guide_box TEXT, guide BLOB,
    sample_box TEXT, sample_area BLOB
);
CREATE TABLE patches (
    step INTEGER NOT NULL REFERENCES steps(seq) ON DELETE CASCADE,
    ord INTEGER NOT NULL, target TEXT NOT NULL,
    y0 INTEGER NOT NULL, x0 INTEGER NOT NULL, y1 INTEGER NOT NULL, x1 INTEGER NOT NULL,
    before BLOB NOT NULL, after BLOB NOT NULL,
    PRIMARY KEY (step, ord)
);
"""


class ProjectError(RestorerError):
    """A project file cannot be read or written: not a project, newer, damaged, or its original is wrong."""


# --- arrays -------------------------------------------------------------------------------------


def pack(a: np.ndarray) -> bytes:
    """Compressed raw bytes of ``a``: bool arrays packed 8 pixels a byte along rows; wider integers
    little-endian with their bytes split into planes (all low bytes, then all high bytes), since a
    scan's noisy low bytes would otherwise keep zlib from finding the smooth high bytes' runs."""
    if a.dtype == np.bool_:
        raw = np.packbits(a, axis=1).tobytes() if a.ndim == 2 else np.packbits(a).tobytes()
    else:
        le = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        size = a.dtype.itemsize
        raw = le.tobytes() if size == 1 else np.ascontiguousarray(le.view(np.uint8).reshape(-1, size).T).tobytes()
    return zlib.compress(raw, COMPRESS_LEVEL)


def unpack(blob: bytes, shape: tuple[int, ...], dtype: npt.DTypeLike, what: str) -> np.ndarray:
    """The array ``pack`` stored, which must have ``shape`` and ``dtype``; ProjectError names ``what``."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        if len(shape) != 2:
            raise ProjectError(f"{what}: a mask must be 2-D, not {shape}")
        size = shape[0] * ((shape[1] + 7) // 8)
    else:
        size = int(np.prod(shape)) * dtype.itemsize
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(bytes(blob), size + 1)  # never inflate past what the row says
        ok = inflater.eof and len(raw) == size and not inflater.unconsumed_tail
    except (zlib.error, TypeError):
        ok = False
    if not ok:
        raise ProjectError(f"{what} is damaged (its pixels cannot be read back)")
    if dtype == np.bool_:
        packed = np.frombuffer(raw, np.uint8).reshape(shape[0], -1)
        return np.unpackbits(packed, axis=1, count=shape[1]).astype(np.bool_)
    if dtype.itemsize > 1:
        raw = np.frombuffer(raw, np.uint8).reshape(dtype.itemsize, -1).T.tobytes()
    return np.frombuffer(raw, dtype.newbyteorder("<")).reshape(shape).astype(dtype)  # a writable copy


def box_text(box: BBox | None) -> str | None:
    return None if box is None else json.dumps(list(map(int, box)))


def parse_box(text: str | None, shape: tuple[int, int], what: str) -> BBox | None:
    if text is None:
        return None
    try:
        box = BBox(*(int(v) for v in json.loads(text)))
    except (ValueError, TypeError):
        raise ProjectError(f"{what}: its box {text!r} cannot be read") from None
    if box.empty or box.clip(shape) != box:
        raise ProjectError(f"{what}: its box {tuple(box)} lies outside the {shape[1]} x {shape[0]} photo")
    return box


# --- connections --------------------------------------------------------------------------------


def connect(path: Path, *, create: bool = False, readonly: bool = False) -> sqlite3.Connection:
    """A connection to the project at ``path`` (a new, empty schema when ``create``).

    Autocommit mode: every write goes through ``transaction``, so each step is one commit.
    """
    if readonly:
        uri = f"{Path(path).absolute().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if create:
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives the process being killed (kill -9), which is
            # what recovery needs; only a power cut can lose the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            with transaction(conn):
                for statement in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One committed unit of work (rolled back whole on any error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def check_readable(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a file that is not a project of a schema we read, or is damaged (ProjectError)."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        raise ProjectError(f"{path}: not a Restorer project (an SQLite database of another program)")
    if version > SCHEMA_VERSION:
        raise ProjectError(f"{path}: made by a newer Restorer (project schema {version}; this version reads "
                           f"schema {SCHEMA_VERSION} and older): update Restorer to open it")
    if version < 1:
        raise ProjectError(f"{path}: not a Restorer project (no schema version)")
    problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(1)")]
    if problems != ["ok"]:
        first = (problems[0].splitlines() or ["?"])[-1].strip()  # its first line is a "*** in database main ***" header
        raise ProjectError(f"{path}: the project file is damaged (truncated or corrupt: {first})")


def json_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False)


def parse_json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ProjectError(f"{what} cannot be read (not JSON)") from None


def is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
