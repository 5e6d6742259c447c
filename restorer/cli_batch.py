"""restorer-cli batch: fill a folder of photos with a record that survives kill -9 and a rerun that resumes.

Every photo gets one line in OUTPUT/restorer-batch.jsonl as soon as it is over (written, flushed,
fsynced): done, failed (with the reason), skipped: no mask, or skipped: already done. A rerun of
the same command skips the photos whose output is on disk with the sha256 its "done" line names.
Before a photo's output is written, its path goes into a small in-flight file: an output that a
killed run left without its record line is then known to be ours and is made again, while any
other existing file is still refused without --overwrite.

This module finds the photos and their masks and runs them one after another; what is done with
each photo and how its line is kept is cli_batch_work.py, shared with the run on a Dask cluster
(--dask, cli_batch_dask.py, imported only then).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from restorer.cli_batch_work import INFLIGHT_NAME, RECORD_NAME, Tally, fill, precheck, read_inflight, write_inflight
from restorer.cli_batch_work import key as record_key
from restorer.errors import EXIT_ERROR, EXIT_OK, ImageError, RestorerError

__all__ = ["INFLIGHT_NAME", "RECORD_NAME", "add_parser", "cmd_batch", "find_mask", "read_record"]

FORMATS = {"png": ".png", "tiff": ".tif"}
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?\[?[\w.:-]+\]?:\d{1,5}$")


def dask_address(text: str) -> str:
    """--dask: local:N (a cluster of N worker processes on this machine) or a scheduler's address."""
    if text.startswith("local:"):
        n = text[len("local:"):]
        if not n.isdigit() or not 1 <= int(n) <= 1024:
            raise argparse.ArgumentTypeError(f"expected local:N with N a number of workers (1-1024), got {text!r}")
        return f"local:{int(n)}"
    if not _ADDRESS.match(text):
        raise argparse.ArgumentTypeError(
            f"expected local:N or a scheduler address such as tcp://HOST:8786, got {text!r}")
    return text


def add_parser(sub: Any, fill_options: Callable[[argparse.ArgumentParser], None],
               detection_options: Callable[..., None]) -> None:
    p = sub.add_parser("batch", help="fill every photo in a folder that has a mask; rerun to resume")
    p.add_argument("input", help="folder of photos")
    p.add_argument("--masks", "-m", help="folder of masks named like the photos (NAME.png or NAME_mask.png), or --detect")
    p.add_argument("--output", "-o", required=True, help="folder for the results (created if missing)")
    p.add_argument("--suffix", default="", help="added to each output name, e.g. -restored")
    p.add_argument("--recursive", "-r", action="store_true",
                   help="also fill the photos in subfolders, mirrored in the output folder (and looked up in the masks folder)")
    p.add_argument("--format", default="same", choices=("same", "png", "tiff"),
                   help="output format: the photo's own (default), PNG or TIFF")
    p.add_argument("--dask", metavar="ADDRESS", type=dask_address,
                   help="run the photos on a Dask cluster: local:N starts N worker processes here, "
                        "tcp://HOST:PORT uses a running scheduler (paths must be the same on every machine); "
                        "needs restorer[cluster]")
    fill_options(p)
    detection_options(p, flag=True)
    p.set_defaults(func=cmd_batch)


def _photos(src: Path, out: Path, masks: Path, recursive: bool, suffixes: frozenset[str]) -> list[Path]:
    found = src.rglob("*") if recursive else src.iterdir()
    # Output and mask folders inside the input folder: their files are not photos of the batch.
    skip = [os.path.realpath(d) + os.sep for d in (out, masks) if not _same(d, src)]
    photos = []
    for p in found:
        if not p.is_file() or p.suffix.lower() not in suffixes or p.name.startswith("."):
            continue
        if recursive and any(os.path.realpath(p).startswith(d) for d in skip):
            continue
        photos.append(p)
    return sorted(photos)


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def find_mask(photo: Path, folder: Path, suffixes: frozenset[str] | set[str]) -> Path | None:
    from restorer.cli_common import same_file

    for stem in (photo.stem, f"{photo.stem}_mask", f"{photo.stem}-mask", f"{photo.stem}.mask"):
        for suffix in sorted(suffixes):
            for candidate in (folder / f"{stem}{suffix}", folder / f"{stem}{suffix.upper()}"):
                if candidate.is_file() and not same_file(candidate, photo):
                    return candidate
    return None


def read_record(path: Path) -> list[dict[str, Any]]:
    """The record's lines, after cutting off a torn last line (a run killed while writing it)."""
    from restorer.core.record import append_records

    if not path.is_file():
        return []
    append_records(path, [])  # repairs the tail in place, fsynced
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                lines.append(value)
    return lines


def _already_done(records: list[dict[str, Any]]) -> dict[str, str]:
    """output path inside the output folder -> the sha256 its latest "done" line gives (relative,
    so a record still holds when the folder was moved or the command is run from elsewhere)."""
    done: dict[str, str] = {}
    for r in records:
        key = r.get("in_batch")
        if r.get("status") in ("done", "skipped: already done") and isinstance(key, str) and r.get("output_sha256"):
            done[key] = r["output_sha256"]
    return done


def cmd_batch(args: argparse.Namespace) -> int:
    from restorer import cli_fill
    from restorer.cli_common import same_file
    from restorer.cli_detect import check_mask_source
    from restorer.core.image import LOAD_SUFFIXES

    check_mask_source(args, "--masks")
    cluster = _cluster_module(args) if args.dask else None  # before any work: is Dask installed?
    cli_fill.require_model(args)
    src, masks, out = Path(args.input), Path(args.masks or args.input), Path(args.output)
    for folder, what in ((src, "input"), (masks, "mask")):
        if not folder.is_dir():
            raise ImageError(f"{folder}: {what} folder does not exist")
    if same_file(out, src) and not args.suffix and args.format == "same":
        raise ImageError(f"{out}: is the input folder; give another output folder or a --suffix so originals stay")
    photos = _photos(src, out, masks, args.recursive, LOAD_SUFFIXES)
    if not photos:
        raise ImageError(f"{src}: no photos found (looked for {', '.join(sorted(LOAD_SUFFIXES))})")
    jobs = list(_plan(args, photos, src, masks, out, LOAD_SUFFIXES))
    if not args.detect and all(mask is None for _, mask, _ in jobs):
        # Most likely the wrong folder: say so rather than report "0 restored" as a success.
        raise ImageError(f"{masks}: no mask matches any of the {len(jobs)} photos in {src} "
                         "(a mask is named like its photo: NAME.png, NAME_mask.png or NAME-mask.png)")
    out.mkdir(parents=True, exist_ok=True)
    log, inflight = out / RECORD_NAME, out / INFLIGHT_NAME
    done = _already_done(read_record(log))
    leftover = read_inflight(inflight)  # the outputs a killed run was writing: ours to make again
    tally = Tally(log, len(jobs), args.quiet)
    args.batch_bar = tally.bar is not None
    try:
        if cluster is not None:
            cluster.run_on_cluster(args, jobs, tally, done, leftover, inflight)
        else:
            for i, (photo, mask, target) in enumerate(jobs, 1):
                record = precheck(args, photo, mask, target, done)
                if record is None:
                    name = record_key(target, out)
                    write_inflight(inflight, [name])
                    record = fill(args, photo, mask, target, f"[{i}/{len(jobs)}] {photo.name}", own=name in leftover)
                tally.add(record, photo, target)
                write_inflight(inflight, [])
    finally:
        tally.close()
    print(tally.summary())
    return EXIT_ERROR if tally.counts["failed"] else EXIT_OK


def _cluster_module(args: argparse.Namespace) -> Any:
    try:
        from restorer import cli_batch_dask
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in ("dask", "distributed"):
            raise
        raise RestorerError("--dask needs Dask's distributed package: pip install 'restorer[cluster]'") from None
    cli_batch_dask.prepare(args)
    return cli_batch_dask


def _plan(args: argparse.Namespace, photos: list[Path], src: Path, masks: Path, out: Path,
          suffixes: frozenset[str]) -> Iterator[tuple[Path, Path | None, Path]]:
    """(photo, its mask or None, its output) for each photo; masks and outputs found in the
    folders are not photos of the batch (masks beside their photos, a rerun into the input folder)."""
    pairs = []
    for photo in photos:
        rel = photo.parent.relative_to(src)
        mask = None if args.detect else find_mask(photo, masks / rel, suffixes)
        suffix = photo.suffix if args.format == "same" else FORMATS[args.format]
        pairs.append((photo, mask, out / rel / f"{photo.stem}{args.suffix}{suffix}"))
    not_photos = {os.path.realpath(p) for _, mask, target in pairs for p in (mask, target) if p is not None}
    for photo, mask, target in pairs:
        if os.path.realpath(photo) not in not_photos:
            yield photo, mask, target
