"""restorer-cli detect, and the --detect option of inpaint and batch: find damage and make the mask a fill needs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from restorer.cli_common import PROG, ProgressLine, check_output
from restorer.errors import EXIT_OK, ImageError, RestorerError

NO_DAMAGE = "no damage found"


def add_detection_options(p: argparse.ArgumentParser, *, flag: bool) -> None:
    """--threshold, --kinds, --detector (and --detect itself when ``flag``: for inpaint and batch)."""
    from restorer.detection import DEFAULT_THRESHOLD, GROW_PX, KINDS

    if flag:
        p.add_argument("--detect", action="store_true",
                       help="find the damage automatically instead of reading a mask file")
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help=f"damage probability 0..1 from which a pixel is damage (default {DEFAULT_THRESHOLD}; "
                        "lower finds more, and flags more that is not damage)")
    p.add_argument("--kinds", default="all",
                   help=f"comma-separated kinds to find: {','.join(KINDS)} (default all)")
    p.add_argument("--detector", default="classical", help="detector name (default classical)")
    p.add_argument("--grow", type=int, default=GROW_PX,
                   help=f"draw the mask this many pixels wider than the damage (default {GROW_PX})")


def check_detection_options(args: argparse.Namespace) -> None:
    """Fail on a bad option before loading a large photo."""
    from restorer.detection import parse_kinds, registry
    from restorer.detection.damage import level_of

    level_of(args.threshold)
    args.kind_list = parse_kinds(args.kinds)
    if args.grow < 0 or args.grow > 50:
        raise RestorerError(f"--grow must be between 0 and 50 pixels, not {args.grow}")
    state = registry.check(registry.get_spec(args.detector))
    if not state.ready:
        raise RestorerError(f"detector {args.detector!r} is unavailable: {state.reason}")


def detected_mask(args: argparse.Namespace, pixels: np.ndarray, label: str) -> np.ndarray:
    """The damage mask of ``pixels`` for the options in ``args`` (with a progress line on a terminal)."""
    from restorer.detection import detect_damage

    bar = ProgressLine(f"{label}: detecting", enabled=not getattr(args, "quiet", False))
    try:
        damage = detect_damage(pixels, args.detector, on_progress=bar)
    finally:
        bar.close()
    return damage.mask(args.threshold, args.kind_list, grow=args.grow)


def cmd_detect(args: argparse.Namespace) -> int:
    from restorer.core.image import load_photo
    from restorer.core.maskfile import save_mask

    check_detection_options(args)
    image, output = Path(args.image), Path(args.output)
    if output.suffix.lower() != ".png":
        raise ImageError(f"{output}: masks are saved as PNG; use a .png file name")
    check_output(output, [image], args.overwrite)
    photo = load_photo(image, max_pixels=args.max_pixels, max_bytes=args.max_bytes)
    started = time.monotonic()
    mask = detected_mask(args, photo.pixels, image.name)
    save_mask(mask, output)
    if not args.quiet:
        share = mask.mean() * 100
        what = NO_DAMAGE if not mask.any() else f"{int(mask.sum())} pixels of damage ({share:.2f} % of the photo)"
        print(f"wrote {output}: {what}, {time.monotonic() - started:.1f} s")
    return EXIT_OK


def report_empty(mask: np.ndarray, name: str, quiet: bool) -> None:
    """inpaint/batch --detect: say so when a photo had nothing to fill (it is still written, unchanged)."""
    if not mask.any() and not quiet:
        print(f"{PROG}: {name}: {NO_DAMAGE}; written unchanged", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction, limit_options) -> None:
    p = sub.add_parser("detect", help="find scratches, dust and cracks; write them as a mask (255 = damage)")
    p.add_argument("image", help="the photo (JPEG, PNG, TIFF, WebP, BMP; 8 or 16 bit)")
    p.add_argument("--output", "-o", required=True, help="the mask to write (PNG, the photo's size)")
    add_detection_options(p, flag=False)
    limit_options(p)
    p.add_argument("--overwrite", action="store_true", help="allow replacing an existing output file")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.set_defaults(func=cmd_detect)


def check_mask_source(args: argparse.Namespace, mask_flag: str) -> None:
    """inpaint/batch: exactly one of a mask (file or folder) and --detect."""
    given = getattr(args, mask_flag.lstrip("-"))
    if args.detect and given:
        raise RestorerError(f"give {mask_flag} or --detect, not both")
    if not args.detect and not given:
        raise RestorerError(f"give {mask_flag} (what to fill) or --detect (find the damage automatically)")
    if args.detect:
        check_detection_options(args)
