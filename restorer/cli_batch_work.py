"""What a batch does with each photo, wherever it runs, and how the client keeps the record of it.

The sequential batch (cli_batch.py) and the cluster run (cli_batch_dask.py) both call ``precheck``
(the photos a run skips: no mask, already done) and ``fill`` (one photo filled, any failure turned
into its record line), and both hand every record to one ``Tally``, which writes its line (flushed,
fsynced) before the in-flight file forgets the photo. Only the process that holds the Tally writes
the record and the in-flight file; a Dask worker only writes the photo's output and sidecar.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from restorer.cli_common import PROG
from restorer.errors import RestorerError

RECORD_NAME = "restorer-batch.jsonl"
INFLIGHT_NAME = ".restorer-batch.inflight"


def key(target: Path, out: Path) -> str:
    """The output's path inside the output folder: what the record and the in-flight file name it by
    (relative, so a record still holds when the folder was moved or the command is run from elsewhere)."""
    return Path(os.path.relpath(target, out)).as_posix()


def base(args: argparse.Namespace, photo: Path, target: Path) -> dict[str, Any]:
    from restorer.core.provenance import utc_now

    return {"source": str(photo), "output": str(target), "in_batch": key(target, Path(args.output)), "time": utc_now()}


def is_done(target: Path, want: str | None) -> bool:
    from restorer.checksums import file_sha256

    return want is not None and target.is_file() and file_sha256(target) == want


def precheck(args: argparse.Namespace, photo: Path, mask: Path | None, target: Path,
             done: dict[str, str]) -> dict[str, Any] | None:
    """The record of a photo this run skips (no mask; output on disk as its "done" line says), else None."""
    line = base(args, photo, target)
    if mask is None and not args.detect:
        print(f"{PROG}: {photo.name}: no mask in {args.masks or args.input}; skipped", file=sys.stderr)
        return {**line, "status": "skipped: no mask"}
    want = done.get(line["in_batch"])
    if is_done(target, want):
        return {**line, "status": "skipped: already done", "output_sha256": want}
    return None


def fill(args: argparse.Namespace, photo: Path, mask: Path | None, target: Path, label: str,
         own: bool) -> dict[str, Any]:
    """Fill one photo; its record line, whatever happened (a KeyboardInterrupt still stops the batch).

    ``own``: an existing output (and sidecar) at ``target`` is this batch's own half-made one and may
    be made again; otherwise an existing file is refused without --overwrite, as always.
    """
    from restorer import cli_fill

    run_args = args
    if own and not args.overwrite:
        run_args = argparse.Namespace(**{**vars(args), "overwrite": True})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        record = cli_fill.run_fill(run_args, photo, mask, target, label)
    except RestorerError as exc:
        return {**base(args, photo, target), "status": "failed", "error": str(exc)}
    except OSError as exc:
        return {**base(args, photo, target), "status": "failed", "error": f"{photo}: {exc.strerror or exc}"}
    except Exception as exc:  # a bug or MemoryError on one photo must not lose the others or the record
        if os.environ.get("RESTORER_DEBUG"):
            raise
        text = "out of memory" if isinstance(exc, MemoryError) else f"internal error: {type(exc).__name__}: {exc}"
        return {**base(args, photo, target), "status": "failed", "error": " ".join(f"{photo}: {text}".split())}
    return {**record, "in_batch": key(target, Path(args.output)), "status": "done"}


def write_inflight(path: Path, keys: Collection[str]) -> None:
    """Say which outputs are being written now (fsynced), or that none is (the file removed).

    One output is its key as it is (what the sequential batch writes); several are a JSON list.
    """
    if not keys:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    text = next(iter(keys)) if len(keys) == 1 else json.dumps(sorted(keys))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_inflight(path: Path) -> frozenset[str]:
    """The outputs a killed run was writing: its own, to be made again."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return frozenset()
    if text.startswith("["):
        try:
            keys = json.loads(text)
        except ValueError:
            keys = None
        if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
            return frozenset(keys)
    return frozenset([text]) if text else frozenset()


class Tally:
    """The client's side of a batch: one record line per photo, the counts, the bar and the messages."""

    def __init__(self, log: Path, total: int, quiet: bool) -> None:
        self.log, self.total, self.quiet = log, total, quiet
        self.counts = {"done": 0, "failed": 0, "skipped": 0}
        self.bar = _bar(total, not quiet)
        self.say = self.bar.write if self.bar is not None else print
        self.seen = 0

    def add(self, record: dict[str, Any], photo: Path, target: Path) -> None:
        """Write ``record``'s line (on disk before this returns: a killed batch keeps its record)."""
        from restorer.core.record import append_records

        status = record["status"]
        if status == "failed":
            print(f"{PROG}: error: {record['error']}", file=sys.stderr)
        self.counts["done" if status == "done" else "failed" if status == "failed" else "skipped"] += 1
        append_records(self.log, [record])
        self.seen += 1
        if self.bar is not None:
            self.bar.update(1)
        if not self.quiet and status != "failed":
            self.say(f"[{self.seen}/{self.total}] {photo.name}: {status}" + (f" -> {target}" if status == "done" else ""))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def summary(self) -> str:
        c = self.counts
        return f"{c['done']} restored, {c['failed']} failed, {c['skipped']} skipped; record in {self.log}"


def _bar(total: int, enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="photo", file=sys.stderr, dynamic_ncols=True)
