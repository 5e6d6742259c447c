"""restorer-cli batch: fill a folder of photos with a record that survives kill -9 and a rerun that resumes.

Every photo gets one line in OUTPUT/restorer-batch.jsonl as soon as it is over (written, flushed,
fsynced): done, failed (with the reason), skipped: no mask, or skipped: already done. A rerun of
the same command skips the photos whose output is on disk with the sha256 its "done" line names.
Before a photo's output is written, its path goes into a small in-flight file: an output that a
killed run left without its record line is then known to be ours and is made again, while any
other existing file is still refused without --overwrite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from restorer.cli_common import PROG
from restorer.errors import EXIT_ERROR, EXIT_OK, ImageError, RestorerError

RECORD_NAME = "restorer-batch.jsonl"
INFLIGHT_NAME = ".restorer-batch.inflight"
FORMATS = {"png": ".png", "tiff": ".tif"}


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


def _key(target: Path, out: Path) -> str:
    return Path(os.path.relpath(target, out)).as_posix()


def _is_done(target: Path, want: str | None) -> bool:
    from restorer.checksums import file_sha256

    return want is not None and target.is_file() and file_sha256(target) == want


def _write_inflight(path: Path, target: str | None) -> None:
    """Say which output is being written now (fsynced), or that none is (the file removed)."""
    if target is None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        os.write(fd, target.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_inflight(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace") or None
    except OSError:
        return None


def _bar(total: int, enabled: bool) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="photo", file=sys.stderr, dynamic_ncols=True)


def cmd_batch(args: argparse.Namespace) -> int:
    from restorer import cli_fill
    from restorer.cli_common import same_file
    from restorer.cli_detect import check_mask_source
    from restorer.core.image import LOAD_SUFFIXES
    from restorer.core.record import append_records

    check_mask_source(args, "--masks")
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
    leftover = _read_inflight(inflight)  # the output a killed run was writing: ours to make again
    counts = {"done": 0, "failed": 0, "skipped": 0}
    bar = _bar(len(jobs), not args.quiet)
    args.batch_bar = bar is not None
    say = bar.write if bar is not None else print
    try:
        for i, (photo, mask, target) in enumerate(jobs, 1):
            record = _one(args, photo, mask, target, f"[{i}/{len(jobs)}] {photo.name}", done, leftover, inflight)
            status = record["status"]
            counts["done" if status == "done" else "failed" if status == "failed" else "skipped"] += 1
            # One line per photo, on disk before the next one starts: a killed batch keeps its record.
            append_records(log, [record])
            _write_inflight(inflight, None)
            if bar is not None:
                bar.update(1)
            if not args.quiet and status != "failed":
                say(f"[{i}/{len(jobs)}] {photo.name}: {status}" + (f" -> {target}" if status == "done" else ""))
    finally:
        if bar is not None:
            bar.close()
    print(f"{counts['done']} restored, {counts['failed']} failed, {counts['skipped']} skipped; record in {log}")
    return EXIT_ERROR if counts["failed"] else EXIT_OK


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


def _one(args: argparse.Namespace, photo: Path, mask: Path | None, target: Path, label: str,
         done: dict[str, str], leftover: str | None, inflight: Path) -> dict[str, Any]:
    """Fill one photo; its record line, whatever happened (a KeyboardInterrupt still stops the batch)."""
    from restorer import cli_fill

    key = _key(target, Path(args.output))
    base: dict[str, Any] = {"source": str(photo), "output": str(target), "in_batch": key, "time": _now()}
    if mask is None and not args.detect:
        print(f"{PROG}: {photo.name}: no mask in {args.masks or args.input}; skipped", file=sys.stderr)
        return {**base, "status": "skipped: no mask"}
    if _is_done(target, done.get(key)):
        return {**base, "status": "skipped: already done", "output_sha256": done[key]}
    run_args = args
    if leftover is not None and leftover == key and not args.overwrite:
        # This run's own half-finished photo: its output (and sidecar) may be made again.
        run_args = argparse.Namespace(**{**vars(args), "overwrite": True})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_inflight(inflight, key)
        record = cli_fill.run_fill(run_args, photo, mask, target, label)
    except RestorerError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return {**base, "status": "failed", "error": str(exc)}
    except OSError as exc:
        text = f"{photo}: {exc.strerror or exc}"
        print(f"{PROG}: error: {text}", file=sys.stderr)
        return {**base, "status": "failed", "error": text}
    except Exception as exc:  # a bug or MemoryError on one photo must not lose the others or the record
        if os.environ.get("RESTORER_DEBUG"):
            raise
        text = "out of memory" if isinstance(exc, MemoryError) else f"internal error: {type(exc).__name__}: {exc}"
        text = " ".join(f"{photo}: {text}".split())
        print(f"{PROG}: error: {text}", file=sys.stderr)
        return {**base, "status": "failed", "error": text}
    return {**record, "in_batch": key, "status": "done"}


def _now() -> str:
    from restorer.core.provenance import utc_now

    return utc_now()
