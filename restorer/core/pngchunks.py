"""PNG at the chunk level: the metadata the codecs drop (ICC, DPI, EXIF, text, colour) and 16-bit gray+alpha."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from restorer.core.libcalls import MAX_INFLATED, MAX_TEXT_TOTAL

SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Chunks copied verbatim from source to output: colour interpretation and text. Time (tIME)
# is left out on purpose: the output is a new file.
COPIED = (b"sRGB", b"gAMA", b"cHRM", b"cICP", b"tEXt", b"zTXt", b"iTXt")
# Chunks this module writes itself, so any the encoder emits are replaced.
MANAGED = COPIED + (b"iCCP", b"pHYs", b"eXIf")

_METERS_PER_INCH = 0.0254
# iTXt header of an XMP packet: keyword, uncompressed, no language, no translated keyword.
XMP_ITXT = b"XML:com.adobe.xmp\0\0\0\0\0"


class PngFormatError(ValueError):
    """The bytes are not a well-formed PNG (truncated, wrong signature, bad header); the message is plain words."""


TRUNCATED = "not a valid PNG file (it is truncated: an incomplete download or copy?)"
BOMB = f"not a valid PNG file (a profile or text inside inflates past {MAX_INFLATED >> 20} MB: a decompression bomb?)"
_IEND = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def _overrun(read, size: int, kind: bytes) -> str:
    """Why a chunk claims more bytes than the file has: a damaged header or length, or a cut-off file."""
    if kind == b"IHDR":
        return "not a valid PNG file (bad header)"
    if not kind.isalpha():
        return "not a valid PNG file (its chunk structure is damaged)"
    if size >= 12 and read(size - 12, 12) == _IEND:  # the file is whole: the length field lies
        return f"not a valid PNG file (chunk {kind.decode('latin-1')!r} has a wrong length)"
    return TRUNCATED


@dataclass
class PngInfo:
    """What the header and metadata chunks of one PNG say."""

    width: int
    height: int
    bit_depth: int
    color_type: int  # 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    icc_profile: bytes | None = None
    icc_name: str = "ICC Profile"
    dpi: tuple[float, float] | None = None
    exif: bytes | None = None  # raw TIFF structure, without the "Exif\0\0" prefix
    transparency: bytes | None = None  # tRNS: the colour key of gray/RGB images, or palette alphas
    xmp: bytes | None = None  # the XMP packet of an uncompressed "XML:com.adobe.xmp" iTXt chunk
    chunks: list[tuple[bytes, bytes]] = field(default_factory=list)  # COPIED chunks, in order


def make_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _iter_chunks(read, size: int):
    """Yield (type, data-or-None, crc_ok, offset); IDAT data are skipped (None) to keep reads small."""
    pos = len(SIGNATURE)
    while pos < size:
        if pos + 8 > size:
            raise PngFormatError(TRUNCATED)
        length, kind = struct.unpack(">I4s", read(pos, 8))
        end = pos + 12 + length
        if end > size:
            raise PngFormatError(_overrun(read, size, kind))
        if kind == b"IDAT":
            yield kind, None, True, pos
        else:
            body = read(pos + 4, length + 8)
            data, crc = body[4:-4], struct.unpack(">I", body[-4:])[0]
            yield kind, data, zlib.crc32(body[:-4]) == crc, pos
        if kind == b"IEND":
            return
        pos = end


def read_info(path: Path) -> PngInfo:
    """Parse header and metadata chunks of a PNG file (pixel data are not read)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)

        def read(offset: int, n: int) -> bytes:
            f.seek(offset)
            return f.read(n)

        if read(0, 8) != SIGNATURE:
            raise PngFormatError("not a valid PNG file (wrong signature)")
        info: PngInfo | None = None
        seen_idat = seen_iend = False
        text_total = 0
        for kind, data, crc_ok, _ in _iter_chunks(read, size):
            seen_iend = kind == b"IEND"
            if info is None:
                if kind != b"IHDR" or data is None or len(data) != 13 or not crc_ok:
                    raise PngFormatError("not a valid PNG file (bad header)")
                w, h, depth, ctype = struct.unpack(">IIBB", data[:10])
                info = PngInfo(w, h, depth, ctype)
                continue
            if kind == b"IDAT":
                seen_idat = True
            elif not crc_ok:
                continue  # a damaged ancillary chunk is skipped, as libpng does
            elif kind == b"iCCP":
                _read_iccp(info, data)
            elif kind == b"pHYs" and len(data) == 9:
                px, py, unit = struct.unpack(">IIB", data)
                if unit == 1 and px and py:
                    info.dpi = (round(px * _METERS_PER_INCH, 2), round(py * _METERS_PER_INCH, 2))
            elif kind == b"eXIf":
                info.exif = data
            elif kind == b"tRNS":
                info.transparency = data
            elif kind in COPIED:
                text_total += _text_size(kind, data)
                if text_total > MAX_TEXT_TOTAL:
                    raise PngFormatError(BOMB)
                info.chunks.append((kind, data))
                if kind == b"iTXt" and data.startswith(XMP_ITXT):
                    info.xmp = data[len(XMP_ITXT) :]
        if info is None:
            raise PngFormatError("not a valid PNG file (no header)")
        if not seen_idat or not seen_iend:
            raise PngFormatError(f"not a valid PNG file (it is truncated: no {'image data' if not seen_idat else 'end marker'})")
        return info


def verify(png: bytes | memoryview) -> None:
    """Check every chunk's checksum in a whole PNG held in memory.

    OpenCV's PNG reader prints libpng's complaints to stderr before failing; checking first
    keeps a damaged file to one clear message.
    """
    view = memoryview(png)
    pos = len(SIGNATURE)
    while pos + 12 <= len(view):
        length = struct.unpack(">I", view[pos : pos + 4])[0]
        end = pos + 12 + length
        if end > len(view):
            raise PngFormatError(TRUNCATED)
        if zlib.crc32(view[pos + 4 : end - 4]) != struct.unpack(">I", view[end - 4 : end])[0]:
            kind = bytes(view[pos + 4 : pos + 8]).decode("latin-1")
            raise PngFormatError(f"not a valid PNG file (its image data are damaged: chunk {kind!r} fails its checksum)")
        pos = end


def _text_size(kind: bytes, data: bytes) -> int:
    """The inflated size of a text chunk (what a reader holds); PngFormatError past MAX_INFLATED.

    The same bound for every depth: 8-bit PNGs are decoded by Pillow, which refuses such a chunk,
    and 16-bit ones must not pass them on into a PNG no reader opens.
    """
    rest = data.partition(b"\0")[2]  # after the keyword
    if kind == b"zTXt":
        body = rest[1:]  # after the compression method
    elif kind == b"iTXt" and len(rest) > 1 and rest[0] == 1:  # compressed iTXt
        body = rest[2:].partition(b"\0")[2].partition(b"\0")[2]  # after language and translated keyword
    else:
        return len(data)
    inflater = zlib.decompressobj()
    try:
        size = len(inflater.decompress(body, MAX_INFLATED))
    except zlib.error:
        return len(data)  # a damaged text chunk: its reader skips it
    if inflater.unconsumed_tail:
        raise PngFormatError(BOMB)
    return size


def _read_iccp(info: PngInfo, data: bytes) -> None:
    name, _, rest = data.partition(b"\0")
    if len(rest) < 1 or rest[0] != 0:
        return
    inflater = zlib.decompressobj()
    try:
        profile = inflater.decompress(rest[1:], MAX_INFLATED)
    except zlib.error:
        return
    if inflater.unconsumed_tail:
        raise PngFormatError(BOMB)
    info.icc_profile = profile
    info.icc_name = name.decode("latin-1") or "ICC Profile"


def metadata_chunks(
    *,
    icc_profile: bytes | None,
    icc_name: str = "ICC Profile",
    dpi: tuple[float, float] | None,
    exif: bytes | None,
    extra_chunks: Sequence[tuple[bytes, bytes]] = (),
) -> list[bytes]:
    """Encode metadata as PNG chunks, in an order valid before the image data."""
    out: list[bytes] = []
    has_icc = icc_profile is not None
    for kind, data in extra_chunks:
        # The PNG spec forbids sRGB next to iCCP; the profile wins.
        if kind in COPIED and not (has_icc and kind == b"sRGB"):
            out.append(make_chunk(kind, data))
    if icc_profile is not None:
        name = (icc_name.encode("latin-1", "replace")[:79] or b"ICC Profile").replace(b"\0", b" ")
        out.append(make_chunk(b"iCCP", name + b"\0\0" + zlib.compress(icc_profile)))
    if dpi is not None:
        px, py = (max(1, round(d / _METERS_PER_INCH)) for d in dpi)
        out.append(make_chunk(b"pHYs", struct.pack(">IIB", px, py, 1)))
    if exif:
        out.append(make_chunk(b"eXIf", exif))
    return out


def with_metadata(png: bytes | memoryview, chunks: list[bytes]) -> bytes:
    """Return the encoded PNG with its metadata chunks replaced by `chunks` (put after IHDR)."""
    if png[:8] != SIGNATURE:
        raise PngFormatError("encoder did not produce a PNG")
    view = memoryview(png)  # slices of a view are not copies; encoded photos can be large
    kept: list[memoryview] = []
    head = view[:0]
    for kind, _, _, pos in _iter_chunks(lambda o, n: png[o : o + n], len(png)):
        length = struct.unpack(">I", png[pos : pos + 4])[0]
        raw = view[pos : pos + 12 + length]
        if kind == b"IHDR":
            head = raw
        elif kind not in MANAGED:
            kept.append(raw)
    return b"".join([SIGNATURE, head, *chunks, *kept])


def encode_gray_alpha16(gray: np.ndarray, alpha: np.ndarray, level: int = 6) -> bytes:
    """Encode 16-bit gray + alpha (colour type 4), which neither OpenCV nor Pillow can write.

    Every row uses the "Up" filter (difference to the row above), which compresses photos
    well and is a single vectorised subtraction.
    """
    h, w = gray.shape
    raw = np.empty((h, w, 2), dtype=">u2")
    raw[:, :, 0] = gray
    raw[:, :, 1] = alpha
    rows = raw.view(np.uint8).reshape(h, w * 4)
    del raw
    filtered = np.empty((h, w * 4 + 1), dtype=np.uint8)
    filtered[:, 0] = 2
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # uint8 arithmetic wraps mod 256
    del rows
    data = zlib.compress(filtered.data, level)
    del filtered
    step = 1 << 30  # a chunk holds less than 2 GiB
    idat = [make_chunk(b"IDAT", data[i : i + step]) for i in range(0, max(len(data), 1), step)]
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0)
    return b"".join([SIGNATURE, make_chunk(b"IHDR", ihdr), *idat, make_chunk(b"IEND", b"")])
