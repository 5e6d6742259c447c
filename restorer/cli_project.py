"""restorer-cli render PROJECT -o OUT: replay a project's fills from its original; and inpaint --project."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restorer.errors import ModelUnavailable, RestorerError


def add_parser(sub: Any) -> None:
    from restorer.core.image import DEFAULT_MAX_PIXELS

    p = sub.add_parser("render", help="replay a .restorer project's fills from its original into a new photo")
    p.add_argument("project", help="the project (.restorer) saved by the app or by inpaint --project")
    p.add_argument("--output", "-o", required=True, help="where to write the result (format from the suffix)")
    p.add_argument("--model", help="re-run every fill with this model instead of the one each fill recorded")
    p.add_argument("--device", default=None, choices=("auto", "cpu", "cuda", "mps"),
                   help="where learned models run (default: where each fill asked to run)")
    p.add_argument("--original", metavar="PHOTO",
                   help="the original photo's new place, if it moved (it must have the recorded sha256)")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")
    p.add_argument("--jpeg-reencode", action="store_true",
                   help="JPEG to JPEG: re-encode the whole photo instead of keeping the blocks no fill touched")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help=argparse.SUPPRESS)
    p.add_argument("--overwrite", action="store_true", help="allow replacing an existing output file")
    p.add_argument("--allow-8bit", action="store_true", help="allow saving a 16-bit photo to an 8-bit format")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--no-sidecar", action="store_true",
                   help="write no OUTPUT.restorer.json provenance sidecar and no XMP history entry")
    p.set_defaults(func=cmd_render)


def check_project_output(path: Path, inputs: Sequence[Path], overwrite: bool) -> None:
    """Before any work: a project name that is new (or --overwrite), never one of the inputs or outputs."""
    from restorer.cli_common import same_file as _same_file
    from restorer.core.project import SUFFIX

    if path.suffix.lower() != SUFFIX:
        raise RestorerError(f"{path}: a project's name must end in {SUFFIX}")
    if any(_same_file(path, p) or path.absolute() == p.absolute() for p in inputs):
        raise RestorerError(f"{path}: is one of this command's photos; choose another name for the project")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise RestorerError(f"{path}: folder {folder} does not exist")
    if path.is_dir() or (path.exists() and not overwrite):
        raise RestorerError(f"{path}: already exists; pass --overwrite to replace it")


def write_fill_project(path: Path, args: argparse.Namespace, photo: Any, mask: Any, options: Any,
                       result: Any, when: str) -> Path:
    """A project of one fill: the photo as loaded with ``mask`` (state 0) and the fill as its one step."""
    from restorer.core import provenance
    from restorer.core.document import Document
    from restorer.core.project import snapshot, write_project
    from restorer.inference.replay import fill_meta

    doc = Document(photo)
    doc.mask[...] = mask  # the mask the photo came with: state 0, so undoing the fill shows it
    meta = fill_meta(args.model, options, weights_sha256=getattr(args, "weights_sha256", None), device=result.device,
                     mask_sha256=provenance.mask_sha256(mask), mask_pixels=int(mask.sum()), time=when,
                     notes=result.notes)
    doc.apply_fill(result.patches, f"Fill ({args.model})", meta=meta)
    return write_project(snapshot(doc), path, replace=args.overwrite,
                         embed_original=bool(getattr(args, "embed_original", False)))


def _check_models(data: Any, override: str | None) -> tuple[dict[str, str | None], list[str]]:
    """Every model the render will run must be ready: name -> weights sha256, and notes of weights that changed."""
    from restorer.models import registry

    wanted: dict[str, str | None] = {}  # model -> the weights sha256 a recorded fill ran with
    for k, edit in enumerate(data.steps[: data.position], start=1):
        if edit.kind != "fill":
            continue
        name = override or edit.meta.get("model")
        if not name:
            raise RestorerError(f"{data.path}: step {k} ({edit.label}) records no model; pass --model NAME")
        wanted.setdefault(str(name), None if override else edit.meta.get("weights_sha256"))
    ready: dict[str, str | None] = {}
    notes = []
    for name, recorded in wanted.items():
        state = registry.check(registry.get_spec(name))
        if not state.ready:
            raise ModelUnavailable(f"model {name!r} is unavailable: {state.reason}")
        ready[name] = state.sha256
        if recorded and state.sha256 and recorded != state.sha256:
            notes.append(f"{name}'s weights differ from the ones the project's fills ran with "
                         f"(sha256 {state.sha256[:12]}…, recorded {recorded[:12]}…): the output will differ")
    return ready, notes


def cmd_render(args: argparse.Namespace) -> int:
    from restorer import cli_common, cli_outputs
    from restorer.errors import EXIT_OK
    from restorer.core import provenance
    from restorer.core.project import load_original, read_project
    from restorer.inference.replay import replay

    project, output = Path(args.project), Path(args.output)
    data = read_project(project)
    original = data.original.path
    cli_common.check_output(output, [project, *([original] if original else [])], args.overwrite)
    cli_outputs.check_sidecar(output, args)
    weights, notes = _check_models(data, args.model)
    photo = load_original(data, None if args.original is None else (lambda info, problem: args.original))
    pixels = photo.pixels if photo.pixels.flags.writeable else photo.pixels.copy()
    started, when = time.monotonic(), provenance.utc_now()
    bar = cli_common.ProgressLine(f"{project.name}", enabled=not args.quiet)
    try:
        pixels, fills = replay(data, pixels, model=args.model, device=args.device,
                               on_progress=lambda k, p: bar(p))
    finally:
        bar.close()
    out_photo = photo.with_pixels(pixels)
    what = f"replayed {len(fills)} fills of {project.name}" + (f" with {args.model}" if args.model else "")
    xmp_note, out_notes = cli_outputs.save_output(out_photo, output, args, source_format=photo.meta.format,
                                                  parameters=what, when=when)
    notes += [n for fill in fills for n in fill.notes]
    if data.base_photo is not None:
        notes.append("the project's first state is not its original file (early steps were let go of, "
                     "or the original was replaced): the fills were replayed from that state")
    notes += out_notes
    for note in notes:
        print(f"{cli_common.PROG}: note: {note}", file=sys.stderr)
    if cli_outputs.wants_sidecar(args):
        steps = [provenance.fill_step(model=f.model, weights_sha256=weights.get(f.model), mask=f.mask,
                                      device=f.device, time=when, label=f.label, project_step=f.step,
                                      recorded_model=f.recorded_model) for f in fills]
        source = None if photo.path is None else Path(photo.path)
        cli_outputs.write_sidecar(output, args, source=source,
                                  source_sha256=data.original.sha256 if source else None,
                                  output_sha256=provenance.file_sha256(output), steps=steps, xmp_note=xmp_note,
                                  notes=[f"rendered from the project {project.absolute()}", *notes],
                                  source_extra=photo.meta.extra)
    if not args.quiet:
        print(f"wrote {output} ({what} in {time.monotonic() - started:.1f} s)")
    return EXIT_OK
