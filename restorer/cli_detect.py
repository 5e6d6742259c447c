"""restorer-cli detect, and the --detect option of inpaint and batch: find damage and make the mask a fill needs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from restorer.cli_common import PROG, ProgressLine, check_folder, check_output
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
    p.add_argument("--detector", default=None,
                   help="detector name (restorer-cli detectors lists them; default: the registry's default when "
                        "its weights are ready, else classical)")
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
    args.detector = args.detector or registry.default_name()
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
    _add_evaluate_parsers(sub)


def _photo_folder() -> str | None:
    # beside the project, never inside it (research-only data); no torch import to find it
    folder = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "val" / "photos" / "cbsd68"
    return str(folder) if folder.is_dir() else None


def cmd_evaluate_detection(args: argparse.Namespace) -> int:
    import json

    from restorer.core.atomic import atomic_write
    from restorer.core.image import LOAD_SUFFIXES, load_photo
    from restorer.detection import registry
    from restorer.detection.damage import level_of
    from restorer.detection.evaluate import evaluate_detectors, markdown_table

    if args.pairs < 1:
        raise RestorerError(f"--pairs must be at least 1, not {args.pairs}")
    try:
        thresholds = [float(t) for t in args.threshold.split(",") if t.strip()]
    except ValueError:
        raise RestorerError(f"--threshold {args.threshold!r}: expected numbers 0..1, comma-separated") from None
    if not thresholds:
        raise RestorerError("--threshold: give at least one number 0..1")
    for t in thresholds:
        level_of(t)
    if not args.photos or not Path(args.photos).is_dir():
        raise RestorerError(f"photo folder {args.photos} does not exist; pass --photos DIR"
                            if args.photos else "no photos to evaluate on: pass --photos DIR")
    out = Path(args.out)
    if out.suffix.lower() != ".md":
        raise RestorerError(f"{out}: the table is Markdown; give a .md file name (the JSON goes beside it)")
    check_folder(out)  # said before the evaluation runs, not after
    names = args.detector or [s.name for s in registry.all_specs() if registry.check(s).ready]
    folder = Path(args.weights_dir) if args.weights_dir else None
    if folder is not None and not args.detector:
        names = [s.name for s in registry.all_specs() if registry.check(s, folder).ready]
    detectors = {name: registry.load(name, folder) for name in dict.fromkeys(names)}  # ModelUnavailable says why
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in LOAD_SUFFIXES and p.is_file())
    if not files:
        raise RestorerError(f"{args.photos}: no photos found")
    photos = [load_photo(f).pixels for f in files[:args.pairs]]  # pair i uses photo i, cycling
    bar = ProgressLine("evaluating", enabled=not args.quiet)
    try:
        result = evaluate_detectors(detectors, photos, args.pairs, args.seed, thresholds=thresholds,
                                    on_progress=bar)
    finally:
        bar.close()
    result["protocol"]["photo_folder"] = Path(args.photos).name
    table = markdown_table(result)
    command = f"restorer-cli evaluate-detection {' '.join(f'--detector {n}' for n in detectors)} " \
              f"--photos {Path(args.photos).name} --pairs {args.pairs} --seed {args.seed} --threshold {args.threshold}" \
              + (f" --weights-dir {args.weights_dir}" if args.weights_dir else "")
    text = f"# Detection evaluation\n\n`{command}`\n\n{table}"
    for path, content in ((out, text), (out.with_suffix(".json"), json.dumps(result, indent=1) + "\n")):
        def write(tmp: Path, content: str = content) -> None:
            tmp.write_text(content, encoding="utf-8")

        atomic_write(path, write)
    print(table, end="")
    print(f"written: {out} and {out.with_suffix('.json').name}")
    return EXIT_OK


def cmd_detectors(args: argparse.Namespace) -> int:
    """restorer-cli detectors: each detector's state (and why not ready), licence, weights, card and sha256."""
    from restorer.cli_common import print_registry
    from restorer.detection import registry
    from restorer.models.registry import weights_dir

    rows = []
    for spec in registry.all_specs():
        state = registry.check(spec)
        rows.append({"name": spec.name, "state": "ready" if state.ready else "unavailable", "reason": state.reason,
                     "default": spec.name == registry.default_name(), "licence": spec.licence,
                     "weights": None if spec.weights is None else str(weights_dir() / spec.weights),
                     "card": None if spec.card_name is None else str(weights_dir() / spec.card_name),
                     "sha256": state.sha256, "description": spec.description})
    return print_registry(
        rows, args.json, lambda r: "" if r["weights"] is None else f"; weights {r['weights']} (sha256 {r['sha256'] or '-'})",
        lambda r: " (default)" if r["default"] else "")


def _add_evaluate_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detectors", help="list the damage detectors, whether each is ready, licence and weights")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_detectors)

    from restorer.detection import DEFAULT_THRESHOLD

    p = sub.add_parser("evaluate-detection",
                       help="score detectors on damage rendered onto photos: precision, recall, F1 per kind, "
                            "and false alarms on the same photos undamaged")
    p.add_argument("--detector", action="append", default=[],
                   help="detector to score (repeat for several; default every ready one)")
    p.add_argument("--photos", default=_photo_folder(),
                   help="folder of clean photos (default ../shared/data/val/photos/cbsd68 when it exists)")
    p.add_argument("--pairs", type=int, default=20, help="damaged photos per kind, and clean photos (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threshold", default=str(DEFAULT_THRESHOLD),
                   help=f"threshold 0..1 (default {DEFAULT_THRESHOLD}), or several comma-separated for a sweep "
                        "(each detector still runs once per photo)")
    p.add_argument("--out", default="benchmarks/results/detection_eval.md",
                   help="the Markdown table to write (its JSON beside it)")
    p.add_argument("--weights-dir", default=None,
                   help="folder of detector weights (default the registry's: weights/), e.g. a fresh export")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_evaluate_detection)


def check_mask_source(args: argparse.Namespace, mask_flag: str) -> None:
    """inpaint/batch: exactly one of a mask (file or folder) and --detect."""
    given = getattr(args, mask_flag.lstrip("-"))
    if args.detect and given:
        raise RestorerError(f"give {mask_flag} or --detect, not both")
    if not args.detect and not given:
        raise RestorerError(f"give {mask_flag} (what to fill) or --detect (find the damage automatically)")
    if args.detect:
        check_detection_options(args)
