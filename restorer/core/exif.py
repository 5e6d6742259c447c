"""EXIF blocks as bytes: the orientation tag (read, reset in place) and ICC colour-space checks."""

from __future__ import annotations

import struct

import numpy as np

PREFIX = b"Exif\x00\x00"
ORIENTATION = 0x0112
_SHORT = 3


def normalize(data: bytes | None) -> bytes | None:
    """EXIF in the canonical form PhotoMeta keeps: the JPEG APP1 payload, "Exif\\0\\0" + TIFF structure."""
    if not data:
        return None
    data = bytes(data)
    while data.startswith(PREFIX + PREFIX):  # some writers double the prefix
        data = data[len(PREFIX) :]
    if not data.startswith(PREFIX):
        data = PREFIX + data
    return data if len(data) > len(PREFIX) + 8 else None


def strip_prefix(data: bytes) -> bytes:
    """The bare TIFF structure, as PNG eXIf and WebP EXIF chunks hold it."""
    return data[len(PREFIX) :] if data.startswith(PREFIX) else data


def _orientation_entry(tiff: bytes) -> tuple[str, int] | None:
    """(byte order, offset of the orientation value) in IFD0, or None if absent or malformed."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack(order + "H", tiff[ifd : ifd + 2])
    for i in range(count):
        at = ifd + 2 + 12 * i
        if at + 12 > len(tiff):
            return None
        tag, kind, n = struct.unpack(order + "HHI", tiff[at : at + 8])
        if tag == ORIENTATION:
            return (order, at + 8) if kind == _SHORT and n == 1 else None
    return None


def orientation(exif: bytes | None) -> int:
    """The EXIF orientation (1..8); 1 when absent or invalid."""
    if not exif:
        return 1
    tiff = strip_prefix(exif)
    entry = _orientation_entry(tiff)
    if entry is None:
        return 1
    order, at = entry
    (value,) = struct.unpack(order + "H", tiff[at : at + 2])
    return value if 1 <= value <= 8 else 1


def with_orientation(exif: bytes, value: int = 1) -> bytes:
    """The same EXIF bytes with the orientation value overwritten in place.

    Patching the one value (instead of re-serialising) keeps maker notes and every offset intact.
    """
    tiff = strip_prefix(exif)
    entry = _orientation_entry(tiff)
    if entry is None:
        return exif
    order, at = entry
    head = len(exif) - len(tiff)
    return exif[: head + at] + struct.pack(order + "H", value) + exif[head + at + 2 :]


def apply_orientation(a: np.ndarray, value: int) -> np.ndarray:
    """Turn an H x W [x C] array so it displays upright for EXIF orientation `value` (a view)."""
    if value == 2:
        return a[:, ::-1]
    if value == 3:
        return a[::-1, ::-1]
    if value == 4:
        return a[::-1]
    if value == 5:
        return a.swapaxes(0, 1)
    if value == 6:
        return np.rot90(a, -1)
    if value == 7:
        return a[::-1, ::-1].swapaxes(0, 1)
    if value == 8:
        return np.rot90(a, 1)
    return a


def icc_colour_space(icc: bytes | None) -> str | None:
    """The profile's data colour space from its header ('RGB', 'GRAY', 'CMYK', ...)."""
    if not icc or len(icc) < 20:
        return None
    return icc[16:20].decode("latin-1").strip()


def icc_fits(icc: bytes | None, channels: int) -> bool:
    """Whether an ICC profile describes pixels with this many colour channels."""
    space = icc_colour_space(icc)
    return space == ("GRAY" if channels == 1 else "RGB")
