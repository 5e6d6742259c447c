"""Provenance of an output: the sidecar OUTPUT.restorer.json and the XMP history event a save adds.

The sidecar says which software made the output from which source (path, sha256), the output's
own sha256, and for each step its kind, model, the model's weights sha256, the mask's sha256,
device and time. It is written atomically after the output and never replaces an existing
sidecar unless asked to. Times are UTC ISO 8601; ``SOURCE_DATE_EPOCH`` (the reproducible-builds
convention) pins them, so two runs can give byte-identical outputs.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restorer.checksums import file_sha256
from restorer.core import atomic, xmp
from restorer.errors import RestorerError

SIDECAR_SUFFIX = ".restorer.json"
SIDECAR_VERSION = 1
# Formats whose files carry an XMP packet in the writers of core.codecs / core.tiffcodec.
XMP_FORMATS = frozenset({"PNG", "TIFF", "JPEG", "WEBP"})
_XMP_KEYWORD = b"XML:com.adobe.xmp\0"


class SidecarError(RestorerError):
    """A sidecar cannot be written (it exists, or the folder refuses it)."""


def software_version() -> str:
    """The installed package's version (package metadata), else the source tree's."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("restorer")
    except (ImportError, PackageNotFoundError):
        from restorer import __version__

        return __version__


def software_agent() -> str:
    return f"Restorer {software_version()}"


def utc_now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
    else:
        moment = _dt.datetime.now(_dt.UTC)
    return moment.isoformat(timespec="seconds")


def mask_sha256(mask: np.ndarray) -> str:
    """sha256 of the mask as one byte per pixel (1 = hole, 0 = kept), row by row: any mask file
    that loads to the same mask gives the same hash."""
    h = hashlib.sha256()
    flat = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
    for row in range(0, flat.shape[0], 1024):  # rows in blocks: no second full-size copy
        h.update(flat[row : row + 1024].tobytes())
    return h.hexdigest()


def fill_step(*, model: str, weights_sha256: str | None, mask: np.ndarray | None = None,
              mask_digest: str | None = None, mask_pixels: int | None = None, device: str,
              time: str | None = None, **extra: Any) -> dict[str, Any]:
    """One fill step as the sidecar lists it."""
    if mask is not None:
        mask_digest = mask_sha256(mask)
        mask_pixels = int(np.count_nonzero(mask))
    step = {"kind": "fill", "model": model, "weights_sha256": weights_sha256, "mask_sha256": mask_digest,
            "mask_pixels": mask_pixels, "device": device, "time": time or utc_now()}
    step.update(extra)
    return step


def history_steps(edits: Sequence[Any]) -> list[dict[str, Any]]:
    """The fills among a document's applied history edits (``core.history.Edit``), as sidecar steps."""
    steps = []
    for edit in edits:
        if edit.kind != "fill":
            continue
        meta = edit.meta
        steps.append(fill_step(model=str(meta.get("model", "")), weights_sha256=meta.get("weights_sha256"),
                               mask_digest=meta.get("mask_sha256"), mask_pixels=meta.get("mask_pixels"),
                               device=str(meta.get("device", "")), time=meta.get("time"), label=edit.label,
                               notes=list(meta.get("notes", []))))
    return steps


def sidecar_path(output: Path) -> Path:
    return output.with_name(output.name + SIDECAR_SUFFIX)


# Blocks a target format cannot hold that the sidecar carries instead (PhotoMeta.extra key -> field).
CARRIED = {"iptc": "iptc_iim", "photoshop": "photoshop_resources"}
CARRIED_BY = {"iptc": frozenset({"JPEG", "TIFF"}), "photoshop": frozenset({"JPEG", "TIFF"})}


def carried(extra: dict[str, Any], target_format: str) -> tuple[dict[str, str], list[str]]:
    """The source's blocks that ``target_format`` leaves out, base64 for the sidecar, and a note saying so."""
    out = {CARRIED[k]: base64.b64encode(extra[k]).decode("ascii")
           for k in CARRIED if extra.get(k) and target_format not in CARRIED_BY[k]}
    if not out:
        return {}, []
    return out, [f"{' and '.join(sorted(out))} kept in the sidecar (base64), as {target_format} files cannot hold them"]


def sidecar(*, source: Path | None, source_sha256: str | None, output: Path, output_sha256: str,
            output_format: str, steps: Sequence[dict[str, Any]], xmp_history: bool,
            notes: Sequence[str] = (), carried: dict[str, str] | None = None) -> dict[str, Any]:
    extra = {"carried": carried} if carried else {}
    return {
        "restorer_sidecar": SIDECAR_VERSION,
        "software": "Restorer",
        "version": software_version(),
        "written": utc_now(),
        "source": {"path": None if source is None else str(Path(source).absolute()), "sha256": source_sha256},
        "output": {"path": str(Path(output).absolute()), "sha256": output_sha256, "format": output_format},
        "steps": list(steps),
        "xmp_history": xmp_history,
        "notes": list(notes),
        **extra,
    }


def check_sidecar(output: Path, *, replace: bool) -> None:
    """Refuse, before any work, a sidecar that exists unless ``replace`` (the CLI's --overwrite)."""
    path = sidecar_path(output)
    if path.is_dir() or (path.exists() and not replace):
        raise SidecarError(f"{path}: sidecar already exists; pass --overwrite to replace it (or --no-sidecar)")


def write_sidecar(output: Path, record: dict[str, Any], *, replace: bool) -> Path:
    """Write ``record`` as OUTPUT.restorer.json atomically; an existing one only with ``replace``."""
    path = sidecar_path(output)
    data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
    try:
        atomic.atomic_write(path, lambda tmp: tmp.write_bytes(data), replace=replace)
    except RestorerError as exc:
        if not replace and path.exists():
            raise SidecarError(f"{path}: sidecar already exists; pass --overwrite to replace it") from None
        raise SidecarError(str(exc)) from None
    return path


@dataclass(frozen=True)
class SaveProvenance:
    """What the sidecar of the app's save says besides the files' hashes (gathered on the GUI thread)."""

    steps: list[dict[str, Any]]
    dropped: int  # early steps the undo history let go of (its memory cap)
    replace: bool  # the user chose to replace the output (or it is the document's own earlier save)


def save_with_provenance(photo: Any, path: Path, prov: SaveProvenance, **save: Any) -> list[str]:
    """``core.jpegmaster.save`` (``core.image.save_photo``, JPEG masters kept) with an XMP history
    entry, then the sidecar; notes of what was left out and of how much of a JPEG master was re-encoded.

    The photo is saved even when its sidecar cannot be (the note says why); the photo's own
    metadata are not changed (the entry goes into a copy).
    """
    from restorer.core import image, jpegmaster

    meta = dataclasses.replace(photo.meta, extra=dict(photo.meta.extra))
    out = image.Photo(photo.pixels, photo.alpha, meta, photo.path)  # the same pixels, no copy
    fmt = image.save_format(path)
    note = add_xmp_history(meta.extra, source_format=photo.meta.format, target_format=fmt)
    notes = [note] if note else []
    saved, master = jpegmaster.save(out, path, **save)
    notes.extend(saved)
    if prov.dropped:
        notes.append(f"{prov.dropped} early steps left the undo history (memory cap) and are not listed")
    blocks, carried_notes = carried(photo.meta.extra, fmt)
    try:
        source = Path(photo.path) if photo.path else None
        record = sidecar(
            source=source, source_sha256=file_sha256(source) if source and source.is_file() else None,
            output=path, output_sha256=file_sha256(path), output_format=fmt, steps=prov.steps,
            xmp_history=fmt in XMP_FORMATS and note is None, notes=[*notes, *carried_notes], carried=blocks)
        if master is not None:
            record["jpeg_master"] = master.record()
        write_sidecar(path, record, replace=prov.replace)
        notes.extend(carried_notes)
    except (RestorerError, OSError) as exc:
        notes.append(f"no provenance sidecar: {exc}")
    return notes


# --- the XMP history event -------------------------------------------------------------------


def add_xmp_history(extra: dict[str, Any], *, source_format: str, target_format: str,
                    parameters: str | None = None, when: str | None = None) -> str | None:
    """Put an xmpMM:History event into a photo's metadata (``PhotoMeta.extra``) before it is saved.

    Returns None when the event was added, or a note saying why not (format without XMP, a
    source packet that cannot be read: then it is kept exactly as it was).
    """
    if target_format not in XMP_FORMATS:
        return None if target_format == "" else f"{target_format} files carry no XMP; the history is in the sidecar only"
    packet = extra.get("xmp")
    chunks = list(extra.get("png_chunks", []))
    if packet is None:
        found = [data for kind, data in chunks if kind == b"iTXt" and data.startswith(_XMP_KEYWORD)]
        packet = next((p for p in map(_png_xmp, found) if p), None)
        if found and packet is None:
            return "the source's XMP packet could not be read; it is kept unchanged, without a history entry"
    action = "modified" if source_format in ("", target_format) else "converted"
    event = xmp.history_event(action, software_agent(), when or utc_now())
    if parameters:
        event["parameters"] = parameters
    new = xmp.add_history(packet, event)
    if new is None:
        return "the source's XMP packet could not be read; it is kept unchanged, without a history entry"
    extra["xmp"] = new
    if "png_chunks" in extra:  # PNG to PNG writes the copied chunks, so the packet goes among them
        kept = [(k, d) for k, d in chunks if not (k == b"iTXt" and d.startswith(_XMP_KEYWORD))]
        from restorer.core.pngchunks import XMP_ITXT

        extra["png_chunks"] = [*kept, (b"iTXt", XMP_ITXT + new)]
    return None


def _png_xmp(data: bytes) -> bytes | None:
    """The XMP packet of an iTXt chunk, compressed or not (the reader keeps only uncompressed ones)."""
    if not data.startswith(_XMP_KEYWORD) or len(data) < len(_XMP_KEYWORD) + 2:
        return None
    rest = data[len(_XMP_KEYWORD):]
    compressed = rest[0] == 1
    parts = rest[2:].split(b"\0", 2)  # language, translated keyword, text
    if len(parts) < 3:
        return None
    text = parts[2]
    if not compressed:
        return text
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(text, 16 << 20)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out
