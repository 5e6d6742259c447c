"""One photo filled from the command line: the model check, the engine's options, fill, save, record, sidecar.

inpaint (cli.py) and batch (cli_batch.py) both fill through run_fill.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from restorer.cli_common import PROG, ProgressLine, check_output


def require_model(args: argparse.Namespace) -> None:
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


def engine_options(args: argparse.Namespace, shape: tuple[int, int]):
    from restorer.core.maskfile import load_mask
    from restorer.inference.engine import EngineOptions

    area, mode = None, "allow"
    if args.sample_area or args.never_copy_from:
        mode = "allow" if args.sample_area else "deny"
        area = load_mask(Path(args.sample_area or args.never_copy_from), shape, max_pixels=args.max_pixels)
    return EngineOptions(device=args.device, threads=args.threads, grain=args.grain,
                         sample_area=area, sample_mode=mode)


def run_fill(args: argparse.Namespace, image: Path, mask_path: Path | None, output: Path, label: str) -> dict:
    """Load, fill, save one photo (mask_path None: the mask is the damage detected); returns the record of what was changed."""
    from restorer.core import provenance
    from restorer.core.image import load_photo, save_format, save_photo
    from restorer.core.maskfile import load_mask
    from restorer.core.record import edit_record
    from restorer.inference import engine

    check_output(output, [p for p in (image, mask_path) if p is not None], args.overwrite)
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
            photo.pixels, mask, args.model, engine_options(args, mask.shape), on_progress=bar,
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
