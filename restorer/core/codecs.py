"""Per-format pixel and metadata coding for JPEG, PNG, WebP, BMP (and Pillow's other readable formats)."""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from PIL import BmpImagePlugin, Image, JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin

from restorer.core import exif as exiflib
from restorer.core import iptc, pngchunks
from restorer.core.libcalls import MAX_INFLATED, MAX_TEXT_TOTAL

# (width, height, channels, bytes per sample) from the header -> None; raises when refused
SizeCheck = Callable[[int, int, int, int], None]

# Formats Pillow may try for files whose signature is none of ours. Pillow can also open EPS
# (through Ghostscript) and other risky formats; only plain raster decoders are allowed.
OTHER_PILLOW_FORMATS = ["GIF", "PPM", "JPEG2000"]

_PLUGINS: dict[str, Any] = {
    # Constructing the plugin class directly skips Pillow's own global decompression-bomb limit,
    # which is lower than ours; the caller checks the size against the user's limit instead.
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,  # only the kinds tifffile's path hands over
}


class Unsupported(ValueError):
    """The file is an image, but in a kind Restorer does not read (e.g. floating point)."""


class Damaged(ValueError):
    """The file's structure is damaged (the message says how, in plain words)."""


@dataclass
class Decoded:
    """What a reader returns: pixels H x W x C as stored (not yet turned upright), alpha H x W, metadata."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    orientation: int | None = None  # overrides the EXIF orientation when the format has its own tag


def note(extra: dict[str, Any], text: str) -> None:
    """Record a change made while reading, for the UI and CLI to show."""
    extra.setdefault("notes", []).append(text)


def sniff(head: bytes) -> str | None:
    """The format named by a file's first bytes (never by its suffix)."""
    if head.startswith(pngchunks.SIGNATURE):
        return "PNG"
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    return None


# ---------------------------------------------------------------- reading


def read_pillow(path: Path, kind: str | None, check_size: SizeCheck) -> Decoded:
    """Decode with Pillow; palette, CMYK, 1-bit and similar modes become L/RGB(+alpha) with a note."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        opener = _PLUGINS.get(kind or "")
        im = opener(path) if opener else Image.open(path, formats=OTHER_PILLOW_FORMATS)
    try:
        channels, sample_bytes = _decoded_layout(im)
        check_size(im.size[0], im.size[1], channels, sample_bytes)
        extra: dict[str, Any] = {} if kind else {"pillow_format": im.format}
        frames = getattr(im, "n_frames", 1)
        if frames > 1:
            note(extra, f"only the first of {frames} frames was read")
        im.load()  # full decode now, so truncation and corruption surface here, not later
        info = dict(im.info)
        irb = iptc.from_app13([data for name, data in getattr(im, "applist", []) if name == "APP13"])
        usable = _supported_mode(im, extra)
        if usable is not im:
            im.close()  # close() frees the decoded pixels, not only the file
        arr = np.asarray(usable)
        usable.close()
    finally:
        im.close()
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.ndim == 2:
        arr = arr[:, :, None]
    alpha = None
    if arr.shape[2] in (2, 4):
        alpha = np.ascontiguousarray(arr[:, :, -1])
        arr = np.ascontiguousarray(arr[:, :, :-1])
    dpi = info.get("dpi")
    dpi = (round(float(dpi[0]), 2), round(float(dpi[1]), 2)) if dpi and min(dpi) > 0 else None
    if info.get("xmp"):
        extra["xmp"] = bytes(info["xmp"])
    if info.get("progressive"):
        extra["progressive"] = True
    if irb:
        extra["photoshop"] = irb
        if iptc.iim_of(irb):
            extra["iptc"] = iptc.iim_of(irb)
    return Decoded(arr, alpha, info.get("icc_profile") or None, exiflib.normalize(info.get("exif")), dpi, extra)


def _decoded_layout(im: Image.Image) -> tuple[int, int]:
    """(channels, bytes per sample) of the pixels a Pillow image decodes to, palette as RGB(A)."""
    if im.mode in ("P", "PA"):
        return (4 if im.mode == "PA" or "transparency" in im.info else 3), 1
    sample = 2 if im.mode.startswith("I;16") else 4 if im.mode in ("I", "F") else 1
    return len(im.getbands()), sample


def _supported_mode(im: Image.Image, extra: dict[str, Any]) -> Image.Image:
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA", "I;16", "I;16L", "I;16B", "I;16N"):
        if "transparency" in im.info and mode in ("L", "RGB"):
            note(extra, f"transparent colour key turned into an alpha channel ({mode} -> {mode}A)")
            extra["converted_from"] = mode + "+transparency"
            return im.convert(mode + "A")
        return im
    if mode == "F":
        raise Unsupported("32-bit floating point images are not supported")
    if mode == "I":
        arr = np.asarray(im)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise Unsupported("32-bit integer images are not supported")
        target: Any = Image.fromarray(arr.astype(np.uint16))
        name = "16-bit gray"
    elif mode in ("1", "La", "L;16"):
        name = {"1": "L", "La": "LA"}.get(mode, "L")
        target = im.convert(name)
    elif mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        name = "RGBA" if has_alpha else "RGB"
        target = im.convert(name)
    elif mode in ("RGBa", "RGBX"):
        name = "RGBA" if mode == "RGBa" else "RGB"
        target = im.convert(name)
    else:  # CMYK, YCbCr, LAB, HSV, ...
        name = "RGB"
        target = im.convert("RGB")
    extra["converted_from"] = mode
    note(extra, f"converted from {mode} to {name}")
    return target


def read_png(path: Path, check_size: SizeCheck) -> Decoded:
    """PNG: metadata from the chunks; 8-bit pixels through Pillow, 16-bit through OpenCV."""
    info = pngchunks.read_info(path)
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(info.color_type, 4)
    if info.transparency and info.color_type in (0, 2, 3):
        channels += 1
    check_size(info.width, info.height, channels, 2 if info.bit_depth == 16 else 1)
    if info.bit_depth == 16:
        decoded = _read_png16(path, info.color_type, info.transparency)
    else:
        decoded = read_pillow(path, "PNG", check_size)
    decoded.icc_profile = info.icc_profile
    decoded.dpi = info.dpi
    decoded.exif = exiflib.normalize(info.exif)
    decoded.extra.update(png_chunks=info.chunks, icc_name=info.icc_name)
    decoded.extra.pop("xmp", None)
    if info.xmp:  # for other formats; PNG to PNG copies the iTXt chunk itself
        decoded.extra["xmp"] = info.xmp
    return decoded


def _read_png16(path: Path, color_type: int, transparency: bytes | None) -> Decoded:
    # Pillow has no 16-bit RGB mode, so 16-bit PNGs go through OpenCV (BGR only inside this call).
    raw = np.fromfile(path, dtype=np.uint8)  # imread cannot take non-ASCII paths on Windows
    pngchunks.verify(raw.data)
    # OpenCV refuses ancillary chunks of a few MB (a scanner's ICC profile); the metadata were read
    # from the chunks already, so it gets the pixels' chunks only.
    png = pngchunks.with_metadata(raw.data, [])
    del raw
    arr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    del png
    if arr is None or arr.dtype != np.uint16:
        raise Damaged("not a valid PNG file (its image data are damaged or cut short)")
    if transparency and color_type in (0, 2):
        extra = {"converted_from": ("L" if color_type == 0 else "RGB") + "+transparency"}
        note(extra, "transparent colour key turned into an alpha channel")
        if arr.ndim == 2 and len(transparency) >= 2:  # OpenCV ignores a gray key; apply it here
            key = struct.unpack(">H", transparency[:2])[0]
            alpha = np.where(arr == key, np.uint16(0), np.uint16(65535))
            return Decoded(arr[:, :, None], alpha, extra=extra)
        if arr.ndim == 3 and arr.shape[2] == 4:  # OpenCV applied an RGB key as BGRA alpha
            return Decoded(cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB), np.ascontiguousarray(arr[:, :, 3]), extra=extra)
    if arr.ndim == 2:
        return Decoded(arr[:, :, None], None)
    if color_type == 4:  # gray + alpha arrives as BGRA with B == G == R
        return Decoded(np.ascontiguousarray(arr[:, :, :1]), np.ascontiguousarray(arr[:, :, 3]))
    if arr.shape[2] == 3:
        return Decoded(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB, dst=arr), None)  # in place: no second copy
    return Decoded(cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB), np.ascontiguousarray(arr[:, :, 3]))


def webp_is_lossless(path: Path) -> bool:
    """Whether the WebP bitstream is VP8L (lossless) rather than VP8 (lossy)."""
    with open(path, "rb") as f:
        f.seek(12)
        while True:
            head = f.read(8)
            if len(head) < 8:
                return False
            kind, size = head[:4], struct.unpack("<I", head[4:])[0]
            if kind in (b"VP8L", b"VP8 "):
                return kind == b"VP8L"
            f.seek(size + (size & 1), 1)


# ---------------------------------------------------------------- writing


@dataclass
class Encode:
    """Everything a writer needs; pixels already in a depth the format holds."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    icc_profile: bytes | None
    exif: bytes | None
    dpi: tuple[float, float] | None
    extra: dict[str, Any]
    source_format: str
    quality: int
    png_level: int = 1  # zlib level of PNG pixel data (see core.image.DEFAULT_PNG_LEVEL)

    def interleaved(self) -> np.ndarray:
        """Pixels with alpha as the last channel, H x W for gray without alpha (what the encoders take)."""
        px = self.pixels if self.alpha is None else np.concatenate([self.pixels, self.alpha[:, :, None]], axis=2)
        return px[:, :, 0] if px.shape[2] == 1 else px


# A JPEG marker segment holds 65535 bytes, two of them its length; the EXIF block (with its
# "Exif\0\0") fills one APP1, XMP one APP1 after a 29-byte name (Extended XMP is not written), the
# profile up to 255 APP2 segments after 14 bytes each. PNG's bounds are the ones our reader allows.
_SEGMENT = 65533
METADATA_LIMITS: dict[str, dict[str, int]] = {
    "JPEG": {"icc": 255 * (_SEGMENT - 14), "exif": _SEGMENT, "xmp": _SEGMENT - 29},
    # IPTC-IIM and Photoshop resources have a place in JPEG (APP13) and TIFF (tags 33723, 34377) only.
    "PNG": {"icc": MAX_INFLATED, "xmp": MAX_TEXT_TOTAL, "iptc": -1, "photoshop": -1},
    "WEBP": {"iptc": -1, "photoshop": -1},
    "BMP": {"icc": -1, "exif": -1, "xmp": -1, "iptc": -1, "photoshop": -1},  # BMP holds none of them
}
_BLOCK_NAMES = {"icc": ("a", "colour profile"), "exif": ("an", "EXIF block"), "xmp": ("an", "XMP packet"),
                "iptc": ("an", "IPTC-IIM block (caption, keywords, rights)"),
                "photoshop": ("a", "Photoshop image resource block")}


def fit_metadata(fmt: str, blocks: dict[str, bytes | None]) -> tuple[dict[str, bytes | None], list[str]]:
    """The metadata blocks (``icc``, ``exif``, ``xmp``) a ``fmt`` file can carry, and a note for each left out.

    A block the format cannot hold would make the encoder fail (Pillow refuses EXIF or XMP over
    64 KB in a JPEG) or write a file no reader opens; the photo is worth more than the block.
    """
    limits = METADATA_LIMITS.get(fmt, {})
    kept: dict[str, bytes | None] = {}
    notes: list[str] = []
    for key, data in blocks.items():
        limit = limits.get(key)
        if data and limit is not None and len(data) > limit:
            article, name = _BLOCK_NAMES[key]
            if limit < 0:
                notes.append(f"{fmt} files cannot hold {article} {name}; saved without it")
            else:
                notes.append(f"the {name} ({_size(len(data))}) is larger than a {fmt} file can hold "
                             f"({_size(limit)}); saved without it")
            data = None
        kept[key] = data
    if blocks.get("iptc") and blocks.get("photoshop") and kept.get("iptc") is None and kept.get("photoshop") is None:
        notes.pop()  # one block in the source (JPEG's APP13): one note
    return kept, notes


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{max(1, round(n / 1024))} KB"


def _pillow_image(enc: Encode) -> Image.Image:
    return Image.fromarray(enc.interleaved())


def write_jpeg(path: Path, enc: Encode) -> None:
    kwargs: dict[str, Any] = {
        "quality": enc.quality,
        # 4:4:4 at high quality: chroma subsampling visibly smears fine restored detail.
        "subsampling": 0 if enc.quality >= 90 else 2,
        "progressive": bool(enc.extra.get("progressive")),
    }
    _pillow_metadata(enc, kwargs)
    irb = iptc.irb_with(enc.extra.get("photoshop"), enc.extra.get("iptc"))
    with open(path, "wb") as f:
        if irb is None:
            _pillow_image(enc).save(f, "JPEG", **kwargs)
            return
        buf = io.BytesIO()  # Pillow writes no APP13: the IPTC/Photoshop block goes in after it encoded
        _pillow_image(enc).save(buf, "JPEG", **kwargs)
        f.write(iptc.insert_segments(buf.getvalue(), iptc.app13_segments(irb)))


def write_webp(path: Path, enc: Encode) -> None:
    # Lossless unless the source itself was lossy WebP: a restored photo should not lose detail.
    lossless = enc.source_format != "WEBP" or bool(enc.extra.get("lossless", True))
    kwargs: dict[str, Any] = {"lossless": lossless, "quality": 100 if lossless else enc.quality, "exact": True}
    _pillow_metadata(enc, kwargs)
    kwargs.pop("dpi", None)
    with open(path, "wb") as f:
        _pillow_image(enc).save(f, "WEBP", **kwargs)


def write_bmp(path: Path, enc: Encode) -> None:
    kwargs = {"dpi": enc.dpi} if enc.dpi else {}
    with open(path, "wb") as f:
        _pillow_image(enc).save(f, "BMP", **kwargs)


def _pillow_metadata(enc: Encode, kwargs: dict[str, Any]) -> None:
    if enc.icc_profile:
        kwargs["icc_profile"] = enc.icc_profile
    if enc.exif:
        kwargs["exif"] = enc.exif
    if enc.dpi:
        kwargs["dpi"] = enc.dpi
    if enc.extra.get("xmp"):
        kwargs["xmp"] = enc.extra["xmp"]


def write_png(path: Path, enc: Encode) -> None:
    if enc.pixels.shape[2] == 1 and enc.alpha is not None:
        # Gray + alpha: OpenCV writes no 2-channel PNG; Pillow has 8-bit LA, 16 bits has its own encoder.
        png = _encode_gray_alpha(enc)
    else:
        png = _encode_png_opencv(enc.pixels, enc.alpha, enc.png_level)
    chunks = pngchunks.metadata_chunks(
        icc_profile=enc.icc_profile,
        icc_name=enc.extra.get("icc_name", "ICC Profile"),
        dpi=enc.dpi,
        exif=exiflib.strip_prefix(enc.exif) if enc.exif else None,
        extra_chunks=enc.extra.get("png_chunks", []) if enc.source_format == "PNG" else [],
    )
    if enc.extra.get("xmp") and enc.source_format != "PNG":
        chunks.append(pngchunks.make_chunk(b"iTXt", pngchunks.XMP_ITXT + enc.extra["xmp"]))
    with open(path, "wb") as f:
        f.write(pngchunks.with_metadata(png, chunks))


def _encode_gray_alpha(enc: Encode) -> bytes:
    if enc.pixels.dtype == np.uint16:
        assert enc.alpha is not None
        return pngchunks.encode_gray_alpha16(enc.pixels[:, :, 0], enc.alpha, enc.png_level)
    buf = io.BytesIO()
    _pillow_image(enc).save(buf, "PNG", compress_level=enc.png_level)
    return buf.getvalue()


def _encode_png_opencv(pixels: np.ndarray, alpha: np.ndarray | None, level: int) -> bytes:
    # OpenCV's libpng with zlib's default strategy: at the same level it is 1.2-1.4x faster than
    # Pillow's encoder and no larger (benchmarks/bench_save.py); BGR only inside this call.
    if pixels.shape[2] == 1:
        bgr = pixels[:, :, 0]
    elif alpha is None:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
    else:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGRA)
        bgr[:, :, 3] = alpha
    params = [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_DEFAULT]
    ok, data = cv2.imencode(".png", bgr, params)
    if not ok:
        raise ValueError("the PNG encoder failed")
    return data.tobytes()
