"""TIFF through tifffile: 8/16-bit gray and RGB with alpha, keeping compression, ICC, DPI, EXIF and XMP."""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from PIL import Image, TiffImagePlugin
from tifffile import COMPRESSION, PHOTOMETRIC, PLANARCONFIG, PREDICTOR, RESUNIT

from restorer.core import exif as exiflib
from restorer.core import iptc
from restorer.core.codecs import Damaged, Decoded, Encode, SizeCheck, note, read_pillow

# tifffile's own log lines go to the debug log (restorer.core.libcalls); the checks below turn
# what matters into one plain message.
ICC, XMP, ORIENTATION = 34675, 700, 274
EXIF_IFD, GPS_IFD, INTEROP_IFD = 0x8769, 0x8825, 0xA005
# IFD0 tags that describe the photo rather than its storage; carried in PhotoMeta.exif.
DESCRIPTIVE = (269, 270, 271, 272, 285, 305, 306, 315, 316, 33432)
# Compressions written back as found; anything else (e.g. JPEG-in-TIFF, which is lossy)
# becomes deflate, the default for new TIFFs.
WRITABLE = {
    COMPRESSION.NONE,
    COMPRESSION.LZW,
    COMPRESSION.ADOBE_DEFLATE,
    COMPRESSION.DEFLATE,
    COMPRESSION.PACKBITS,
    COMPRESSION.ZSTD,
    COMPRESSION.LZMA,
}
_PREDICTED = WRITABLE - {COMPRESSION.NONE, COMPRESSION.PACKBITS}


# ---------------------------------------------------------------- reading


def read_tiff(path: Path, check_size: SizeCheck) -> Decoded:
    """Decode page 1 with tifffile; kinds it does not map to L/RGB (palette, CMYK, 1-bit) go to Pillow."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        spp = page.samplesperpixel if 1 <= page.samplesperpixel <= 32 else 1  # bogus counts: check_structure
        channels = 3 if page.photometric == PHOTOMETRIC.PALETTE else spp
        check_size(page.imagewidth, page.imagelength, channels, max(1, (page.bitspersample + 7) // 8))
        check_structure(page, os.path.getsize(path))
        extra: dict[str, Any] = {
            "tiff_compression": int(page.compression),
            "tiff_predictor": int(page.predictor),
        }
        tags = page.tags
        if XMP in tags and isinstance(tags[XMP].value, bytes):
            extra["xmp"] = tags[XMP].value
        for code, key in ((iptc.TIFF_IPTC, "iptc"), (iptc.TIFF_PHOTOSHOP, "photoshop")):
            block = iptc.tiff_value(tags[code].value, int(tags[code].dtype), tif.byteorder) if code in tags else None
            if block:
                extra[key] = block
        icc = tags[ICC].value if ICC in tags and isinstance(tags[ICC].value, bytes) else None
        dpi = _dpi(tags)
        orientation = int(tags[ORIENTATION].value) if ORIENTATION in tags else 1
        decoded = None
        if _tifffile_reads(page):
            decoded = Decoded(*_pixels(path, page, extra))
            if len(tif.pages) > 1:  # (Pillow, below, notes the frames it skips itself)
                note(extra, f"only the first of {len(tif.pages)} pages was read")
    if decoded is None:
        decoded = read_pillow(path, "TIFF", check_size)
        decoded.extra.pop("xmp", None)
    for text in extra.pop("notes", []):
        note(decoded.extra, text)
    decoded.extra.update(extra)
    decoded.icc_profile, decoded.dpi = icc, dpi
    decoded.exif = _exif(path, decoded.extra)
    if exiflib.orientation(decoded.exif) != orientation:
        decoded.orientation = orientation if 1 <= orientation <= 8 else 1
    return decoded


def _tifffile_reads(page: tifffile.TiffPage) -> bool:
    colour = page.samplesperpixel - len(page.extrasamples)
    return (
        page.dtype in (np.uint8, np.uint16)
        and page.bitspersample in (8, 16)
        and page.imagedepth == 1
        and (
            (page.photometric in (PHOTOMETRIC.MINISBLACK, PHOTOMETRIC.MINISWHITE) and colour == 1)
            or (page.photometric == PHOTOMETRIC.RGB and colour == 3)
        )
    )


def check_structure(page: tifffile.TiffPage, file_size: int) -> None:
    """Refuse a directory whose values are unknown or whose strips/tiles do not cover the image.

    tifffile decodes what it can and leaves the rest of its output array as it was allocated, so a
    bogus tag (PlanarConfiguration 65520) or a missing strip would hand out uninitialised memory.
    """
    tags = page.tags

    def value(code: int, default: int) -> int:
        v: Any = tags[code].value if code in tags else default
        return int(v[0] if isinstance(v, tuple) and v else v)

    known = {262: set(map(int, PHOTOMETRIC)), 284: {1, 2}, 259: set(map(int, COMPRESSION)), 266: {1, 2},
             317: {1, 2, 3, 34892, 34893, 34894}, 339: {1, 2, 3, 4, 5, 6}}
    names = {262: "photometric interpretation", 284: "planar configuration", 259: "compression",
             266: "fill order", 317: "predictor", 339: "sample format"}
    for code, allowed in known.items():
        if code in tags and value(code, 0) not in allowed:
            raise Damaged(f"the TIFF directory is damaged (unknown {names[code]} {value(code, 0)})")
    bits = tags[258].value if 258 in tags else (1,)
    bits = bits if isinstance(bits, tuple) else (bits,)
    spp = page.samplesperpixel
    if not 1 <= spp <= 32 or len(set(bits)) != 1 or not 1 <= bits[0] <= 64:
        raise Damaged("the TIFF directory is damaged (bits or samples per pixel out of range)")
    extras = tags[338].value if 338 in tags else ()
    if any(int(e) not in (0, 1, 2) for e in (extras if isinstance(extras, tuple) else (extras,))):
        raise Damaged("the TIFF directory is damaged (unknown extra-sample kind)")
    planes = spp if value(284, 1) == 2 else 1
    width, height, depth = page.imagewidth, page.imagelength, max(page.imagedepth, 1)
    per_plane = spp // planes
    if 322 in tags or 323 in tags:
        tw, tl, td = page.tilewidth, page.tilelength, max(page.tiledepth, 1)
        if tw <= 0 or tl <= 0:
            raise Damaged("the TIFF directory is damaged (tile size is zero)")
        segments = math.ceil(width / tw) * math.ceil(height / tl) * math.ceil(depth / td) * planes
        full = [math.ceil(tw * per_plane * bits[0] / 8) * tl * td] * segments
    else:
        rows = page.rowsperstrip if 0 < page.rowsperstrip < height else height
        per_image = math.ceil(height / rows) * depth
        segments = per_image * planes
        row_bytes = math.ceil(width * per_plane * bits[0] / 8)
        last = height - rows * (math.ceil(height / rows) - 1)
        one = [row_bytes * (rows if (i + 1) % math.ceil(height / rows) else last) for i in range(per_image)]
        full = one * planes
    offsets, counts = page.dataoffsets, page.databytecounts
    if len(offsets) != segments or len(counts) != segments:
        kind = "tiles" if 322 in tags else "strips"
        raise Damaged(f"the TIFF directory is damaged ({len(offsets)} {kind} where the image needs {segments})")
    if any(off + n > file_size for off, n in zip(offsets, counts)):
        raise Damaged("not a valid TIFF file (it is truncated: the image data end early)")
    if any(n <= 0 for n in counts):
        raise Damaged("the TIFF image data are incomplete (a strip or tile is empty)")
    if value(259, 1) == 1 and any(n < need for n, need in zip(counts, full)):
        raise Damaged("the TIFF image data are incomplete (a strip or tile is shorter than the image needs)")


def _pixels(path: Path, page: tifffile.TiffPage, extra: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    # Zeroed, never np.empty: whatever a decoder leaves unwritten must not be the process's memory.
    arr = page.asarray(out=np.zeros(page.shaped, page.dtype))
    if page.planarconfig == PLANARCONFIG.SEPARATE and page.samplesperpixel > 1:
        arr = np.moveaxis(arr, 0, -1)
    arr = arr.reshape(page.imagelength, page.imagewidth, page.samplesperpixel)
    colour = page.samplesperpixel - len(page.extrasamples)
    alpha = None
    if page.extrasamples:
        alpha = np.ascontiguousarray(arr[:, :, colour])
        extra["tiff_extrasample"] = int(page.extrasamples[0])
        if len(page.extrasamples) > 1:
            note(extra, f"{len(page.extrasamples) - 1} extra channel(s) beyond alpha were dropped")
        arr = arr[:, :, :colour]
    arr = np.ascontiguousarray(arr)
    if page.photometric == PHOTOMETRIC.MINISWHITE:
        np.invert(arr, out=arr)  # 0 = white in the file; Restorer's gray is 0 = black
        extra["converted_from"] = "MINISWHITE"
        note(extra, "converted from min-is-white to min-is-black gray")
    return arr, alpha


def _dpi(tags: tifffile.TiffTags) -> tuple[float, float] | None:
    if 282 not in tags or 283 not in tags:
        return None
    unit = int(tags[296].value) if 296 in tags else RESUNIT.INCH
    if unit not in (RESUNIT.INCH, RESUNIT.CENTIMETER):
        return None
    values = []
    for tag in (282, 283):
        num, den = tags[tag].value
        if not den or not num:
            return None
        values.append(round(num / den * (2.54 if unit == RESUNIT.CENTIMETER else 1.0), 2))
    return values[0], values[1]


def _exif(path: Path, extra: dict[str, Any]) -> bytes | None:
    """IFD0's descriptive tags and the EXIF/GPS sub-directories, as one EXIF block."""
    try:
        with open(path, "rb") as f:
            src = Image.Exif()
            src.load_from_fp(f)
            out = Image.Exif()
            for tag in (*DESCRIPTIVE, ORIENTATION):
                if tag in src:
                    out[tag] = src[tag]
            for tag, sub in _sub_ifds(src).items():
                out[tag] = sub
            return exiflib.normalize(out.tobytes()) if len(out) else None
    except Exception:  # metadata is worth keeping, never worth failing the load
        note(extra, "the EXIF block is damaged and was left out")
        return None


def _sub_ifds(src: Image.Exif) -> dict[int, dict[int, Any]]:
    subs: dict[int, dict[int, Any]] = {}
    for tag in (EXIF_IFD, GPS_IFD):
        if tag in src:
            sub = dict(src.get_ifd(tag))
            if tag == EXIF_IFD and INTEROP_IFD in sub:
                # An offset into the source file means nothing elsewhere; carry the directory itself.
                interop = src.get_ifd(INTEROP_IFD)
                if interop:
                    sub[INTEROP_IFD] = dict(interop)
                else:
                    del sub[INTEROP_IFD]
            if sub:
                subs[tag] = sub
    return subs


# ---------------------------------------------------------------- writing


def write_tiff(path: Path, enc: Encode) -> None:
    data = enc.interleaved()
    compression, predictor = COMPRESSION.ADOBE_DEFLATE, PREDICTOR.HORIZONTAL
    if enc.source_format == "TIFF" and enc.extra.get("tiff_compression") in WRITABLE:
        compression = COMPRESSION(enc.extra["tiff_compression"])
        predictor = PREDICTOR(enc.extra.get("tiff_predictor", 1))
        if predictor not in (PREDICTOR.NONE, PREDICTOR.HORIZONTAL):
            predictor = PREDICTOR.HORIZONTAL
    src = Image.Exif()
    if enc.exif:
        src.load(enc.exif)
    extratags: list[tuple[Any, ...]] = []
    for tag in DESCRIPTIVE:
        value = src.get(tag)
        if isinstance(value, str) and value.strip("\0"):
            extratags.append((tag, "s", 0, value.strip("\0").encode("utf-8", "replace"), True))
    if enc.extra.get("xmp"):
        extratags.append((XMP, 1, len(enc.extra["xmp"]), enc.extra["xmp"], True))
    iim = enc.extra.get("iptc") or iptc.iim_of(enc.extra.get("photoshop"))
    if iim:  # UNDEFINED bytes: the IIM record as it is (readers also take tag type LONG)
        extratags.append((iptc.TIFF_IPTC, 7, len(iim), iim, True))
    if enc.extra.get("photoshop"):
        irb = iptc.irb_with(enc.extra["photoshop"], iim)
        if irb:
            extratags.append((iptc.TIFF_PHOTOSHOP, 1, len(irb), irb, True))
    # Over 4 GB the file must be BigTIFF, whose directories the patch below does not handle;
    # the same threshold tifffile uses, decided here so both sides agree.
    bigtiff = data.nbytes > 2**32 - 2**25
    subs = _sub_ifds(src) if enc.exif and not bigtiff else {}
    for tag in subs:
        # tifffile refuses to write the pointer tags; a neighbouring code keeps the directory's
        # sort order and is renamed when the offset is patched in.
        extratags.append((tag - 1, 4, 1, 0, True))
    tifffile.imwrite(
        path,
        data,
        bigtiff=bigtiff,
        photometric=PHOTOMETRIC.MINISBLACK if enc.pixels.shape[2] == 1 else PHOTOMETRIC.RGB,
        planarconfig=PLANARCONFIG.CONTIG,
        extrasamples=[enc.extra.get("tiff_extrasample", 2)] if enc.alpha is not None else None,
        compression=compression,
        predictor=predictor if compression in _PREDICTED else None,
        resolution=enc.dpi,
        resolutionunit=RESUNIT.INCH if enc.dpi else None,
        iccprofile=enc.icc_profile,
        metadata=None,
        software=False,
        extratags=extratags,
    )
    if subs:
        _append_sub_ifds(path, subs)


def _append_sub_ifds(path: Path, subs: dict[int, dict[int, Any]]) -> None:
    """Append EXIF/GPS directories to a classic TIFF and turn IFD0's placeholders (tag - 1) into pointers.

    tifffile cannot write such directories itself; Pillow's directory writer lays them out
    for a given file offset.
    """
    with open(path, "r+b") as f:
        head = f.read(8)
        order = "<" if head[:2] == b"II" else ">"
        (ifd0,) = struct.unpack(order + "I", head[4:])
        f.seek(ifd0)
        (count,) = struct.unpack(order + "H", f.read(2))
        entries = f.read(12 * count)
        where = {
            struct.unpack(order + "H", entries[12 * i : 12 * i + 2])[0]: ifd0 + 2 + 12 * i + 8 for i in range(count)
        }
        for tag, sub in subs.items():
            end = f.seek(0, 2)
            if end & 1:
                f.write(b"\0")
                end += 1
            ifd = TiffImagePlugin.ImageFileDirectory_v2(ifh=head[:4] + b"\0" * 4, group=tag)
            for key, value in sub.items():
                ifd[key] = value
            f.write(ifd.tobytes(end))
            f.seek(where[tag - 1] - 8)
            f.write(struct.pack(order + "HHII", tag, 4, 1, end))
