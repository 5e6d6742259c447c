"""One photo filled from the command line: the model check, the engine's options, fill, save, record, sidecar.

inpaint (cli.py) and batch (cli_batch.py) both fill through run_fill.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from restorer.cli_common import PROG, ProgressLine, check_output
from restorer.errors import RestorerError


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
        area = load_mask(Path(args.sample_area or args.never_copy_from), shape, max_pixels=args.max_pixels,
                         max_bytes=args.max_bytes)
    return EngineOptions(device=args.device, threads=args.threads, grain=args.grain,
                         sample_area=area, sample_mode=mode)


def run_fill(args: argparse.Namespace, image: Path, mask_path: Path | None, output: Path, label: str) -> dict:
    """Load, fill, save one photo (mask_path None: the mask is the damage detected); returns the record of what was changed."""
    from restorer import cli_outputs
    from restorer.core import provenance
    from restorer.core.image import load_photo
    from restorer.core.maskfile import load_mask
    from restorer.core.record import edit_record
    from restorer.inference import engine

    check_output(output, [p for p in (image, mask_path) if p is not None], args.overwrite)
    sidecar = cli_outputs.wants_sidecar(args)
    cli_outputs.check_sidecar(output, args)
    project = getattr(args, "project", None)
    if getattr(args, "embed_original", False) and not project:
        raise RestorerError("--embed-original needs --project P.restorer (it is stored in the project)")
    if project:
        from restorer.cli_project import check_project_output

        check_project_output(Path(project), [image, output, *([mask_path] if mask_path else [])], args.overwrite)
    photo = load_photo(image, max_pixels=args.max_pixels, max_bytes=args.max_bytes)
    if mask_path is None:
        from restorer.cli_detect import detected_mask, report_empty

        mask = detected_mask(args, photo.pixels, label)
        report_empty(mask, image.name, args.quiet)
    else:
        mask = load_mask(mask_path, (photo.height, photo.width), max_pixels=args.max_pixels, max_bytes=args.max_bytes)
    bar = ProgressLine(label, enabled=not args.quiet and not getattr(args, "batch_bar", False))
    started, when = time.monotonic(), provenance.utc_now()
    options = engine_options(args, mask.shape)
    # A project needs the photo before the fill; otherwise fill in place when the decoder gave a
    # writable array (tifffile, OpenCV do; Pillow's views don't): a 100 MP 16-bit scan would need 600 MB more.
    inplace = photo.pixels.flags.writeable and not project
    try:
        filled, result = engine.inpaint(photo.pixels, mask, args.model, options, on_progress=bar, inplace=inplace)
    finally:
        bar.close()
    out_photo = photo.with_pixels(filled)
    xmp_note, out_notes = cli_outputs.save_output(
        out_photo, output, args, source_format=photo.meta.format,
        parameters=f"filled {int(mask.sum())} pixels with {args.model}", when=when)
    # What loading changed (pages or frames dropped, CMYK turned RGB, a profile dropped) and what the
    # output's format could not carry are part of what the output is: said once the output exists,
    # one line each, and kept in the record.
    load_notes = [f"{image.name}: {n}" for n in photo.meta.extra.get("notes", [])]
    notes = [*load_notes, *result.notes, *out_notes]
    for note in notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    record = edit_record(source=image, output=output, mask=mask, model=args.model, device=result.device,
                         seconds=time.monotonic() - started, notes=notes)
    if sidecar:
        step = provenance.fill_step(model=args.model, weights_sha256=getattr(args, "weights_sha256", None),
                                    mask=mask, device=result.device, time=when,
                                    mask_file=None if mask_path is None else str(mask_path.absolute()),
                                    detected=mask_path is None)
        record["sidecar"] = str(cli_outputs.write_sidecar(
            output, args, source=image, source_sha256=record["source_sha256"], output_sha256=record["output_sha256"],
            steps=[step], xmp_note=xmp_note, notes=record["notes"], source_extra=photo.meta.extra))
    if project:
        from restorer.cli_project import write_fill_project

        record["project"] = str(write_fill_project(Path(project), args, photo, mask, options, result, when))
    return record
