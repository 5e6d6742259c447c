"""Metadata past a library's default bounds: big PNG profiles and text open, Restorer reads back every
PNG it writes, and a block a format cannot carry is left out with a note instead of failing the save."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, PngImagePlugin

from restorer.cli import main
from restorer.core import pngchunks
from restorer.core.image import Photo, PhotoMeta, load_photo, save_photo
from restorer.errors import ImageError

PIXELS = (np.arange(24 * 32 * 3) % 251).astype(np.uint8).reshape(24, 32, 3)


def rgb_profile(size: int, seed: int = 0) -> bytes:
    """An ICC-shaped block of ``size`` bytes (RGB display profile header, incompressible body)."""
    head = bytearray(128)
    head[0:4] = size.to_bytes(4, "big")
    head[12:16], head[16:20], head[20:24], head[36:40] = b"mntr", b"RGB ", b"XYZ ", b"acsp"
    body = np.random.default_rng(seed).integers(0, 256, size - 128, np.uint8).tobytes()
    return bytes(head) + body


def png_with(chunks: list[bytes]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(PIXELS).save(buf, "PNG")
    return pngchunks.with_metadata(buf.getvalue(), chunks)


BIG = 3 << 20  # past Pillow's 1 MB MAX_TEXT_CHUNK
TEXT = (b"restored scan " * (BIG // 14 + 1))[:BIG]


@pytest.mark.parametrize("kind", ["iCCP", "zTXt", "iTXt"])
def test_an_8bit_png_whose_metadata_inflates_past_1mb_opens_and_round_trips(kind: str, tmp_path: Path) -> None:
    profile = rgb_profile(BIG)
    chunk = {
        "iCCP": pngchunks.make_chunk(b"iCCP", b"Scanner\0\0" + zlib.compress(profile)),
        "zTXt": pngchunks.make_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(TEXT)),
        "iTXt": pngchunks.make_chunk(b"iTXt", b"Comment\0\1\0\0\0" + zlib.compress(TEXT)),
    }[kind]
    src = tmp_path / "big-meta.png"
    src.write_bytes(png_with([chunk]))
    photo = load_photo(src)
    assert np.array_equal(photo.pixels, PIXELS)
    if kind == "iCCP":
        assert photo.meta.icc_profile == profile
    else:
        assert [c for c in photo.meta.extra["png_chunks"] if c[0] == kind.encode()]
    out = tmp_path / "copy.png"
    assert save_photo(photo, out) == []
    again = load_photo(out)
    assert np.array_equal(again.pixels, PIXELS)
    assert again.meta.icc_profile == photo.meta.icc_profile
    assert again.meta.extra["png_chunks"] == photo.meta.extra["png_chunks"]
    # Pillow's own bound is back once our load is over: it is scoped to Restorer's calls.
    assert PngImagePlugin.MAX_TEXT_CHUNK == 1 << 20


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_tiff_with_a_10mb_profile_saved_as_png_reads_back(dtype, tmp_path: Path) -> None:
    pixels = PIXELS.astype(dtype) * (257 if dtype == np.uint16 else 1)
    profile = rgb_profile(10 << 20, seed=1)
    src = tmp_path / "scan.tif"
    tifffile.imwrite(src, pixels, photometric="rgb", iccprofile=profile)
    out = tmp_path / "scan.png"
    assert save_photo(load_photo(src), out) == []
    back = load_photo(out)
    assert np.array_equal(back.pixels, pixels) and back.meta.icc_profile == profile


def test_jpeg_save_leaves_out_exif_and_xmp_over_64kb_and_says_so(tmp_path: Path) -> None:
    exif = b"Exif\0\0II*\0\x08\0\0\0\0\0" + b"\0" * 70_000
    packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * 70_000 + b"</x:xmpmeta>"
    small_profile = rgb_profile(200_000)  # spans several APP2 segments: kept
    photo = Photo(PIXELS, meta=PhotoMeta("TIFF", icc_profile=small_profile, exif=exif, extra={"xmp": packet}))
    out = tmp_path / "out.jpg"
    notes = save_photo(photo, out)
    assert len(notes) == 2
    assert "EXIF block (68 KB)" in notes[0] and "saved without it" in notes[0]
    assert "XMP packet (68 KB)" in notes[1] and "JPEG" in notes[1]
    back = load_photo(out)
    assert back.meta.exif is None and "xmp" not in back.meta.extra
    assert back.meta.icc_profile == small_profile
    assert photo.meta.extra["xmp"] == packet  # the photo's own metadata are untouched


def test_bmp_save_says_what_it_cannot_hold(tmp_path: Path) -> None:
    photo = Photo(PIXELS, meta=PhotoMeta("PNG", icc_profile=rgb_profile(4000), extra={"xmp": b"<x/>"}))
    notes = save_photo(photo, tmp_path / "out.bmp")
    assert notes == ["BMP files cannot hold a colour profile; saved without it",
                     "BMP files cannot hold an XMP packet; saved without it"]


def test_cli_prints_the_save_note_and_keeps_it_in_the_record(tmp_path: Path, capsys) -> None:
    src = tmp_path / "scan.tif"
    packet = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>" + b" " * 80_000 + b"</x:xmpmeta>"
    tifffile.imwrite(src, PIXELS, photometric="rgb", extratags=[(700, 1, len(packet), packet, True)])
    mask = tmp_path / "mask.png"
    m = np.zeros(PIXELS.shape[:2], np.uint8)
    m[5:10, 5:20] = 255
    Image.fromarray(m).save(mask)
    out, record = tmp_path / "out.jpg", tmp_path / "record.json"
    code = main(["inpaint", str(src), "-m", str(mask), "-o", str(out), "--model", "telea", "-q",
                 "--no-sidecar", "--record", str(record)])
    err = capsys.readouterr().err
    assert code == 0 and out.is_file(), err
    assert "restorer-cli: note: out.jpg: the XMP packet" in err and "saved without it" in err
    assert "out.jpg: the XMP packet" in record.read_text()


@pytest.mark.parametrize("depth", [8, 16])
def test_a_text_chunk_inflating_past_64mb_is_refused_at_every_depth(depth: int, tmp_path: Path) -> None:
    import cv2

    pixels = PIXELS if depth == 8 else PIXELS.astype(np.uint16) * 257
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    bomb = pngchunks.make_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(bytes(70 << 20), 9))
    src = tmp_path / "bomb.png"
    src.write_bytes(pngchunks.with_metadata(encoded.tobytes(), [bomb]))
    with pytest.raises(ImageError) as err:  # 16-bit PNGs would otherwise pass it on into their outputs
        load_photo(src)
    assert str(err.value) == f"{src}: not a valid PNG file (a profile or text inside inflates past 64 MB: a decompression bomb?)"
