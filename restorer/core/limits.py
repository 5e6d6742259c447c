"""The one size limit on the photos Restorer decodes: pixels and decoded bytes, checked from the header before decoding.

A photo's memory is ``width x height x channels x bytes per sample``: a 1.3 MB 15000 x 15000
16-bit RGB PNG decodes to 1.35 GB, so counting pixels alone lets it through. Every reader
(``core.codecs``, ``core.tiffcodec``) calls ``Limits.check`` with what the file's header says,
before it allocates anything; Pillow's own bomb limit (``Image.MAX_IMAGE_PIXELS``, 179 MP, with
its own message) follows ``max_pixels`` during our loads (``core.libcalls``), and when Pillow
refuses first its refusal is told in our words here.

The user raises either bound: ``--max-pixels`` and ``--max-bytes`` on the command line, or
``RESTORER_MAX_PIXELS`` / ``RESTORER_MAX_BYTES`` in the environment, which set the defaults
for the CLI and the app alike. Sizes take K, M, G suffixes (powers of 1000: "2G", "1500M").
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from restorer.errors import ImageError

DEFAULT_MAX_PIXELS = 250_000_000
# 1 GB decoded: a 250 MP 8-bit RGB scan (750 MB) or a 160 MP 16-bit RGB one (960 MB) fits; the
# 15000 x 15000 16-bit PNG of the audit (1.35 GB, 56 s and 2.9 GB to decode) does not.
DEFAULT_MAX_BYTES = 1_000_000_000
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_BOMB = re.compile(r"Image size \((\d+) pixels\)")


def parse_size(text: str) -> int:
    """``"1500000000"``, ``"1.5G"``, ``"800M"`` -> a positive int; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", str(text), re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r} (give a number, optionally with K, M or G)")
    value = int(float(m.group(1)) * _SUFFIX[m.group(2).upper()])
    if value <= 0:
        raise ValueError(f"a limit must be above zero, got {text!r}")
    return value


def _from_env(name: str, default: int) -> int:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError:
        return default  # a bad setting must not stop the app from opening photos


def default_max_pixels() -> int:
    return _from_env("RESTORER_MAX_PIXELS", DEFAULT_MAX_PIXELS)


def default_max_bytes() -> int:
    return _from_env("RESTORER_MAX_BYTES", DEFAULT_MAX_BYTES)


def _bytes(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 10**9 else f"{n / 1e6:.0f} MB" if n >= 10**6 else f"{n:,} bytes"


@dataclass(frozen=True)
class Limits:
    """How large a photo may be, in pixels and in decoded bytes."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def of(cls, max_pixels: int | None = None, max_bytes: int | None = None) -> Limits:
        """The given bounds, each unset one from the environment or the default."""
        return cls(default_max_pixels() if max_pixels is None else max_pixels,
                   default_max_bytes() if max_bytes is None else max_bytes)

    def check(self, path: Path, width: int, height: int, channels: int = 1, sample_bytes: int = 1) -> None:
        """Raise ImageError when the header's size is zero or over a bound (before anything is decoded)."""
        if width <= 0 or height <= 0:
            raise ImageError(f"{path}: image has zero size ({width} x {height} pixels)")
        pixels = width * height
        if pixels > self.max_pixels:
            raise ImageError(
                f"{path}: image is {width} x {height} = {pixels:,} pixels, over the limit of "
                f"{self.max_pixels:,} that guards against decompression bombs; "
                "if you trust this file, raise the limit with --max-pixels (or RESTORER_MAX_PIXELS)"
            )
        size = pixels * channels * sample_bytes
        if size > self.max_bytes:
            depth = f"{channels} channel{'s' if channels > 1 else ''} of {8 * sample_bytes} bits"
            raise ImageError(
                f"{path}: image is {width} x {height} pixels, {depth}: {_bytes(size)} decoded, over the "
                f"limit of {_bytes(self.max_bytes)} that guards against decompression bombs; "
                "if you trust this file, raise the limit with --max-bytes (or RESTORER_MAX_BYTES)"
            )

    def refused_by_pillow(self, path: Path, exc: Exception) -> ImageError:
        """Pillow's DecompressionBombError (it spoke before our check could), in our words."""
        m = _BOMB.search(str(exc))
        count = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
        return ImageError(
            f"{path}: image is {count}, over the limit of {self.max_pixels:,} that guards against "
            "decompression bombs; if you trust this file, raise the limit with --max-pixels (or RESTORER_MAX_PIXELS)"
        )
