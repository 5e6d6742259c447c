"""IPTC-IIM (caption, keywords, rights) and Photoshop image resources survive JPEG -> JPEG, TIFF -> TIFF and
across the two; formats that cannot hold them leave them out with a note and the sidecar carries them."""

from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, IptcImagePlugin

from restorer.cli import main
from restorer.core.image import load_photo, save_photo

PIXELS = (np.arange(24 * 32 * 3) % 251).astype(np.uint8).reshape(24, 32, 3)
CAPTION = b"Harbour, 1931; scan of the glass negative"


def dataset(record: int, number: int, value: bytes) -> bytes:
    return bytes([0x1C, record, number]) + struct.pack(">H", len(value)) + value


IIM = (dataset(1, 90, b"\x1b%G") + dataset(2, 0, b"\0\4") + dataset(2, 120, CAPTION)
       + dataset(2, 25, b"harbour") + dataset(2, 116, b"(c) City Archive"))
# Another resource beside IPTC (0x03ED: resolution info), with a name, to check the block is kept whole.
OTHER = b"8BIM" + struct.pack(">H", 0x03ED) + b"\x03res" + struct.pack(">I", 16) + bytes(range(16))
IRB = OTHER + b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(IIM)) + IIM + b"\0" * (len(IIM) & 1)


def jpeg_with_app13(path: Path) -> Path:
    buf = io.BytesIO()
    Image.fromarray(PIXELS).save(buf, "JPEG", quality=95)
    data = buf.getvalue()
    payload = b"Photoshop 3.0\0" + IRB
    app13 = b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(data[:2] + app13 + data[2:])
    return path


def app13_of(path: Path) -> bytes:
    """The concatenated APP13 payloads of a JPEG, read here without Restorer's code."""
    data, pos, out = path.read_bytes(), 2, b""
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        (n,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if data[pos + 1] == 0xED:
            out += data[pos + 4 + 14 : pos + 2 + n]
        pos += 2 + n
    return out


def caption_of_jpeg(path: Path) -> bytes:
    with Image.open(path) as im:
        return IptcImagePlugin.getiptcinfo(im)[(2, 120)]


def test_jpeg_to_jpeg_keeps_the_iptc_block_and_every_resource(tmp_path: Path) -> None:
    photo = load_photo(jpeg_with_app13(tmp_path / "in.jpg"))
    assert photo.meta.extra["iptc"] == IIM
    out = tmp_path / "out.jpg"
    assert save_photo(photo, out) == []
    assert app13_of(out) == IRB
    assert caption_of_jpeg(out) == CAPTION


def test_jpeg_to_tiff_and_back(tmp_path: Path) -> None:
    photo = load_photo(jpeg_with_app13(tmp_path / "in.jpg"))
    tif = tmp_path / "out.tif"
    save_photo(photo, tif)
    with tifffile.TiffFile(tif) as t:
        tags = t.pages.first.tags
        assert tags[33723].value == IIM and tags[34377].value == IRB
    back = tmp_path / "back.jpg"
    save_photo(load_photo(tif), back)
    assert app13_of(back) == IRB


def test_tiff_to_tiff_keeps_a_long_typed_iptc_tag(tmp_path: Path) -> None:
    padded = IIM + b"\0" * (-len(IIM) % 4)  # as many writers store it: type LONG, whole words
    words = struct.unpack(f"<{len(padded) // 4}I", padded)
    src = tmp_path / "scan.tif"
    tifffile.imwrite(src, PIXELS, photometric="rgb", extratags=[(33723, 4, len(words), words, True)])
    out = tmp_path / "out.tif"
    save_photo(load_photo(src), out)
    with tifffile.TiffFile(out) as t:
        assert t.pages.first.tags[33723].value == padded
    jpg = tmp_path / "out.jpg"
    save_photo(load_photo(src), jpg)  # TIFF -> JPEG: the IIM record in a new IRB
    assert caption_of_jpeg(jpg) == CAPTION


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_formats_without_a_place_say_so_and_the_sidecar_carries_it(suffix: str, tmp_path: Path, capsys) -> None:
    src = jpeg_with_app13(tmp_path / "in.jpg")
    mask = tmp_path / "mask.png"
    m = np.zeros(PIXELS.shape[:2], np.uint8)
    m[5:10, 5:20] = 255
    Image.fromarray(m).save(mask)
    out = tmp_path / f"out{suffix}"
    code = main(["inpaint", str(src), "-m", str(mask), "-o", str(out), "--model", "telea", "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"{out.name}: {'PNG' if suffix == '.png' else 'WEBP'} files cannot hold an IPTC-IIM block" in err
    assert "kept in the sidecar" in err and err.count("\n") == 2
    side = json.loads(Path(str(out) + ".restorer.json").read_text())
    assert base64.b64decode(side["carried"]["iptc_iim"]) == IIM
    assert base64.b64decode(side["carried"]["photoshop_resources"]) == IRB
