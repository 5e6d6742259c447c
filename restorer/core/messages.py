"""What a decoder's or encoder's failure means for the user's file, in plain words (never a library's own text).

Libraries word their failures for programmers: "unknown pixel mode (SyntaxError)", "0
(IndexError)", "unpack requires a buffer of 4 bytes", "57600 requested and 1920 written". The
user needs one thing: what is wrong with the file, e.g. "photo.png: not a valid PNG file (bad
header)". The library's text goes to the debug log (``restorer.libraries``) for whoever debugs.
"""

from __future__ import annotations

import logging
import os
import re
import struct
from pathlib import Path

from PIL import UnidentifiedImageError

from restorer.core.libcalls import MAX_INFLATED

log = logging.getLogger("restorer.libraries")

# Words in a library's message that say the data end early, or that compressed data are damaged.
_TRUNCATED = ("truncated", "end early", "not enough image data", "unexpected end", "premature end",
              "cut off", "eof", "incomplete")
_DATA = ("decoder", "decompress", "deflate", "lzw", "zlib", "broken data stream", "next frame",
         "data stream", "corrupt", "codec", "huffman", "bad adaptive filter", "crc", "image data")
_VARIANT = ("unsupported", "cannot handle", "unknown pixel mode", "unknown data organization", "not supported",
            "mode", "bit depth", "layer")
_NAMES = {"WEBP": "WebP"}
_SHORT_WRITE = re.compile(r"(\d+) requested and (\d+) written")


def unreadable(exc: BaseException, kind: str | None) -> str:
    """Why a file could not be decoded (the part of the message after ``"<path>: "``)."""
    log.debug("decoder failure (%s file): %s: %s", kind or "unknown", type(exc).__name__, exc)
    if isinstance(exc, UnidentifiedImageError) and not kind:
        return "not an image file, or in a format Restorer cannot read"
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        return f"cannot read the file ({exc.strerror})"
    what = f"not a valid {_NAMES.get(kind or '', kind)} file" if kind else "not a valid image file"
    text = str(exc).lower()
    if "decompressed data too large" in text or "max_text" in text:
        return f"{what} (a profile or text inside inflates past {MAX_INFLATED >> 20} MB: a decompression bomb?)"
    if any(w in text for w in _TRUNCATED) or isinstance(exc, EOFError):
        return f"{what} (it is truncated: an incomplete download or copy?)"
    if any(w in text for w in _DATA):
        return f"{what} (its image data are damaged)"
    if any(w in text for w in _VARIANT):
        return f"{what} (damaged, or a kind of {kind or 'image'} Restorer cannot read)"
    return f"{what} (its structure is damaged)"


def unwritable(exc: BaseException, path: Path) -> str:
    """Why a file could not be written (after ``"<path>: cannot save: "``)."""
    log.debug("encoder failure (%s): %s: %s", path, type(exc).__name__, exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    short = _SHORT_WRITE.search(str(exc))
    if short:  # numpy's tofile (used by tifffile) reports a short write without an errno
        wanted, wrote = int(short.group(1)), int(short.group(2))
        full = _free_bytes(path.parent) < wanted - wrote
        return f"{'the disk is full' if full else 'the write stopped short'} (wrote {wrote} of {wanted} bytes)"
    if isinstance(exc, (struct.error, IndexError, KeyError, TypeError)):
        return f"the encoder failed ({type(exc).__name__})"
    return str(exc).strip() or type(exc).__name__


def _free_bytes(folder: Path) -> int:
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows: a short write there is a full disk
        return 0
    return st.f_bavail * st.f_frsize

