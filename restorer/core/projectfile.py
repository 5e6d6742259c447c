"""Steps to and from rows of a .restorer file: the incremental writer and the whole-file reader.

``ProjectWriter.sync`` brings an open project file up to a ``ProjectSnapshot`` of a document:
steps it already holds (the same ``Edit`` objects) stay, steps the history let go of or replaced
are deleted, new ones are inserted, then the position and mask are updated. When nothing has to
be deleted each new step is its own transaction (a crash keeps every step committed before it,
and the steps read back as a valid history); otherwise the whole sync is one transaction.
``read_rows`` reads every row back into ``ProjectData``, checking each array against its box.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from restorer.core import projectdb as db
from restorer.core.history import KINDS, LAYER_TARGETS, TARGETS, Edit, Patch
from restorer.core.box import BBox
from restorer.core.projectdb import ProjectError

# Meta keys with their own columns (arrays as blobs, the rest as the columns the render reads).
_COLUMNS = ("model", "weights_sha256", "options", "guide", "sample_area", "fill_mask")


@dataclass(frozen=True)
class OriginalInfo:
    """The photo file a project was made from: where it was, its size and sha256."""

    path: Path | None
    size: int | None
    sha256: str | None


@dataclass(frozen=True, eq=False)
class ProjectSnapshot:
    """What a project holds, taken on the document's thread; the writer may run in another.

    Edits are immutable, so holding them is enough; the mask is a copy. ``base_photo`` is the
    photo at state 0 when that is not the original file's pixels (no file, a save replaced it,
    or the history let go of early photo steps), else None.
    """

    original: Path | None
    shape: tuple[int, int, int]
    dtype: str
    steps: tuple[Edit, ...]
    position: int
    dropped: int
    dropped_targets: frozenset[str]
    mask: np.ndarray = field(repr=False)
    base_photo: np.ndarray | None = field(default=None, repr=False)
    base_needed: bool = False  # a base photo is part of this project (it may be unchanged since the last sync)


@dataclass(eq=False)
class ProjectData:
    """Everything a project file holds, read back and checked."""

    path: Path
    original: OriginalInfo
    shape: tuple[int, int, int]
    dtype: np.dtype
    steps: list[Edit]
    fill_masks: list[tuple[BBox, np.ndarray] | None]  # per step: the mask the fill filled (None: not a fill)
    position: int
    dropped: int
    dropped_targets: frozenset[str]
    mask: np.ndarray = field(repr=False)
    base_photo: np.ndarray | None = field(repr=False)
    embedded: bool  # the original's bytes are inside the project
    software: str = ""


def fill_mask_of(edit: Edit) -> tuple[BBox, np.ndarray] | None:
    """The part of the mask a fill step filled: its 'fill_mask' meta, else its mask patch's before."""
    if edit.kind != "fill":
        return None
    given = edit.meta.get("fill_mask")
    if given is not None:
        return BBox(*given[0]), given[1]
    for p in edit.patches:
        if p.target == "mask":
            return p.box, p.before
    return None


class ProjectWriter:
    """An open project file kept in step with a document (recovery), or filled once (Save Project)."""

    def __init__(self, path: Path, *, software: str, version: str, written: str) -> None:
        self.path = Path(path)
        self.conn = db.connect(self.path, create=True)
        self._about = (software, version, written)
        self._written: list[Edit] = []
        self._seqs: list[int] = []
        self._next_seq = 1
        self._base_key: int | None = None
        self._has_row = False

    def close(self, *, single_file: bool = False) -> None:
        """Close; ``single_file`` checkpoints the WAL into the file and leaves no -wal/-shm beside it."""
        if single_file:
            self.conn.execute("PRAGMA journal_mode = DELETE")
        self.conn.close()

    def embed_original(self, data: bytes) -> None:
        with db.transaction(self.conn):
            self.conn.execute("INSERT OR REPLACE INTO original_file (id, data) VALUES (1, ?)", (data,))

    def sync(self, snap: ProjectSnapshot, original: OriginalInfo) -> None:
        if not self._has_row:
            self._insert_row(snap, original)
        steps = snap.steps
        # Written steps before the history's first are the ones it let go of (all of them when its
        # first step is new: then every written step was dropped or replaced).
        lead = next((i for i, e in enumerate(self._written) if steps and e is steps[0]), len(self._written))
        common = 0
        while (lead + common < len(self._written) and common < len(steps)
               and self._written[lead + common] is steps[common]):
            common += 1
        stale = self._seqs[:lead] + self._seqs[lead + common:]
        new = steps[common:]
        if stale:
            with db.transaction(self.conn):
                self.conn.executemany("DELETE FROM steps WHERE seq = ?", [(s,) for s in stale])
                seqs = [self._insert_step(edit) for edit in new]
                self._update_row(snap, original)
        else:
            seqs = []
            for edit in new:
                with db.transaction(self.conn):
                    seqs.append(self._insert_step(edit))
            with db.transaction(self.conn):
                self._update_row(snap, original)
        self._written = list(steps)
        self._seqs = self._seqs[lead:lead + common] + seqs

    def _insert_row(self, snap: ProjectSnapshot, original: OriginalInfo) -> None:
        software, version, written = self._about
        h, w, c = snap.shape
        with db.transaction(self.conn):
            self.conn.execute(
                "INSERT INTO project (id, software, version, written, original_path, original_size, original_sha256,"
                " height, width, channels, dtype, position, dropped, dropped_targets, mask)"
                " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, '[]', ?)",
                (software, version, written, None if original.path is None else str(original.path), original.size,
                 original.sha256, h, w, c, snap.dtype, db.pack(snap.mask)))
        self._has_row = True

    def _update_row(self, snap: ProjectSnapshot, original: OriginalInfo) -> None:
        self.conn.execute(
            "UPDATE project SET position = ?, dropped = ?, dropped_targets = ?, mask = ?, original_path = ?,"
            " original_size = ?, original_sha256 = ? WHERE id = 1",
            (snap.position, snap.dropped, db.json_text(sorted(snap.dropped_targets)), db.pack(snap.mask),
             None if original.path is None else str(original.path), original.size, original.sha256))
        if not snap.base_needed:
            if self._base_key is not None:
                self.conn.execute("UPDATE project SET base_photo = NULL WHERE id = 1")
                self._base_key = None
        elif snap.base_photo is not None and self._base_key != snap.dropped:
            self.conn.execute("UPDATE project SET base_photo = ? WHERE id = 1", (db.pack(snap.base_photo),))
            self._base_key = snap.dropped

    def _insert_step(self, edit: Edit) -> int:
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        meta = edit.meta
        extra = {k: v for k, v in meta.items() if k not in _COLUMNS and db.is_json(v)}
        options = meta.get("options")
        arrays: list[Any] = []
        for key in ("fill_mask", "guide", "sample_area"):
            value = fill_mask_of(edit) if key == "fill_mask" else meta.get(key)
            arrays += [None, None] if value is None else [db.box_text(BBox(*value[0])), db.pack(np.asarray(value[1], bool))]
        self.conn.execute(
            "INSERT INTO steps (seq, label, kind, model, weights_sha256, options, meta, fill_box, fill_mask,"
            " guide_box, guide, sample_box, sample_area) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, edit.label, edit.kind, meta.get("model"), meta.get("weights_sha256"),
             None if options is None else db.json_text(options), db.json_text(extra), *arrays))
        self.conn.executemany(
            "INSERT INTO patches (step, ord, target, y0, x0, y1, x1, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(seq, i, p.target, *map(int, p.box), db.pack(p.before), db.pack(p.after)) for i, p in enumerate(edit.patches)])
        return seq


# --- reading ------------------------------------------------------------------------------------


def read_rows(conn: sqlite3.Connection, path: Path) -> ProjectData:
    """Every row of the project at ``conn`` as ``ProjectData``; ProjectError for anything that does not fit."""
    row = conn.execute(
        "SELECT software, original_path, original_size, original_sha256, height, width, channels, dtype,"
        " position, dropped, dropped_targets, mask, base_photo FROM project WHERE id = 1").fetchone()
    if row is None:
        raise ProjectError(f"{path}: the project file is damaged (it has no project record)")
    (software, opath, osize, osha, h, w, c, dtype, position, dropped, targets, mask_blob, base_blob) = row
    if not (isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0 and c in (1, 3)
            and dtype in ("uint8", "uint16")):
        raise ProjectError(f"{path}: the project file is damaged (photo {w} x {h} x {c} {dtype})")
    shape, hw = (h, w, c), (h, w)
    mask = db.unpack(mask_blob, hw, np.bool_, f"{path}: the mask")
    base = None if base_blob is None else db.unpack(base_blob, shape, dtype, f"{path}: the photo's first state")
    steps, fills = _read_steps(conn, path, shape, np.dtype(dtype))
    if not isinstance(position, int) or not 0 <= position <= len(steps):
        raise ProjectError(f"{path}: the project file is damaged (position {position} of {len(steps)} steps)")
    dropped_targets = db.parse_json(targets, f"{path}: the dropped steps' targets") or []
    embedded = conn.execute("SELECT count(*) FROM original_file").fetchone()[0] > 0
    original = OriginalInfo(None if opath is None else Path(opath), osize, osha)
    return ProjectData(path, original, shape, np.dtype(dtype), steps, fills, position, int(dropped or 0),
                       frozenset(map(str, dropped_targets)), mask, base, embedded, str(software or ""))


def read_original_bytes(conn: sqlite3.Connection) -> bytes | None:
    row = conn.execute("SELECT data FROM original_file WHERE id = 1").fetchone()
    return None if row is None else bytes(row[0])


def _read_steps(conn: sqlite3.Connection, path: Path, shape: tuple[int, int, int], dtype: np.dtype
                ) -> tuple[list[Edit], list[tuple[BBox, np.ndarray] | None]]:
    hw = shape[:2]
    patches: dict[int, list[Patch]] = {}
    for seq, ord_, target, y0, x0, y1, x1, before, after in conn.execute(
            "SELECT step, ord, target, y0, x0, y1, x1, before, after FROM patches ORDER BY step, ord"):
        what = f"{path}: step {seq}'s patch {ord_}"
        box = BBox(y0, x0, y1, x1)
        if target not in TARGETS or box.empty or box.clip(hw) != box:
            raise ProjectError(f"{what} is damaged (target {target!r}, box {tuple(box)})")
        mask = target in LAYER_TARGETS  # bool H x W, like the mask
        pshape = (box.height, box.width) if mask else (box.height, box.width, shape[2])
        pdtype = np.dtype(np.bool_) if mask else dtype
        patches.setdefault(seq, []).append(Patch(target, box, db.unpack(before, pshape, pdtype, what),
                                                 db.unpack(after, pshape, pdtype, what)))
    steps: list[Edit] = []
    fills: list[tuple[BBox, np.ndarray] | None] = []
    for (seq, label, kind, model, weights, options, meta_text, fbox, fblob, gbox, gblob, sbox, sblob) in conn.execute(
            "SELECT seq, label, kind, model, weights_sha256, options, meta, fill_box, fill_mask, guide_box, guide,"
            " sample_box, sample_area FROM steps ORDER BY seq"):
        what = f"{path}: step {seq}"
        if kind not in KINDS:
            raise ProjectError(f"{what} is damaged (kind {kind!r})")
        meta = db.parse_json(meta_text, f"{what}'s details")
        if not isinstance(meta, dict):
            raise ProjectError(f"{what} is damaged (its details are not a record)")
        for key, value in (("model", model), ("weights_sha256", weights),
                           ("options", db.parse_json(options, f"{what}'s options"))):
            if value is not None:
                meta[key] = value
        for key, box_text, blob in (("guide", gbox, gblob), ("sample_area", sbox, sblob)):
            crop = _crop(box_text, blob, hw, f"{what}'s {key.replace('_', ' ')}")
            if crop is not None:
                meta[key] = crop
        steps.append(Edit(str(label), kind, tuple(patches.pop(seq, [])), meta))
        fills.append(_crop(fbox, fblob, hw, f"{what}'s fill mask"))
    if patches:
        raise ProjectError(f"{path}: the project file is damaged (patches of missing steps {sorted(patches)})")
    return steps, fills


def _crop(box_text: str | None, blob: bytes | None, hw: tuple[int, int], what: str) -> tuple[BBox, np.ndarray] | None:
    box = db.parse_box(box_text, hw, what)
    if box is None or blob is None:
        return None
    return box, db.unpack(blob, (box.height, box.width), np.bool_, what)
