"""Photo I/O and the array contract: photos loaded and saved faithfully (depth, mode, ICC, EXIF, DPI).

The array contract (canonical text; every package keeps to it)
-----------------------------------------------------------------
- A photo is an ndarray ``H x W x C``, C = 1 (gray) or 3 (RGB), of its source's dtype,
  ``uint8`` or ``uint16``; never converted silently to 8-bit or to RGB. Alpha is kept aside
  (``Photo.alpha``: ``H x W``, the photo's dtype) and written back on save.
- A mask is ``bool H x W``; True = hole (fill this).
- Float tensors live only inside ``restorer.models`` and ``restorer.inference``:
  ``N x C x H x W`` in [0, 1].
- The engine's guarantee: same shape, dtype and mode out; pixels outside the mask bit-identical.
- Never BGR outside the single OpenCV call that needs it.

What this module adds to the contract
-------------------------------------
- ``Photo.pixels`` is C-contiguous and upright: EXIF (or TIFF) orientation is applied on load,
  and the EXIF kept in ``PhotoMeta`` says orientation 1, so nothing turns the photo twice.
- Modes without a place in the contract are converted on load, and the change is recorded:
  ``meta.extra['converted_from']`` (e.g. ``'P'``, ``'CMYK'``, ``'1'``, ``'MINISWHITE'``) and a
  sentence in ``meta.extra['notes']``. Palette with transparency becomes RGB + alpha.
  An ICC profile that no longer fits the pixels (a CMYK profile after CMYK -> RGB) is dropped,
  with a note.
- 16 -> 8 bits, wherever it happens (``save_photo(allow_8bit=True)``, ``to_display_rgb8``,
  ``to_8bit``), is ``round(v / 257)``, i.e. ``(v + 128) // 257``: exact rounding, the inverse of
  8 -> 16 (``v * 257``); plain ``v >> 8`` truncates and is one step off for a quarter of all values.
- ``PhotoMeta.exif`` is the APP1 payload form, ``b"Exif\\0\\0"`` + TIFF structure, whatever
  the source format; ``icc_profile`` the raw profile; ``dpi`` (x, y) dots per inch.
- ``PhotoMeta.extra`` keys: ``notes``, ``converted_from``, ``orientation`` (the one applied),
  ``xmp`` (packet bytes), ``progressive`` (JPEG), ``lossless`` (WebP), ``png_chunks`` and
  ``icc_name`` (PNG text/colour chunks copied back), ``tiff_compression``, ``tiff_predictor``,
  ``tiff_extrasample`` (TIFF storage written back when saving to TIFF again).

Formats
-------
Read (``LOAD_SUFFIXES``): JPEG, PNG, TIFF (any compression tifffile/imagecodecs decode), WebP,
BMP, and GIF, PNM and JPEG 2000 through Pillow (first frame only). Written (by suffix, see
``SAVE_FORMATS``): PNG and TIFF hold 8 and 16 bits, gray and RGB, with alpha, losslessly;
WebP is written lossless unless the source was lossy WebP (WebP has no gray mode: gray is
stored as equal RGB and comes back as RGB). JPEG, WebP and BMP hold 8 bits only (16-bit is
refused unless ``allow_8bit``); JPEG and BMP hold no alpha (refused unless ``drop_alpha``).
16-bit PNG goes through OpenCV (Pillow has no 16-bit RGB; 16-bit gray+alpha has its own small
encoder in ``pngchunks``), TIFF through tifffile, the rest through Pillow; PNG metadata chunks
(iCCP, pHYs, eXIf, text, colour) are read and written in ``pngchunks`` for every bit depth.
Mask files (``load_mask``, ``save_mask``) are read and written in ``maskfile``, through this module.

Errors a user can cause raise ``ImageError`` / ``MaskError`` whose message is one line,
``"<path>: <problem>"``; no library exception type escapes, and a failed save leaves no file.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from PIL import Image

from restorer.core import atomic as _atomic
from restorer.core import codecs, libcalls, messages
from restorer.core import exif as exiflib
from restorer.core.limits import Limits
from restorer.core.pngchunks import PngFormatError
from restorer.core.tiffcodec import read_tiff, write_tiff
from restorer.errors import ImageError, RestorerError

# The limit itself lives in core.limits; these names stay for callers that import them from here.
DEFAULT_MAX_PIXELS: int = Limits.max_pixels
DEFAULT_MAX_BYTES: int = Limits.max_bytes

# zlib level of PNG saves. 1 rather than zlib's usual 6: on a 24 MP photo 1.6x faster to encode than
# level 3 for files about 5 % larger (level 6: 3x slower than 3 for 5 % smaller; 16-bit photos differ
# less), so a save costs little more than OpenCV's own imwrite; benchmarks/bench_save.py measures it.
# PNG is lossless at every level; --png-level / png_level choose another.
DEFAULT_PNG_LEVEL: int = 1


SAVE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
}
# Suffixes of files load_photo reads (for scanning folders); the content, not the suffix,
# decides the decoder.
LOAD_SUFFIXES = frozenset(
    {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".dib", ".gif",
     ".pbm", ".pgm", ".ppm", ".pnm", ".jp2", ".j2k"}
)
EIGHT_BIT_FORMATS = frozenset({"JPEG", "WEBP", "BMP"})
# Pillow writes 32-bit BMP alpha but reads such files back as RGB, so BMP counts as alpha-less.
NO_ALPHA_FORMATS = frozenset({"JPEG", "BMP"})

_WRITERS: dict[str, Callable[[Path, codecs.Encode], None]] = {
    "PNG": codecs.write_png,
    "TIFF": write_tiff,
    "JPEG": codecs.write_jpeg,
    "WEBP": codecs.write_webp,
    "BMP": codecs.write_bmp,
}


@dataclass
class PhotoMeta:
    """What a photo file says besides its pixels, kept so saving writes it back."""

    format: str  # the source format: "JPEG", "PNG", "TIFF", "WEBP", "BMP", ... ("" if new)
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Photo:
    """Pixels (H x W x C, uint8/uint16, upright), alpha kept aside, and the metadata to write back."""

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    meta: PhotoMeta = field(default_factory=lambda: PhotoMeta(format=""))
    path: Path | None = None

    def __post_init__(self) -> None:
        px = self.pixels
        if px.ndim != 3 or px.shape[2] not in (1, 3) or px.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"photo pixels must be H x W x 1|3 uint8/uint16, got {px.shape} {px.dtype}")
        if self.alpha is not None and (self.alpha.shape != px.shape[:2] or self.alpha.dtype != px.dtype):
            raise ValueError(f"alpha must be {px.shape[:2]} {px.dtype}, got {self.alpha.shape} {self.alpha.dtype}")

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def dtype(self) -> np.dtype:
        return self.pixels.dtype

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    def with_pixels(self, pixels: np.ndarray) -> Photo:
        """The same photo (alpha, metadata, path) with new pixels of the same height and width."""
        if pixels.shape[:2] != self.pixels.shape[:2]:
            raise ValueError(f"new pixels are {pixels.shape[:2]}, the photo is {self.pixels.shape[:2]}")
        meta = dataclasses.replace(self.meta, extra=dict(self.meta.extra))
        return Photo(pixels, self.alpha, meta, self.path)


# ---------------------------------------------------------------- loading


def load_photo(
    path: str | os.PathLike[str], *, max_pixels: int | None = None, max_bytes: int | None = None
) -> Photo:
    """Read a photo file into the array contract; raises ImageError naming the file and problem.

    ``max_pixels`` and ``max_bytes`` (decoded size) bound what is decoded (``core.limits``; None:
    the environment's setting or the default); the header is checked before any decoding.
    """
    path = Path(path)
    kind = _sniff(path)
    limit = Limits.of(max_pixels, max_bytes)

    def check_size(width: int, height: int, channels: int = 1, sample_bytes: int = 1) -> None:
        limit.check(path, width, height, channels, sample_bytes)

    try:
        with libcalls.library_call(max_pixels=limit.max_pixels):
            if kind == "PNG":
                decoded = codecs.read_png(path, check_size)
            elif kind == "TIFF":
                decoded = read_tiff(path, check_size)
            else:
                decoded = codecs.read_pillow(path, kind, check_size)
            if kind == "WEBP":
                decoded.extra["lossless"] = codecs.webp_is_lossless(path)
    except RestorerError:
        raise
    except Image.DecompressionBombError as e:  # Pillow saw the size before our check could
        raise limit.refused_by_pillow(path, e) from None
    except MemoryError:
        raise ImageError(f"{path}: not enough memory to load this image") from None
    except (PngFormatError, codecs.Unsupported, codecs.Damaged) as e:  # ours: already plain words
        raise ImageError(f"{path}: {e}") from e
    except Exception as e:  # any decoder failure is the file's problem, told in one line
        raise ImageError(f"{path}: {messages.unreadable(e, kind)}") from e
    return _photo(path, kind, decoded)


def _sniff(path: Path) -> str | None:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    try:
        # Regular files only: a FIFO or device would block the reader forever. O_NONBLOCK keeps the
        # open itself from blocking if the name was swapped for a pipe after the stat.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise ImageError(f"{path}: is not a regular file (a pipe, device or socket); give a photo file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ImageError(f"{path}: is not a regular file (a pipe, device or socket); give a photo file")
            head = f.read(16)
    except OSError as e:
        raise ImageError(f"{path}: cannot open ({e.strerror or e})") from None
    if not head:
        raise ImageError(f"{path}: file is empty (0 bytes)")
    return codecs.sniff(head)


def _photo(path: Path, kind: str | None, d: codecs.Decoded) -> Photo:
    extra = d.extra
    turn = d.orientation or exiflib.orientation(d.exif)
    pixels, alpha = d.pixels, d.alpha
    if turn != 1:
        pixels = np.ascontiguousarray(exiflib.apply_orientation(pixels, turn))
        alpha = None if alpha is None else np.ascontiguousarray(exiflib.apply_orientation(alpha, turn))
        extra["orientation"] = turn
    exif = exiflib.with_orientation(d.exif, 1) if d.exif else None
    icc = d.icc_profile
    if icc is not None and not exiflib.icc_fits(icc, pixels.shape[2]):
        space = exiflib.icc_colour_space(icc) or ""
        if space.isascii() and space.isalnum():
            codecs.note(extra, f"{space} colour profile dropped: it does not fit the pixels")
        else:
            codecs.note(extra, "a damaged colour profile was dropped")
        icc = None
    fmt = kind or str(extra.pop("pillow_format", "") or "")
    return Photo(pixels, alpha, PhotoMeta(fmt, icc, exif, d.dpi, extra), path)


# ---------------------------------------------------------------- saving


def save_photo(
    photo: Photo,
    path: str | os.PathLike[str],
    *,
    quality: int = 95,
    png_level: int = DEFAULT_PNG_LEVEL,
    allow_8bit: bool = False,
    drop_alpha: bool = False,
    replace: bool = True,
) -> list[str]:
    """Write a photo in the format its suffix names, with its metadata, atomically; returns save notes.

    A metadata block the format cannot carry (EXIF or XMP over 64 KB in a JPEG, any profile in a
    BMP) is left out, and the returned notes say which (one sentence each, for the CLI and app).

    ``replace=False`` refuses (ImageError) a file at ``path``, even one that appears while the
    photo is being encoded: the rename itself does not replace.

    JPEG, WebP and BMP hold 8 bits per channel: a 16-bit photo raises ImageError unless
    ``allow_8bit`` (then each value becomes round(v / 257)). JPEG and BMP hold no alpha: a
    photo with alpha raises ImageError unless ``drop_alpha``. ``quality`` applies to JPEG and
    to lossy WebP; JPEG at 90 and above is written without chroma subsampling (4:4:4).
    ``png_level`` (0-9) is the zlib level of PNG pixel data: it trades encoding time against
    file size only, never pixels (see ``DEFAULT_PNG_LEVEL``).
    """
    path = Path(path)
    fmt, encode, notes = prepare_encode(photo, path, quality=quality, png_level=png_level,
                                        allow_8bit=allow_8bit, drop_alpha=drop_alpha)
    atomic_write(path, lambda tmp: _WRITERS[fmt](tmp, encode), replace=replace)
    return notes


def prepare_encode(
    photo: Photo,
    path: Path,
    *,
    quality: int = 95,
    png_level: int = DEFAULT_PNG_LEVEL,
    allow_8bit: bool = False,
    drop_alpha: bool = False,
) -> tuple[str, codecs.Encode, list[str]]:
    """(format, what its writer gets, notes) for ``save_photo``: the depth, alpha and metadata checks.

    Shared with ``core.jpegmaster``, so a JPEG master carries exactly the metadata a full save would.
    """
    fmt = save_format(path)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    if not 0 <= png_level <= 9:
        raise ValueError(f"png_level must be 0..9, got {png_level}")
    pixels, alpha, meta = photo.pixels, photo.alpha, photo.meta
    if fmt in EIGHT_BIT_FORMATS and pixels.dtype == np.uint16:
        if not allow_8bit:
            raise ImageError(
                f"{path}: {fmt} holds only 8 bits per channel and this photo has 16; "
                "save as .png or .tif, or allow conversion to 8-bit (--allow-8bit)"
            )
        pixels = to_8bit(pixels)
        alpha = None if alpha is None else to_8bit(alpha)
    if alpha is not None and fmt in NO_ALPHA_FORMATS:
        if not drop_alpha:
            raise ImageError(
                f"{path}: {fmt} cannot hold transparency and this photo has an alpha channel; "
                "save as .png, .tif or .webp, or allow dropping the transparency"
            )
        alpha = None
    icc = meta.icc_profile if exiflib.icc_fits(meta.icc_profile, pixels.shape[2]) else None
    exif = exiflib.with_orientation(meta.exif, 1) if meta.exif else None
    blocks = {"icc": icc, "exif": exif, **{k: meta.extra.get(k) for k in ("xmp", "iptc", "photoshop")}}
    kept, notes = codecs.fit_metadata(fmt, blocks)
    left_out = {k for k in ("xmp", "iptc", "photoshop") if blocks[k] and kept[k] is None}
    extra = {k: v for k, v in meta.extra.items() if k not in left_out} if left_out else meta.extra
    encode = codecs.Encode(
        pixels=pixels,
        alpha=alpha,
        icc_profile=kept["icc"],
        exif=kept["exif"],
        dpi=meta.dpi,
        extra=extra,
        source_format=meta.format,
        quality=quality,
        png_level=png_level,
    )
    return fmt, encode, notes


def save_format(path: Path) -> str:
    """The format ``save_photo`` writes for ``path``'s suffix; ImageError if it writes none."""
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(SAVE_FORMATS))
        raise ImageError(f"{path}: unknown output type {path.suffix or '(no suffix)'!r}; use one of {known}")
    return fmt


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[Path], None], *, replace: bool = True
) -> None:
    """``restorer.core.atomic.atomic_write`` with this module's wording of encoder errors and the library rules."""

    def guarded(tmp: Path) -> None:
        with libcalls.library_call():
            write(tmp)

    _atomic.atomic_write(path, guarded, replace=replace, describe=lambda e: messages.unwritable(e, Path(path)))


# ---------------------------------------------------------------- display


def to_8bit(a: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 as round(v / 257) (uint8 returned as is), without float64 temporaries."""
    if a.dtype == np.uint8:
        return a
    if a.dtype != np.uint16:
        raise ValueError(f"expected uint8 or uint16, got {a.dtype}")
    if a.size == 0:  # OpenCV returns None for empty input
        return np.zeros(a.shape, np.uint8)
    # convertScaleAbs rounds to nearest in one pass; v / 257 is never within float error of .5.
    return cv2.convertScaleAbs(a, alpha=1 / 257).reshape(a.shape)


def to_display_rgb8(pixels: np.ndarray) -> np.ndarray:
    """A new H x W x 3 uint8 RGB array for screens and thumbnails (16-bit rounded, gray replicated)."""
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.size == 0:
        return np.zeros((*pixels.shape[:2], 3), np.uint8)
    if pixels.ndim == 2:
        return cv2.cvtColor(to_8bit(pixels), cv2.COLOR_GRAY2RGB)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected H x W, H x W x 1 or H x W x 3, got {pixels.shape}")
    out = to_8bit(pixels)
    return out.copy() if out is pixels else out
