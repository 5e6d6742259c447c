"""Atomic file writes: a hidden temp file beside the target, fsynced, then renamed into place.

Readers see the old file or the complete new one, never a partial one. Without ``replace`` the
rename itself refuses an existing target (a hard link, which fails if the name is taken), so a
file that appeared while Restorer was working is never replaced. Temp files of ours that a
killed process left behind (``.NAME.xxxxxxxx.tmp.EXT``, older than an hour) are removed on the
first write to their folder.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path
from collections.abc import Callable

from restorer.errors import ImageError, RestorerError

STALE_SECONDS = 3600.0
TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp(\.[A-Za-z0-9]+)?$")
# link() errors that mean "this file system has no hard links", not "this write failed".
_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOSYS, getattr(errno, "ENOTSUP", -1),
             getattr(errno, "EOPNOTSUPP", -1)}
_cleaned: set[str] = set()


def temp_path(path: Path) -> Path:
    """A fresh hidden temp name beside ``path`` that keeps its suffix (writers pick formats by it)."""
    return path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[Path], object],
    *,
    replace: bool = True,
    describe: Callable[[BaseException], str] | None = None,
) -> None:
    """Call ``write(temp_path)`` for a temp file beside ``path``, fsync it, then rename it to ``path``.

    ``replace=False``: an existing ``path``, even one created after the call began, raises
    ImageError and is left alone. On any failure the temp file is removed and ImageError (one
    line, naming ``path``) is raised; ``describe`` words a writer's exception.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise ImageError(f"{path}: is a folder; give a file name to save to")
    if not folder.is_dir():
        raise ImageError(f"{path}: cannot save: folder {folder} does not exist")
    clean_stale_temps(folder)
    tmp = temp_path(path)
    try:
        # O_EXCL: never clobber another writer's temp file; mode 0o666 so umask applies as usual.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as e:
        raise ImageError(f"{path}: cannot save here ({e.strerror or e})") from None
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if replace:
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o7777)  # replacing keeps the old file's permissions
            os.replace(tmp, path)
        else:
            _rename_no_replace(tmp, path)
    except BaseException as e:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        if isinstance(e, RestorerError) or not isinstance(e, Exception):
            raise
        if isinstance(e, MemoryError):
            raise ImageError(f"{path}: not enough memory to save this image") from None
        if isinstance(e, OSError) and e.strerror and describe is None:
            reason = e.strerror
        else:
            reason = describe(e) if describe else f"{e} ({type(e).__name__})"
        raise ImageError(f"{path}: cannot save: {reason}") from e
    fsync_folder(folder)


def _rename_no_replace(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)  # atomic, and fails if the name exists: the check and the rename are one step
    except FileExistsError:
        raise ImageError(f"{path}: already exists (it appeared while Restorer was working); "
                         "pass --overwrite to replace it") from None
    except OSError as e:
        if e.errno not in _NO_LINKS:
            raise
        # No hard links here (FAT, some network shares): claim the name with O_EXCL, then rename
        # over our own empty placeholder.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise ImageError(f"{path}: already exists (it appeared while Restorer was working); "
                             "pass --overwrite to replace it") from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def clean_stale_temps(folder: Path, *, older_than: float = STALE_SECONDS, force: bool = False) -> list[Path]:
    """Remove our temp files in ``folder`` left by a killed process (once per folder per process).

    Only regular files named like ``temp_path`` makes, owned by this user and untouched for
    ``older_than`` seconds, are removed; a write in progress keeps touching its file.
    """
    key = os.path.realpath(folder)
    if key in _cleaned and not force:
        return []
    _cleaned.add(key)
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        if not TEMP_NAME.match(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < older_than:
                continue
            if uid is not None and st.st_uid != uid:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable on POSIX; Windows cannot open folders, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
