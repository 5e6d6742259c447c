"""IPTC-IIM and Photoshop image resources kept as the opaque blocks they are, between JPEG and TIFF.

Where they live: a JPEG holds a Photoshop image resource block (IRB: ``8BIM`` resources) in APP13
segments headed ``Photoshop 3.0\\0``; its resource 0x0404 is the IPTC-IIM record (caption,
keywords, credit, rights). A TIFF holds the IIM record itself in tag 33723 (IPTC-NAA) and the IRB
in tag 34377. ``PhotoMeta.extra`` keeps both: ``iptc`` (the IIM bytes) and ``photoshop`` (the
IRB, when the source had one). Nothing inside is decoded or re-encoded, so every dataset,
character set and private resource survives; only resource 0x0404 is located, to move the IIM
record between the two containers. Formats with no place for them (PNG, WebP, BMP) leave them
out with a note, and the provenance sidecar carries them (``core.provenance``).
"""

from __future__ import annotations

import struct

APP13_HEADER = b"Photoshop 3.0\0"
IPTC_RESOURCE = 0x0404
TIFF_IPTC, TIFF_PHOTOSHOP = 33723, 34377
# A JPEG marker segment holds 65535 bytes, 2 of them its length.
_SEGMENT = 65533 - len(APP13_HEADER)


def from_app13(segments: list[bytes]) -> bytes | None:
    """The IRB of a JPEG's APP13 segments (payloads after the marker and length), in file order."""
    parts = [s[len(APP13_HEADER) :] for s in segments if s.startswith(APP13_HEADER)]
    return b"".join(parts) or None


def resources(irb: bytes) -> list[tuple[int, bytes, bytes]]:
    """``(id, name as stored, data)`` of each 8BIM resource; stops quietly at damage."""
    out, pos = [], 0
    while pos + 12 <= len(irb) and irb[pos : pos + 4] == b"8BIM":
        (rid,) = struct.unpack(">H", irb[pos + 4 : pos + 6])
        name_len = irb[pos + 6]
        name_end = pos + 6 + ((name_len + 2) & ~1)  # a Pascal string padded to an even length
        if name_end + 4 > len(irb):
            break
        (size,) = struct.unpack(">I", irb[name_end : name_end + 4])
        data_end = name_end + 4 + size
        if data_end > len(irb):
            break
        out.append((rid, irb[pos + 6 : name_end], irb[name_end + 4 : data_end]))
        pos = data_end + (size & 1)
    return out


def iim_of(irb: bytes | None) -> bytes | None:
    """The IPTC-IIM record in an IRB (resource 0x0404), or None."""
    for rid, _, data in resources(irb or b""):
        if rid == IPTC_RESOURCE and data:
            return data
    return None


def _resource(rid: int, name: bytes, data: bytes) -> bytes:
    pad = b"\0" if len(data) & 1 else b""
    return b"8BIM" + struct.pack(">H", rid) + name + struct.pack(">I", len(data)) + data + pad


def irb_with(irb: bytes | None, iim: bytes | None) -> bytes | None:
    """The IRB to write: the source's own, with its IPTC resource set to ``iim`` (added if missing)."""
    if irb is None:
        return None if iim is None else _resource(IPTC_RESOURCE, b"\0\0", iim)
    if iim is None or iim_of(irb) == iim:
        return irb
    kept = [(rid, name, data) for rid, name, data in resources(irb) if rid != IPTC_RESOURCE]
    return b"".join(_resource(*r) for r in [*kept, (IPTC_RESOURCE, b"\0\0", iim)])


def app13_segments(irb: bytes) -> bytes:
    """The IRB as APP13 segments (split where one segment is full, as Photoshop does)."""
    out = []
    for i in range(0, len(irb), _SEGMENT):
        payload = APP13_HEADER + irb[i : i + _SEGMENT]
        out.append(b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload)
    return b"".join(out)


def insert_segments(jpeg: bytes, segments: bytes) -> bytes:
    """``jpeg`` with ``segments`` after its leading APPn segments (JFIF, EXIF, XMP, ICC), before the tables."""
    pos = app_segments_end(jpeg)
    return jpeg[:pos] + segments + jpeg[pos:]


def app_segments_end(jpeg: bytes) -> int:
    """Where the APPn segments right after a JPEG's SOI end (the tables or a COM segment begin there)."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("the JPEG encoder did not produce a JPEG")
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and 0xE0 <= jpeg[pos + 1] <= 0xEF:
        (length,) = struct.unpack(">H", jpeg[pos + 2 : pos + 4])
        pos += 2 + length
    return pos


def tiff_value(value: object, datatype: int, byteorder: str) -> bytes | None:
    """A TIFF tag's value as bytes: tag 33723 is often typed LONG (4), and tifffile then gives integers."""
    if isinstance(value, bytes):
        return value or None
    try:
        numbers = [int(v) for v in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    fmt = {3: "H", 4: "I", 8: "h", 9: "i"}.get(int(datatype), "B")
    try:
        return struct.pack(f"{byteorder}{len(numbers)}{fmt}", *numbers) or None
    except struct.error:
        return None
