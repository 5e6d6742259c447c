"""Writing a CLI output: the photo (atomic; an existing file only with --overwrite), its XMP history
entry and its provenance sidecar OUTPUT.restorer.json. One path for inpaint, batch and render."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from restorer.core import provenance


def wants_sidecar(args: argparse.Namespace) -> bool:
    return not getattr(args, "no_sidecar", True)


def check_sidecar(output: Path, args: argparse.Namespace) -> None:
    """Before any work: refuse an existing sidecar without --overwrite (when a sidecar is wanted)."""
    if wants_sidecar(args):
        provenance.check_sidecar(output, replace=args.overwrite)


def save_output(out_photo: Any, output: Path, args: argparse.Namespace, *, source_format: str,
                parameters: str, when: str) -> tuple[str | None, list[str]]:
    """Save ``out_photo`` (a core.image.Photo) to ``output`` with an XMP history event when a sidecar
    is wanted; returns (the note of why no event could be added, if one could not; the output's notes,
    each naming the output: what its format could not carry, and that XMP note)."""
    from restorer.core import jpegmaster
    from restorer.core.image import DEFAULT_PNG_LEVEL, save_format

    xmp_note = None
    if wants_sidecar(args):
        xmp_note = provenance.add_xmp_history(out_photo.meta.extra, source_format=source_format,
                                              target_format=save_format(output), parameters=parameters, when=when)
    # replace only with --overwrite, checked again at the rename: a file that appeared meanwhile stays.
    # JPEG to JPEG keeps the source's DCT blocks the fill did not touch unless --jpeg-reencode.
    save_notes, _ = jpegmaster.save(out_photo, output, reencode=getattr(args, "jpeg_reencode", False),
                                    quality=args.quality, png_level=getattr(args, "png_level", DEFAULT_PNG_LEVEL),
                                    allow_8bit=args.allow_8bit, replace=args.overwrite)
    notes = [f"{output.name}: {n}" for n in (*save_notes, *([xmp_note] if xmp_note else []))]
    return xmp_note, notes


def write_sidecar(output: Path, args: argparse.Namespace, *, source: Path | None, source_sha256: str | None,
                  output_sha256: str, steps: Sequence[dict[str, Any]], xmp_note: str | None,
                  notes: list[str], source_extra: dict[str, Any] | None = None) -> Path:
    """The sidecar; metadata blocks of the source (``source_extra``) that the output's format cannot
    hold are carried in it, and a note saying so is appended to ``notes`` (and printed)."""
    from restorer.cli_common import PROG
    from restorer.core.image import save_format

    fmt = save_format(output)
    blocks, carried_notes = provenance.carried(source_extra or {}, fmt)
    for note in carried_notes:
        notes.append(f"{output.name}: {note}")
        print(f"{PROG}: note: {output.name}: {note}", file=sys.stderr)
    side = provenance.sidecar(source=source, source_sha256=source_sha256, output=output, output_sha256=output_sha256,
                              output_format=fmt, steps=steps,
                              xmp_history=xmp_note is None and fmt in provenance.XMP_FORMATS, notes=notes,
                              carried=blocks)
    return provenance.write_sidecar(output, side, replace=args.overwrite)
