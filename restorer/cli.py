"""restorer-cli: inpaint one photo, a folder of photos, list models; thin glue over core, inference and training."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from restorer import __version__
from restorer.errors import ImageError, RestorerError

PROG = "restorer-cli"
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


# --- helpers ---------------------------------------------------------------------------------------


class ProgressLine:
    """A one-line progress bar on stderr (only when stderr is a terminal, so logs stay clean)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def __call__(self, progress) -> None:  # progress: restorer.inference.engine.Progress
        if not self.enabled:
            return
        total = max(progress.total, 1)
        width = 30
        filled = int(width * progress.done / total)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r{self.label} [{bar}] {progress.done}/{total} {elapsed:5.1f}s {progress.message[:30]:30}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _check_output(output: Path, inputs: Sequence[Path], overwrite: bool) -> None:
    """Refuse to overwrite anything without --overwrite, and never an input even with it unless it's named."""
    from restorer.core.image import save_format

    save_format(output)
    if output.is_dir():
        raise ImageError(f"{output}: is a folder; give a file name for the output")
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ImageError(f"{output}: folder {folder} is not writable")
    if output.exists() and not overwrite:
        same = any(_same_file(output, p) for p in inputs)
        what = "is the input photo" if same else "already exists"
        raise ImageError(f"{output}: {what}; pass --overwrite to replace it")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _require_model(args: argparse.Namespace) -> None:
    """Resolve --model auto, and fail before loading a large photo if the model cannot run."""
    from restorer.errors import ModelUnavailable
    from restorer.models import registry

    if args.model == "auto":
        args.model = registry.default_model()
    name = args.model
    state = registry.check(registry.get_spec(name))
    if not state.ready:
        raise ModelUnavailable(f"model {name!r} is unavailable: {state.reason}")
    args.weights_sha256 = state.sha256  # for the sidecar: which weights made the fill


def _engine_options(args: argparse.Namespace, shape: tuple[int, int]):
    from restorer.core.maskfile import load_mask
    from restorer.inference.engine import EngineOptions

    area, mode = None, "allow"
    if args.sample_area or args.never_copy_from:
        mode = "allow" if args.sample_area else "deny"
        area = load_mask(Path(args.sample_area or args.never_copy_from), shape, max_pixels=args.max_pixels)
    return EngineOptions(device=args.device, threads=args.threads, grain=args.grain,
                         sample_area=area, sample_mode=mode)


def _run_fill(args: argparse.Namespace, image: Path, mask_path: Path | None, output: Path, label: str) -> dict:
    """Load, fill, save one photo (mask_path None: the mask is the damage detected); returns the record of what was changed."""
    from restorer.core import provenance
    from restorer.core.image import load_photo, save_format, save_photo
    from restorer.core.maskfile import load_mask
    from restorer.core.record import edit_record
    from restorer.inference import engine

    _check_output(output, [p for p in (image, mask_path) if p is not None], args.overwrite)
    sidecar = not getattr(args, "no_sidecar", True)
    if sidecar:
        provenance.check_sidecar(output, replace=args.overwrite)
    photo = load_photo(image, max_pixels=args.max_pixels)
    if mask_path is None:
        from restorer.cli_detect import detected_mask, report_empty

        mask = detected_mask(args, photo.pixels, label)
        report_empty(mask, image.name, args.quiet)
    else:
        mask = load_mask(mask_path, (photo.height, photo.width), max_pixels=args.max_pixels)
    bar = ProgressLine(label, enabled=not args.quiet and not getattr(args, "batch_bar", False))
    started, when = time.monotonic(), provenance.utc_now()
    try:
        # In place when the decoder gave a writable array (tifffile, OpenCV do; Pillow's views don't):
        # the loaded pixels are ours alone, and a 100 MP 16-bit scan would need 600 MB more.
        filled, result = engine.inpaint(
            photo.pixels, mask, args.model, _engine_options(args, mask.shape), on_progress=bar,
            inplace=photo.pixels.flags.writeable,
        )
    finally:
        bar.close()
    out_photo = photo.with_pixels(filled)
    xmp_note = None
    if sidecar:
        xmp_note = provenance.add_xmp_history(
            out_photo.meta.extra, source_format=photo.meta.format, target_format=save_format(output),
            parameters=f"filled {int(mask.sum())} pixels with {args.model}", when=when)
    # replace only with --overwrite, checked again at the rename: a file that appeared meanwhile stays.
    save_photo(out_photo, output, quality=args.quality, allow_8bit=args.allow_8bit, replace=args.overwrite)
    # What loading changed (pages or frames dropped, CMYK turned RGB, a profile dropped) is part of
    # what the output is: said once the output exists, one line each, and kept in the record.
    load_notes = [f"{image.name}: {n}" for n in photo.meta.extra.get("notes", [])]
    notes = [*load_notes, *result.notes, *([f"{output.name}: {xmp_note}"] if xmp_note else [])]
    for note in notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    record = edit_record(source=image, output=output, mask=mask, model=args.model, device=result.device,
                         seconds=time.monotonic() - started, notes=notes)
    if sidecar:
        step = provenance.fill_step(model=args.model, weights_sha256=getattr(args, "weights_sha256", None),
                                    mask=mask, device=result.device, time=when,
                                    mask_file=None if mask_path is None else str(mask_path.absolute()),
                                    detected=mask_path is None)
        side = provenance.sidecar(source=image, source_sha256=record["source_sha256"], output=output,
                                  output_sha256=record["output_sha256"], output_format=save_format(output),
                                  steps=[step], xmp_history=xmp_note is None and save_format(output) in provenance.XMP_FORMATS,
                                  notes=notes)
        record["sidecar"] = str(provenance.write_sidecar(output, side, replace=args.overwrite))
    return record


# --- commands --------------------------------------------------------------------------------------


def cmd_inpaint(args: argparse.Namespace) -> int:
    from restorer.cli_detect import check_mask_source
    from restorer.core.record import append_records, check_record_path

    check_mask_source(args, "--mask")
    image, output = Path(args.image), Path(args.output)
    mask = Path(args.mask) if args.mask else None  # None: --detect finds the damage
    if args.record:
        # Checked before any work: a record must never replace the photo, its mask, the output or an older log.
        from restorer.core.provenance import sidecar_path

        roles = (("input photo", image), *((("mask", mask),) if mask else ()), ("output", output),
                 ("output's sidecar", sidecar_path(output)))
        check_record_path(Path(args.record), roles, append=args.append_record)
    elif args.append_record:
        raise RestorerError("--append-record needs --record FILE")
    _require_model(args)
    record = _run_fill(args, image, mask, output, image.name)
    if args.record:
        append_records(Path(args.record), [record], create=not args.append_record)
    if not args.quiet:
        print(f"wrote {args.output} ({record['mask_pixels']} pixels filled with {args.model} on {record['device']})")
    return EXIT_OK


def cmd_models(args: argparse.Namespace) -> int:
    from restorer.models import registry

    rows = []
    for spec in registry.all_specs():
        state = registry.check(spec)
        device = "cpu"
        if spec.runs_network:
            from restorer.models.device import resolve_device

            device = resolve_device(args.device)
        rows.append(
            {
                "name": spec.name,
                "state": "ready" if state.ready else "unavailable",
                "reason": state.reason,
                "device": device,
                "licence": spec.licence,
                "description": spec.description,
            }
        )
    return print_registry(rows, args.json, lambda r: f"; runs on {r['device']}")


def print_registry(rows: list[dict], as_json: bool, detail: Callable[[dict], str],
                   mark: Callable[[dict], str] = lambda r: "") -> int:
    """``models`` and ``detectors``: JSON, or two lines per entry (name and state; description, ``detail``, licence)."""
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = r["state"] if r["state"] == "ready" else f"unavailable: {r['reason']}"
        print(f"{r['name']:<{width}}  {state}{mark(r)}")
        print(f"{'':<{width}}  {r['description']}{detail(r)}; licence {r['licence']}")
    return EXIT_OK


# --- parser ----------------------------------------------------------------------------------------


def _fill_options(p: argparse.ArgumentParser) -> None:
    from restorer.core.image import DEFAULT_MAX_PIXELS

    p.add_argument("--model", default="auto",
                   help="model name (see 'restorer-cli models'); default auto: the best learned model whose "
                        "weights are installed, else telea")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"), help="where learned models run")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the model (default: all)")
    p.add_argument("--grain", action="store_true",
                   help="add grain like the photo's around the hole to fills smoother than it "
                        "(diffusion and learned models; synthesis copies the photo's own grain)")
    area = p.add_mutually_exclusive_group()
    area.add_argument("--sample-area", metavar="MASK",
                      help="synthesis copies patches only from the white pixels of this mask")
    area.add_argument("--never-copy-from", metavar="MASK",
                      help="synthesis never copies patches from the white pixels of this mask")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse photos larger than this many pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--overwrite", action="store_true", help="allow replacing an existing output file")
    p.add_argument("--allow-8bit", action="store_true", help="allow saving a 16-bit photo to an 8-bit format")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--no-sidecar", action="store_true",
                   help="write no OUTPUT.restorer.json provenance sidecar and no XMP history entry")


def build_parser() -> argparse.ArgumentParser:
    from restorer.cli_batch import add_parser as add_batch_parser
    from restorer.cli_detect import add_detection_options
    from restorer.cli_detect import add_parser as add_detect_parser

    parser = argparse.ArgumentParser(prog=PROG, description="Restorer from the command line: fill masked damage in photos.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("inpaint", help="fill the masked pixels of one photo")
    p.add_argument("image", help="the photo (JPEG, PNG, TIFF, WebP, BMP; 8 or 16 bit)")
    p.add_argument("--mask", "-m", help="mask image of the same size; white = fill (or --detect)")
    p.add_argument("--output", "-o", required=True, help="where to write the result (format from the suffix)")
    p.add_argument("--record", metavar="FILE",
                   help="also write a JSON record of what was changed to this new file")
    p.add_argument("--append-record", action="store_true",
                   help="add the record to FILE if it exists (a JSON-lines log of earlier runs)")
    _fill_options(p)
    add_detection_options(p, flag=True)
    p.set_defaults(func=cmd_inpaint)

    add_batch_parser(sub, _fill_options, add_detection_options)

    p = sub.add_parser("models", help="list the models, whether each is ready, and where it would run")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.set_defaults(func=cmd_models)

    add_detect_parser(sub)

    from restorer.training.commands import add_parsers

    add_parsers(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it unwinds like Ctrl+C: temp files go, no partial output."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    in_main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        with warnings.catch_warnings():
            # Library warnings ("Tag data larger than file") are not messages for the user: one line
            # per problem, ours. RESTORER_DEBUG=1 shows them.
            if not os.environ.get("RESTORER_DEBUG"):
                warnings.simplefilter("ignore")
            return _dispatch(func, args)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, old)


def _dispatch(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return func(args)
    except Terminated:
        print(f"{PROG}: terminated; nothing partial was written", file=sys.stderr)
        return EXIT_TERMINATED
    except RestorerError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no output was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"{PROG}: error: out of memory; try a smaller photo or --device cpu", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug, not bad input: one line, with the traceback behind a switch
        if os.environ.get("RESTORER_DEBUG"):
            raise
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set RESTORER_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
