"""restorer-cli: inpaint one photo, a folder of photos, list models; thin glue over core, inference and training."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from restorer import __version__
from restorer.cli_common import PROG, print_registry
from restorer.cli_fill import require_model, run_fill
from restorer.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, RestorerError

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE", "PROG", "main"]


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
    require_model(args)
    record = run_fill(args, image, mask, output, image.name)
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


# --- parser ----------------------------------------------------------------------------------------


def _png_level(text: str) -> int:
    try:
        level = int(text)
    except ValueError:
        level = -1
    if not 0 <= level <= 9:
        raise argparse.ArgumentTypeError(f"expected a whole number 0-9, got {text!r}")
    return level


def _limit_options(p: argparse.ArgumentParser) -> None:
    """--max-pixels and --max-bytes: the two bounds of the one size limit (restorer.core.limits)."""
    from restorer.core import limits

    def size(text: str) -> int:
        try:
            return limits.parse_size(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    pixels, nbytes = limits.default_max_pixels(), limits.default_max_bytes()
    p.add_argument("--max-pixels", type=size, default=pixels, metavar="N",
                   help=f"refuse photos of more pixels than this (default {pixels:,}; RESTORER_MAX_PIXELS sets it)")
    p.add_argument("--max-bytes", type=size, default=nbytes, metavar="SIZE",
                   help="refuse photos whose decoded pixels (width x height x channels x bytes per sample) "
                        f"take more than this, e.g. 2G (default {nbytes / 1e9:g}G; RESTORER_MAX_BYTES sets it)")


def _fill_options(p: argparse.ArgumentParser) -> None:
    from restorer.core.image import DEFAULT_PNG_LEVEL

    p.add_argument("--model", default="auto",
                   help="model name (see 'restorer-cli models'); default auto: the best learned model whose "
                        "weights are installed, else telea")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"), help="where learned models run")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for the fill (default: the cores idle now)")
    p.add_argument("--grain", action="store_true",
                   help="add grain like the photo's around the hole to fills smoother than it "
                        "(diffusion and learned models; synthesis copies the photo's own grain)")
    area = p.add_mutually_exclusive_group()
    area.add_argument("--sample-area", metavar="MASK",
                      help="synthesis copies patches only from the white pixels of this mask")
    area.add_argument("--never-copy-from", metavar="MASK",
                      help="synthesis never copies patches from the white pixels of this mask")
    p.add_argument("--quality", type=int, default=95,
                   help="JPEG/WebP quality 1-100 (default 95; a JPEG master keeps the source's own tables)")
    p.add_argument("--jpeg-reencode", action="store_true",
                   help="JPEG to JPEG: re-encode the whole photo at --quality instead of keeping every DCT block "
                        "the fill did not touch (the default, a JPEG master)")
    p.add_argument("--png-level", type=_png_level, default=DEFAULT_PNG_LEVEL, metavar="N",
                   help=f"PNG zlib level 0-9: lower saves faster, higher makes smaller files; pixels are "
                        f"the same at every level (default {DEFAULT_PNG_LEVEL}: about 3x faster than 6, within ~1 %% in size)")
    _limit_options(p)
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
    p.add_argument("--project", metavar="P.restorer",
                   help="also write a one-step project of this fill (open it in the app, or restorer-cli render it)")
    p.add_argument("--embed-original", action="store_true",
                   help="with --project: store the original photo's file inside the project, so it opens "
                        "and renders even when the original moved or is gone")
    _fill_options(p)
    add_detection_options(p, flag=True)
    p.set_defaults(func=cmd_inpaint)

    add_batch_parser(sub, _fill_options, add_detection_options)
    from restorer.cli_project import add_parser as add_render_parser

    add_render_parser(sub)

    p = sub.add_parser("models", help="list the models, whether each is ready, and where it would run")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.set_defaults(func=cmd_models)

    add_detect_parser(sub, _limit_options)

    from restorer.training.commands import add_parsers

    add_parsers(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so it unwinds like Ctrl+C: temp files go, no partial output."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    from restorer.core.libcalls import configure_debug_log

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_debug_log()  # library lines (libpng, tifffile, Pillow) go there, never to the user
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
