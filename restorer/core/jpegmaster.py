"""JPEG masters: a repaired JPEG saved as JPEG keeps, bit for bit in the DCT domain, every block no fill touched.

A full re-encode (``core.image.save_photo``) decodes and quantises the whole photo again: about
a third of the pixels outside the hole change by a level or two. Here the source's own DCT
coefficients are copied and only the blocks whose pixels changed are coded afresh, by libjpeg
(through ``jpeglib``) with the source's quantisation tables and chroma sampling, from the new
pixels. Which blocks: a block of a component is re-encoded when any changed pixel lies in its
footprint (8 x 8 pixels of luma; 16 x 16 for a 4:2:0 chroma block); an MCU counts as re-encoded
when any of its blocks is. Changed pixels are those that differ from the source's decode, plus
``changed`` when the caller passes the fill's mask.

What is kept: coefficients, quantisation tables, sampling factors, the component layout, the
EXIF orientation tag (the stored pixels stay unrotated; the photo's upright pixels are turned
back), and the metadata ``core.image.save_photo`` writes for a JPEG (JFIF density, EXIF, XMP,
ICC, IPTC/Photoshop APP13; the same Pillow call makes those segments). Not kept: the entropy
coding itself (written baseline with optimised Huffman tables, also for progressive sources),
restart markers and comment (COM) segments, which the full re-encode does not keep either.

Sources it cannot serve (not a YCbCr or gray JPEG, a size that no longer matches, a source
that is gone or damaged) raise ``MasterRefused``; ``save`` then re-encodes fully and says why.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from restorer.core import codecs, image, iptc, libcalls
from restorer.core import exif as exiflib
from restorer.errors import ImageError

_GRAY, _YCC = "JCS_GRAYSCALE", "JCS_YCbCr"
_NOT_JPEG = "not JPEG to JPEG"


class MasterRefused(ImageError):
    """The source JPEG cannot be kept block for block (the message says why, naming the file)."""


@dataclass(frozen=True)
class MasterReport:
    """How much of a JPEG master was coded afresh."""

    mcus: int
    mcus_reencoded: int
    blocks: int  # 8 x 8 blocks of all components
    blocks_reencoded: int
    progressive_source: bool

    def note(self) -> str:
        share = 100 * self.mcus_reencoded / max(1, self.mcus)
        text = (f"JPEG master: {self.mcus_reencoded} of {self.mcus} MCUs re-encoded ({share:.2f} %), "
                "every other block kept bit-identical")
        return text + ("; the progressive source was written back baseline" if self.progressive_source else "")

    def record(self) -> dict[str, Any]:
        return {"mcus": self.mcus, "mcus_reencoded": self.mcus_reencoded, "blocks": self.blocks,
                "blocks_reencoded": self.blocks_reencoded, "progressive_source": self.progressive_source}


def unusable(photo: image.Photo, path: Path) -> str | None:
    """Why ``photo`` saved to ``path`` cannot be a JPEG master without reading the source; None when it may be."""
    if image.save_format(path) != "JPEG" or photo.meta.format != "JPEG":
        return _NOT_JPEG
    if photo.path is None:
        return "the photo has no source file"
    if not Path(photo.path).is_file():
        return f"the source JPEG {photo.path} is gone"
    if photo.dtype != np.uint8 or "converted_from" in photo.meta.extra:
        return f"the photo was converted on load (from {photo.meta.extra.get('converted_from', '16-bit')})"
    return None


def save(photo: image.Photo, path: str | os.PathLike[str], *, reencode: bool = False,
         changed: np.ndarray | None = None, **options: Any) -> tuple[list[str], MasterReport | None]:
    """``core.image.save_photo``, except that a JPEG photo saved as JPEG is written as a master.

    ``reencode=True`` forces the full re-encode (``--jpeg-reencode``). Returns the save's notes
    (the master's own note among them) and the master's report (None after a full re-encode).
    """
    path = Path(path)
    if reencode:
        return image.save_photo(photo, path, **options), None
    reason = unusable(photo, path)
    if reason is None:
        try:
            return write_master(photo, path, changed=changed, **options)
        except MasterRefused as exc:
            reason = str(exc)
    notes = image.save_photo(photo, path, **options)
    if reason != _NOT_JPEG:
        notes.append(f"re-encoded in full, not as a JPEG master: {reason}")
    return notes, None


def write_master(photo: image.Photo, path: str | os.PathLike[str], *, changed: np.ndarray | None = None,
                 quality: int = 95, replace: bool = True, **options: Any) -> tuple[list[str], MasterReport]:
    """Write ``photo`` to ``path`` as a JPEG with the source's coefficients wherever no pixel changed.

    ``photo.path`` is the source JPEG and ``photo.pixels`` the upright repaired pixels (the array
    contract). ``changed`` (bool H x W, upright) adds pixels to re-encode even where they equal
    the source's decode. Raises ``MasterRefused`` when the source cannot serve, ImageError when
    the output cannot be written.
    """
    path = Path(path)
    if photo.path is None:
        raise MasterRefused(f"{path}: the photo has no source JPEG")
    source = Path(photo.path)
    fmt, enc, notes = image.prepare_encode(photo, path, quality=quality, **options)
    if fmt != "JPEG":
        raise MasterRefused(f"{path}: a JPEG master is written only as .jpg or .jpeg")
    turn = int(photo.meta.extra.get("orientation", 1))
    if turn != 1:
        # The tag stays and the pixels stay unrotated; without the tag they would show turned.
        enc.exif = exiflib.with_orientation(enc.exif, turn) if enc.exif else None
        if exiflib.orientation(enc.exif) != turn:
            raise MasterRefused(f"{path}: the EXIF block that holds the orientation is not written, "
                                "so the pixels must be turned upright")
    new, touched = _stored_changes(photo, source, turn, changed)
    coefs = _Coefficients(source)
    report = coefs.replace_touched(new, touched)
    image.atomic_write(path, lambda tmp: _write(tmp, coefs, enc), replace=replace)
    return [*notes, report.note()], report


def _stored_changes(photo: image.Photo, source: Path, turn: int,
                    changed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(new pixels, changed pixels) in the source's stored orientation."""
    try:
        original = image.load_photo(source)
    except ImageError as exc:
        raise MasterRefused(f"the source JPEG cannot be read: {exc}") from None
    if original.meta.format != "JPEG" or "converted_from" in original.meta.extra:
        raise MasterRefused(f"{source}: the source is no longer a gray or colour JPEG")
    if original.pixels.shape != photo.pixels.shape or int(original.meta.extra.get("orientation", 1)) != turn:
        h, w = original.pixels.shape[:2]
        raise MasterRefused(f"{source}: the source JPEG is now {w} x {h} pixels (or turned otherwise), "
                            f"the photo {photo.width} x {photo.height}")
    unequal = photo.pixels != original.pixels
    diff = unequal[:, :, 0].copy()
    for c in range(1, unequal.shape[2]):  # 3x faster than any(axis=2) over a 3-wide axis
        diff |= unequal[:, :, c]
    del unequal
    if changed is not None:
        if changed.shape != diff.shape:
            raise ValueError(f"changed is {changed.shape}, the photo {diff.shape}")
        diff |= changed
    back = _UNDO.get(turn, turn)
    return (np.ascontiguousarray(exiflib.apply_orientation(photo.pixels, back)),
            np.ascontiguousarray(exiflib.apply_orientation(diff, back)))


# The orientation that undoes each EXIF orientation: all are their own inverse but the two quarter turns.
_UNDO = {6: 8, 8: 6}


class _Coefficients:
    """The source's DCT coefficients, tables and sampling (jpeglib), and the blocks replaced in them."""

    def __init__(self, source: Path) -> None:
        import jpeglib  # the DCT-domain reader and writer; imported here so loading photos never needs it

        self._jpeglib = jpeglib
        try:  # jpeglib prints the paths of a failed read to stdout: kept off the CLI's output
            with libcalls.library_call(), contextlib.redirect_stdout(io.StringIO()):
                dct = jpeglib.read_dct(str(source))
                planes = [dct.Y] + ([dct.Cb, dct.Cr] if dct.has_chrominance else [])
        except Exception as exc:  # libjpeg's complaint about the file, in one line
            raise MasterRefused(f"{source}: its DCT coefficients cannot be read ({exc})") from None
        space = getattr(dct.jpeg_color_space, "name", str(dct.jpeg_color_space))
        if space not in (_GRAY, _YCC) or len(planes) != dct.num_components:
            raise MasterRefused(f"{source}: a {space} JPEG with {dct.num_components} components is not kept as a master")
        self.dct, self.planes, self.source = dct, [np.array(p) for p in planes], source
        samp = np.asarray(dct.samp_factor).reshape(-1, 2)  # rows (vertical, horizontal)
        # One component is coded as single blocks whatever its sampling factors say.
        self.samp = np.ones((1, 2), int) if len(planes) == 1 else samp
        vmax, hmax = (int(x) for x in self.samp.max(axis=0))
        if any(vmax % v or hmax % h for v, h in self.samp):
            raise MasterRefused(f"{source}: its chroma sampling {samp.tolist()} is not kept as a master")
        self.mcu = (8 * vmax, 8 * hmax)

    def replace_touched(self, pixels: np.ndarray, changed: np.ndarray) -> MasterReport:
        """Code afresh every block with a changed pixel in its footprint, from ``pixels`` (stored orientation)."""
        height, width = changed.shape
        if (height, width) != (self.dct.height, self.dct.width):
            raise MasterRefused(f"{self.source}: the JPEG is {self.dct.width} x {self.dct.height}, "
                                f"the photo {width} x {height} (stored orientation)")
        my, mx = self.mcu
        mcus = _pool(changed, my, mx, (-(-height // my), -(-width // mx)))
        steps = [(my // int(v), mx // int(h)) for v, h in self.samp]
        touched = [_pool(changed, fy, fx, plane.shape[:2]) for (fy, fx), plane in zip(steps, self.planes, strict=True)]
        if mcus.any():
            rows, cols = np.flatnonzero(mcus.any(axis=1)), np.flatnonzero(mcus.any(axis=0))
            r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            fresh = self._encode(pixels[r0 * my : r1 * my, c0 * mx : c1 * mx])
            for plane, hit, new, (fy, fx) in zip(self.planes, touched, fresh, steps, strict=True):
                by, bx = r0 * my // fy, c0 * mx // fx
                window = (slice(by, by + new.shape[0]), slice(bx, bx + new.shape[1]))
                hit_here = hit[window]
                if hit_here.shape != new.shape[:2] or hit.sum() != hit_here.sum():
                    raise AssertionError("re-encoded blocks do not line up with the source's block grid")
                plane[window][hit_here] = new[hit_here]
        return MasterReport(mcus=int(mcus.size), mcus_reencoded=int(mcus.sum()),
                            blocks=sum(int(p.shape[0] * p.shape[1]) for p in self.planes),
                            blocks_reencoded=sum(int(t.sum()) for t in touched),
                            progressive_source=bool(self.dct.progressive_mode))

    def _encode(self, crop: np.ndarray) -> list[np.ndarray]:
        """The coefficients libjpeg codes for ``crop`` (MCU-aligned) with the source's tables and sampling.

        Colour conversion, downsampling, DCT and quantisation are all local to an MCU, so the
        blocks of a crop that starts on an MCU boundary are those a whole-photo encode would make.
        """
        jpeglib = self._jpeglib
        with tempfile.TemporaryDirectory(prefix="restorer-jpeg-") as tmp, libcalls.library_call():
            out = str(Path(tmp) / "fresh.jpg")
            spatial = jpeglib.from_spatial(np.ascontiguousarray(crop))
            spatial.samp_factor = np.asarray(self.dct.samp_factor)
            spatial.write_spatial(out, qt=self.dct.qt, quant_tbl_no=self.dct.quant_tbl_no,
                                  dct_method=jpeglib.JDCT_ISLOW)
            fresh = jpeglib.read_dct(out)
            planes = [fresh.Y] + ([fresh.Cb, fresh.Cr] if fresh.has_chrominance else [])
            if not np.array_equal(fresh.qt, self.dct.qt):
                raise AssertionError("libjpeg did not keep the source's quantisation tables")
            return [np.array(p) for p in planes]

    def write(self, path: Path) -> None:
        """The coefficients as a baseline JPEG with optimised Huffman tables and no APPn segments."""
        dct = self.dct
        dct.Y = self.planes[0]
        if len(self.planes) == 3:
            dct.Cb, dct.Cr = self.planes[1], self.planes[2]
        dct.markers = []  # the metadata come from core's writer (_write), not from the source's segments
        dct.write_dct(str(path), flags=["+OPTIMIZE_CODING"])


def _pool(mask: np.ndarray, fy: int, fx: int, shape: tuple[int, ...]) -> np.ndarray:
    """For a grid of ``shape`` cells of fy x fx pixels: whether any pixel of ``mask`` in each is set."""
    rows, cols = int(shape[0]), int(shape[1])
    padded = np.zeros((rows * fy, cols * fx), bool)
    h, w = min(mask.shape[0], rows * fy), min(mask.shape[1], cols * fx)
    padded[:h, :w] = mask[:h, :w]
    return np.asarray(padded.reshape(rows, fy, cols, fx).any(axis=(1, 3)), bool)


def _write(tmp: Path, coefs: _Coefficients, enc: codecs.Encode) -> None:
    """The master: SOI, the metadata segments of core's JPEG writer, then libjpeg's tables and scan."""
    with tempfile.TemporaryDirectory(prefix="restorer-jpeg-") as work:
        coded, header = Path(work) / "coefficients.jpg", Path(work) / "metadata.jpg"
        coefs.write(coded)
        tiny = codecs.Encode(pixels=np.zeros((8, 8, enc.pixels.shape[2]), np.uint8), alpha=None,
                             icc_profile=enc.icc_profile, exif=enc.exif, dpi=enc.dpi, extra=enc.extra,
                             source_format=enc.source_format, quality=enc.quality)
        codecs.write_jpeg(header, tiny)  # the same Pillow call as a full save: the same segments
        segments = header.read_bytes()
        data = coded.read_bytes()
    tmp.write_bytes(b"\xff\xd8" + segments[2 : iptc.app_segments_end(segments)] + data[iptc.app_segments_end(data):])
