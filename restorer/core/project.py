"""The .restorer project: save a document with its whole history, open it again with undo/redo intact.

A project is an SQLite database (see ``projectdb`` for the tables) holding the original photo's
path, size and sha256 (optionally its bytes), the mask, and every history step with its patches,
and for fills the model, its weights' sha256, the options, guide lines, sampling area and the mask
it filled; and the current position. It never holds the photo's pixels twice: on open the
original file is read and checked against its sha256, and the steps' patches are played forward
onto it. An original that moved or changed is refused unless ``find_original`` gives a file with
the recorded sha256 (or the project embeds the original).

``save_project`` writes a temp file beside the target and renames it into place, so an existing
project is replaced whole or not at all. Reading checks the schema version, SQLite's own
consistency check and every blob, and fails with one ProjectError line.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from typing import Any
from pathlib import Path

import numpy as np

from restorer.core import atomic
from restorer.core import projectdb as db
from restorer.core.box import BBox
from restorer.core.history import TARGETS
from restorer.core.projectdb import SCHEMA_VERSION, ProjectError
from restorer.core.projectfile import (
    OriginalInfo,
    ProjectData,
    ProjectSnapshot,
    ProjectWriter,
    fill_mask_of,
    read_original_bytes,
    read_rows,
)
from restorer.core.provenance import file_sha256, software_version, utc_now
from restorer.errors import RestorerError

__all__ = [
    "SCHEMA_VERSION",
    "SUFFIX",
    "FindOriginal",
    "OriginalInfo",
    "OriginalNotFound",
    "ProjectData",
    "ProjectError",
    "ProjectSnapshot",
    "ProjectWriter",
    "fill_mask_of",
    "is_project",
    "load_original",
    "open_project",
    "original_info",
    "read_project",
    "save_project",
    "snapshot",
    "write_project",
]

SUFFIX = ".restorer"


class OriginalNotFound(ProjectError):
    """The project's original photo is missing or differs, and no replacement was given (the app asks for one)."""

    def __init__(self, message: str, info: OriginalInfo, problem: str) -> None:
        super().__init__(message)
        self.info = info
        self.problem = problem

# Asked where the original is when it moved or changed: (what the project recorded, the problem) ->
# a file to try instead, or None to give up.
FindOriginal = Callable[[OriginalInfo, str], "Path | str | None"]


def is_project(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a project (by its suffix; its content is checked on open)."""
    return Path(path).suffix.lower() == SUFFIX


# --- saving -------------------------------------------------------------------------------------


def snapshot(doc: object, *, with_base: bool = True) -> ProjectSnapshot:
    """What ``doc`` (a ``core.document.Document``) would be saved as, taken now (a drag in progress is committed).

    ``with_base=False`` leaves out the photo's first state even where it is needed (a writer
    that already holds it for this history passes it, saving a photo-sized copy per step).
    """
    from restorer.core.document import Document

    assert isinstance(doc, Document)
    if doc.stroke_active:
        doc.commit_stroke()
    history = doc.history
    path = doc.photo.path
    needed = path is None or doc.source_overwritten or history.has_dropped("photo")
    base = doc.region_at(0, BBox.full(doc.shape)) if needed and with_base else None
    return ProjectSnapshot(original=None if path is None else Path(path).absolute(),
                           shape=tuple(doc.pixels.shape),
                           dtype=str(doc.pixels.dtype), steps=history.steps, position=history.index,
                           dropped=history.dropped,
                           dropped_targets=frozenset(t for t in TARGETS if history.has_dropped(t)),
                           mask=doc.mask.copy(), base_photo=base, base_needed=needed)


def original_info(path: Path | None) -> OriginalInfo:
    """The original's path, size and sha256 as a project records them (None fields when there is no file)."""
    if path is None or not Path(path).is_file():
        return OriginalInfo(None if path is None else Path(path), None, None)
    path = Path(path)
    return OriginalInfo(path, path.stat().st_size, file_sha256(path))


def write_project(snap: ProjectSnapshot, path: str | os.PathLike[str], *, embed_original: bool = False,
                  replace: bool = True, original: OriginalInfo | None = None) -> Path:
    """Write ``snap`` as a new project at ``path`` atomically (a temp file renamed into place).

    Safe to call off the document's thread. ``replace=False`` refuses an existing file.
    """
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise ProjectError(f"{path}: a project's name must end in {SUFFIX}")
    if snap.original is not None and path.exists() and _same(path, snap.original):
        raise ProjectError(f"{path}: is the original photo; choose another name for the project")
    info = original if original is not None else original_info(snap.original)

    def write(tmp: Path) -> None:
        writer = ProjectWriter(tmp, software="Restorer", version=software_version(), written=utc_now())
        try:
            if embed_original and info.path is not None and info.sha256 is not None:
                writer.embed_original(info.path.read_bytes())
            writer.sync(snap, info)
        finally:
            writer.close(single_file=True)

    try:
        atomic.atomic_write(path, write, replace=replace,
                            describe=lambda e: f"the project database refused it ({e})")
    except RestorerError as exc:
        raise ProjectError(str(exc)) from None
    return path


def save_project(doc: object, path: str | os.PathLike[str], *, embed_original: bool = False,
                 replace: bool = True) -> Path:
    """Save ``doc`` (photo reference, mask, history, position) as the project ``path``."""
    return write_project(snapshot(doc), path, embed_original=embed_original, replace=replace)


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


# --- reading ------------------------------------------------------------------------------------


def _connect_existing(path: Path) -> sqlite3.Connection:
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder, not a project file")
    if not path.is_file():
        raise ProjectError(f"{path}: no such project file")
    try:
        return db.connect(path, readonly=True)
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: cannot open the project ({exc})") from None


def read_project(path: str | os.PathLike[str]) -> ProjectData:
    """Read and check every row of the project ``path`` (nothing is loaded from the original)."""
    path = Path(path)
    conn = _connect_existing(path)
    try:
        db.check_readable(conn, path)
        return read_rows(conn, path)
    except sqlite3.Error as exc:
        if "not a database" in str(exc):
            raise ProjectError(f"{path}: not a Restorer project (the file is not a database)") from None
        raise ProjectError(f"{path}: the project file is damaged (truncated or corrupt: {exc})") from None
    except MemoryError:
        raise ProjectError(f"{path}: not enough memory to read this project") from None
    finally:
        conn.close()


def _problem(info: OriginalInfo, candidate: Path) -> str | None:
    """Why ``candidate`` is not the project's original (None when it is)."""
    if not candidate.is_file():
        return f"the original photo {candidate} is missing (moved or deleted?)"
    if info.size is not None and candidate.stat().st_size != info.size:
        return f"{candidate} is not the original of this project (it is {candidate.stat().st_size} bytes, " \
               f"the original was {info.size})"
    if info.sha256 is not None and file_sha256(candidate) != info.sha256:
        return f"{candidate} is not the original of this project (its sha256 differs: the file changed)"
    return None


def load_original(data: ProjectData, find_original: FindOriginal | None = None):  # -> core.image.Photo
    """The project's state-0 photo: the original file (checked), or the photo the project itself holds.

    ``find_original(info, problem)`` is asked once when the recorded file is missing or differs; a
    file it gives must have the recorded sha256. A project that embeds its original falls back to it.
    """
    from restorer.core.image import Photo, load_photo

    info = data.original
    if info.path is None or info.sha256 is None:
        if data.base_photo is None:
            raise ProjectError(f"{data.path}: the project records no original photo and holds none")
        return Photo(data.base_photo, None, _blank_meta(), None)
    source: Path | None = info.path
    problem = _problem(info, info.path)
    if problem is not None and find_original is not None:
        given = find_original(info, problem)
        if given is not None:
            source = Path(given)
            again = _problem(info, source)
            if again is not None:
                raise ProjectError(f"{data.path}: {again}")
            problem = None
    if problem is not None:
        if data.embedded:
            return _load_embedded(data)
        raise OriginalNotFound(f"{data.path}: {problem}; give its new place (sha256 {info.sha256[:12]}…)",
                               info, problem)
    assert source is not None
    photo = load_photo(source)
    _check_fits(data, photo.pixels, str(source))
    if data.base_photo is not None:
        photo = photo.with_pixels(data.base_photo)
    return photo


def _blank_meta():
    from restorer.core.image import PhotoMeta

    return PhotoMeta(format="")


def _load_embedded(data: ProjectData):
    """The original from the project's own copy of its bytes (decoded from a temp file, then deleted)."""
    from restorer.core.image import load_photo

    conn = _connect_existing(data.path)
    try:
        blob = read_original_bytes(conn)
    finally:
        conn.close()
    assert blob is not None and data.original.path is not None
    with tempfile.TemporaryDirectory(prefix="restorer-original-") as folder:
        tmp = Path(folder) / data.original.path.name
        tmp.write_bytes(blob)
        if file_sha256(tmp) != data.original.sha256:
            raise ProjectError(f"{data.path}: the project's copy of the original is damaged")
        photo = load_photo(tmp)
    photo.path = None  # its file is gone: saving asks for a name
    _check_fits(data, photo.pixels, "the embedded original")
    return photo if data.base_photo is None else photo.with_pixels(data.base_photo)


def _check_fits(data: ProjectData, pixels: np.ndarray, what: str) -> None:
    if tuple(pixels.shape) != data.shape or pixels.dtype != data.dtype:
        raise ProjectError(f"{data.path}: {what} loads as {pixels.dtype} {pixels.shape}, the project was made "
                           f"on {data.dtype} {data.shape}")


def open_project(path: str | os.PathLike[str], find_original: FindOriginal | None = None, *,
                 byte_budget: int = 2 << 30):  # -> core.document.Document
    """A Document as the project left it: photo and mask at its position, with every step to undo and redo.

    The photo is the original played forward through the applied steps; each step's ``before``
    must match what it replaces, so a wrong original or a damaged project cannot pass silently.
    """
    from restorer.core.document import Document

    data = read_project(path)
    photo = load_original(data, find_original)
    doc = Document(photo, byte_budget=byte_budget)
    pixels = doc.pixels
    for k, edit in enumerate(data.steps[: data.position], start=1):
        for p in edit.patches:
            if p.target != "photo":
                continue
            if not np.array_equal(pixels[p.box.slices], p.before):
                raise ProjectError(f"{data.path}: step {k} ({edit.label}) does not fit the original's pixels: "
                                   "the project is damaged or was made from another photo")
            pixels[p.box.slices] = p.after
    doc.mask[...] = data.mask
    # The mask at state 0, found by undoing the applied steps: each must fit the mask it undoes.
    mask = data.mask.copy()
    for k in range(data.position, 0, -1):
        edit = data.steps[k - 1]
        for p in reversed(edit.patches):
            if p.target == "mask":
                if not np.array_equal(mask[p.box.slices], p.after):
                    raise ProjectError(f"{data.path}: step {k} ({edit.label}) does not fit the saved mask: "
                                       "the project is damaged")
                mask[p.box.slices] = p.before
    _replay_guides(doc, data)
    doc.history.restore(data.steps, data.position, dropped=data.dropped, dropped_targets=data.dropped_targets)
    return doc


def _replay_guides(doc: Any, data: ProjectData) -> None:
    """The guide-line layers at the project's position: empty at state 0 (an older Restorer's projects
    have none), played forward through the applied steps. Where older guide steps were dropped, state 0
    is not known and the steps' ``before`` is not checked."""
    check = not ({"guides", "unguides"} & data.dropped_targets)
    for k, edit in enumerate(data.steps[: data.position], start=1):
        for p in edit.patches:
            if p.target in ("guides", "unguides"):
                layer = doc.guides if p.target == "guides" else doc.unguides
                if check and not np.array_equal(layer[p.box.slices], p.before):
                    raise ProjectError(f"{data.path}: step {k} ({edit.label}) does not fit the guide lines "
                                       "before it: the project is damaged")
                layer[p.box.slices] = p.after
