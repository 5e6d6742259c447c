"""A seeded generator of malformed photo files: bit flips, truncation, header and chunk damage, bogus
tags, huge dimensions, odd modes and damaged or bomb-like metadata (ICC, EXIF, XMP, text, IPTC), for
PNG (8/16-bit), JPEG, TIFF (8/16-bit), WebP and BMP."""

from __future__ import annotations

import functools
import io
import random
import re
import struct
import zlib
from collections.abc import Callable

import numpy as np
import tifffile
from PIL import Image

H, W = 24, 32
FORMATS = ("png8", "png16", "jpeg", "tiff8", "tiff16", "webp", "bmp")
MUTATIONS = ("bitflip", "truncate", "header", "structure", "dimensions", "mode", "metadata")

# What the user must never see: library names and their messages, exception class names, programmer words.
JARGON = re.compile(
    r"libpng|libtiff|tifffile|TiffFile|PIL|Pillow|PngImagePlugin|MAX_TEXT|libdeflate|LIBDEFLATE|imagecodecs"
    r"|grfmt|cv2|OpenCV|\[ ?WARN|warning:|Traceback|DOS attack|decoder object|driver|unpack|buffer|"
    r"requested and|\(\w*(Error|error|Exception|Warning)\)|\b\w+Error\b|IFD|IHDR|tuple index|"
    r"\b\d+ \(\w+\)$"
)


def _pixels(dtype=np.uint8, channels: int = 3) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    top = np.iinfo(dtype).max
    chans = [((np.sin(xx / (3 + k)) * np.cos(yy / (4 + k)) * 0.45 + 0.5) * top) for k in range(channels)]
    return np.stack(chans, -1).round().astype(dtype)


def valid(fmt: str) -> bytes:
    """An intact H x W photo of ``fmt``."""
    buf = io.BytesIO()
    if fmt == "png16":
        import cv2

        ok, data = cv2.imencode(".png", _pixels(np.uint16))
        assert ok
        return data.tobytes()
    if fmt in ("tiff8", "tiff16"):
        dtype = np.uint8 if fmt == "tiff8" else np.uint16
        tifffile.imwrite(buf, _pixels(dtype), photometric="rgb", compression="lzw" if fmt == "tiff8" else "zlib",
                         rowsperstrip=8)
        return buf.getvalue()
    pil = {"png8": "PNG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP"}[fmt]
    Image.fromarray(_pixels()).save(buf, pil, **({"lossless": True} if pil == "WEBP" else {}))
    return buf.getvalue()


def _png_chunks(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(offset, type, payload) of each chunk."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        out.append((pos, data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]))
        pos += 12 + n
    return out


def _png_rechunk(data: bytes, kind: bytes, payload: bytes) -> bytes:
    """Replace the first ``kind`` chunk's payload, with a correct CRC (so only its meaning is wrong)."""
    for pos, k, old in _png_chunks(data):
        if k == kind:
            new = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
            return data[:pos] + new + data[pos + 12 + len(old) :]
    return data


def _tiff_entries(data: bytes) -> tuple[str, list[int]]:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    return order, [ifd + 2 + 12 * i for i in range(count)]


def _set_tiff_tag(data: bytearray, code: int, value: int) -> None:
    order, entries = _tiff_entries(bytes(data))
    for e in entries:
        tag, kind = struct.unpack(order + "HH", data[e : e + 4])
        if tag == code:
            struct.pack_into(order + ("H" if kind == 3 else "I"), data, e + 8, value & (0xFFFF if kind == 3 else 0xFFFFFFFF))
            return


def mutate(fmt: str, mutation: str, seed: int) -> bytes:
    """One malformed (or, by chance, still valid) file; the same (fmt, mutation, seed) gives the same bytes."""
    rng = random.Random(f"{fmt}:{mutation}:{seed}")
    data = bytearray(valid(fmt))
    n = len(data)
    if mutation == "bitflip":
        for _ in range(rng.choice((1, 2, 4, 16, 64))):
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
    elif mutation == "truncate":
        return bytes(data[: rng.choice((1, 2, 4, 8, 16, 33, 64, n // 3, n // 2, n - 12, n - 1, rng.randrange(n))) ])
    elif mutation == "header":
        for _ in range(rng.choice((1, 3, 8))):
            data[rng.randrange(min(n, 64))] = rng.randrange(256)
    elif mutation == "structure":
        _structure(fmt, data, rng)
    elif mutation == "dimensions":
        _dimensions(fmt, data, rng)
    elif mutation == "mode":
        _mode(fmt, data, rng)
    elif mutation == "metadata":
        return _metadata(fmt, bytes(data), rng)
    return bytes(data)


_BOGUS = (0, 1, 2, 3, 7, 255, 256, 65520, 65535, 2**31 - 1, 2**32 - 1)


def _structure(fmt: str, data: bytearray, rng: random.Random) -> None:
    if fmt.startswith("png"):
        chunks = _png_chunks(bytes(data))
        pos, _, payload = rng.choice(chunks)
        if rng.random() < 0.5:  # a lying length field
            struct.pack_into(">I", data, pos, rng.choice((0, 1, len(payload) + 1, 2**31 - 1, 2**32 - 1)))
        else:  # damaged payload with a correct CRC
            if payload:
                i = pos + 8 + rng.randrange(len(payload))
                data[i] = rng.randrange(256)
            kind = bytes(data[pos + 4 : pos + 8])
            body = bytes(data[pos + 8 : pos + 8 + len(payload)])
            struct.pack_into(">I", data, pos + 8 + len(payload), zlib.crc32(kind + body))
    elif fmt.startswith("tiff"):
        code = rng.choice((256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 338, 339))
        _set_tiff_tag(data, code, rng.choice(_BOGUS))
    elif fmt == "jpeg":
        markers = [i for i in range(2, len(data) - 4) if data[i] == 0xFF and 0xC0 <= data[i + 1] <= 0xFE]
        i = rng.choice(markers)
        struct.pack_into(">H", data, i + 2, rng.choice((0, 1, 2, 3, 0xFFFF)))
    elif fmt == "webp":
        struct.pack_into("<I", data, rng.choice((4, 16)), rng.choice((0, 1, 2**31 - 1, 2**32 - 1)))
    else:  # BMP: pixel-data offset, header size, bits, compression
        off = rng.choice((10, 14, 28, 30))
        struct.pack_into("<H" if off == 28 else "<I", data, off, rng.choice((0, 1, 3, 7, 255, 65535)))


def _dimensions(fmt: str, data: bytearray, rng: random.Random) -> None:
    w, h = rng.choice(((0, H), (W, 0), (2**31 - 1, 1), (100000, 100000), (65535, 65535), (1, 1), (W + 1, H)))
    if fmt.startswith("png"):
        ihdr = bytes(data[16:29])
        new = struct.pack(">II", w, h) + ihdr[8:]
        data[:] = _png_rechunk(bytes(data), b"IHDR", new)
    elif fmt.startswith("tiff"):
        _set_tiff_tag(data, 256, w)
        _set_tiff_tag(data, 257, h)
    elif fmt == "jpeg":
        i = next(i for i in range(2, len(data) - 9) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
        struct.pack_into(">HH", data, i + 5, min(h, 65535), min(w, 65535))
    elif fmt == "webp":
        i = data.find(b"VP8L")
        if i >= 0:  # 14-bit width-1 and height-1 after the 0x2f signature byte
            bits = ((min(w, 16384) - 1) & 0x3FFF) | (((min(h, 16384) - 1) & 0x3FFF) << 14)
            struct.pack_into("<I", data, i + 9, bits | (struct.unpack_from("<I", data, i + 9)[0] & ~0xFFFFFFF))
    else:
        struct.pack_into("<ii", data, 18, min(w, 2**31 - 1), min(h, 2**31 - 1) * rng.choice((1, -1)))


def _mode(fmt: str, data: bytearray, rng: random.Random) -> None:
    if fmt.startswith("png"):
        ihdr = bytearray(data[16:29])
        ihdr[8] = rng.choice((1, 2, 4, 8, 16, 32))  # bit depth
        ihdr[9] = rng.choice((0, 2, 3, 4, 6, 5, 7))  # colour type
        if rng.random() < 0.3:
            ihdr[12] = rng.choice((1, 2))  # interlace method
        data[:] = _png_rechunk(bytes(data), b"IHDR", bytes(ihdr))
    elif fmt.startswith("tiff"):
        _set_tiff_tag(data, rng.choice((262, 277, 258, 339)), rng.choice((0, 1, 2, 3, 4, 5, 6, 8, 16, 32)))
    elif fmt == "jpeg":
        i = next(i for i in range(2, len(data) - 9) if data[i] == 0xFF and data[i + 1] in (0xC0, 0xC2))
        data[i + 9] = rng.choice((0, 1, 2, 4, 5, 255))  # number of components
    elif fmt == "webp":
        i = data.find(b"VP8L")
        if i >= 0:
            data[i + 12] ^= 0x10 << rng.randrange(4)  # alpha / version bits
    else:
        struct.pack_into("<H", data, 28, rng.choice((0, 1, 2, 4, 8, 15, 16, 24, 32, 64)))


@functools.lru_cache(maxsize=4)
def _zeros(size: int) -> bytes:
    """``size`` zero bytes, deflated (a zlib bomb past 64 MB); cached, as compressing them is the slow part."""
    return zlib.compress(bytes(size), 9)


def _garbage(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def _irb(rng: random.Random) -> bytes:
    """A Photoshop resource block, sometimes with lying sizes or an IPTC record of random datasets."""
    iim = b"".join(bytes([0x1C, 2, rng.randrange(256)]) + struct.pack(">H", n) + _garbage(rng, n)
                   for n in (rng.randrange(0, 40) for _ in range(rng.randrange(1, 6))))
    size = rng.choice((len(iim), len(iim) + 7, 0, 2**31 - 1))
    name = rng.choice((b"\0\0", b"\x05abcde", b"\xff"))
    return b"8BIM" + struct.pack(">H", rng.choice((0x0404, 0x03ED, 0xFFFF))) + name + struct.pack(">I", size) + iim


def _metadata(fmt: str, good: bytes, rng: random.Random) -> bytes:
    """The photo with a damaged, oversized or bomb-like metadata block (ICC, EXIF, XMP, text, IPTC)."""
    if fmt.startswith("png"):
        kind, body = rng.choice([
            (b"iCCP", b"bomb\0\0" + _zeros(rng.choice((2 << 20, 70 << 20)))),
            (b"iCCP", b"junk\0\0" + _garbage(rng, 300)),
            (b"zTXt", b"Comment\0\0" + _zeros(rng.choice((3 << 20, 70 << 20)))),
            (b"iTXt", b"Comment\0\1\0\0\0" + _garbage(rng, 200)),
            (b"eXIf", _garbage(rng, rng.choice((4, 100, 70000)))),
            (b"tEXt", b"Comment\0" + b"b" * rng.choice((10, 2 << 20))),
        ])
        chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        return good[:33] + chunk + good[33:]  # after the signature and IHDR
    if fmt == "jpeg":
        payload = rng.choice([
            b"Photoshop 3.0\0" + _irb(rng),
            b"Photoshop 3.0\0" + _garbage(rng, 100),
            b"Exif\0\0" + _garbage(rng, 200),
            b"http://ns.adobe.com/xap/1.0/\0" + _garbage(rng, 300),
            b"ICC_PROFILE\0" + bytes([rng.randrange(4), rng.randrange(4)]) + _garbage(rng, 300),
        ])
        marker = {b"P": 0xED, b"E": 0xE1, b"h": 0xE1, b"I": 0xE2}[payload[:1]]
        return good[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + good[2:]
    if fmt.startswith("tiff"):
        dtype = np.uint8 if fmt == "tiff8" else np.uint16
        code, kind, value = rng.choice([(33723, 7, _garbage(rng, 50)), (33723, 4, _garbage(rng, 64)),
                                        (34377, 1, _irb(rng)), (700, 1, _garbage(rng, 500)),
                                        (34675, 7, _garbage(rng, 400))])
        count = len(value) // 4 if kind == 4 else len(value)
        buf = io.BytesIO()
        tifffile.imwrite(buf, _pixels(dtype), photometric="rgb",
                         extratags=[(code, kind, count, value[: 4 * count] if kind == 4 else value, True)])
        return buf.getvalue()
    if fmt == "webp":
        key = rng.choice(("exif", "icc_profile", "xmp"))
        buf = io.BytesIO()
        Image.fromarray(_pixels()).save(buf, "WEBP", lossless=True, **{key: _garbage(rng, rng.choice((10, 500)))})
        return buf.getvalue()
    data = bytearray(good)  # BMP carries no metadata: damage the header instead
    data[rng.randrange(54)] = rng.randrange(256)
    return bytes(data)


def cases(per_kind: int, first_seed: int = 0) -> list[tuple[str, str, int]]:
    return [(f, m, s) for f in FORMATS for m in MUTATIONS for s in range(first_seed, first_seed + per_kind)]


Generator = Callable[[str, str, int], bytes]
