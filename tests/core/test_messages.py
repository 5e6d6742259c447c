"""Refusals are one plain line naming the file: no library's own line on stderr (libpng writes from C
to fd 2), no exception class names or programmer words; library text goes to the debug log."""

from __future__ import annotations

import io
import logging
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile

from restorer.cli import main
from restorer.core import image, pngchunks
from restorer.core.image import Photo, PhotoMeta, load_photo, save_photo
from restorer.errors import ImageError

sys.path.insert(0, str(Path(__file__).parents[1] / "fuzz"))
import fuzzgen

PIXELS16 = (np.arange(24 * 32 * 3) % 251).astype(np.uint16).reshape(24, 32, 3) * 200


def _rewrite_png(data: bytes, edit) -> bytes:
    out, pos = bytearray(data[:8]), 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        out += pngchunks.make_chunk(kind, edit(kind, body))
        pos += 12 + n
    return bytes(out)


def bad_filter_png16(path: Path) -> Path:
    """A 16-bit PNG with good checksums whose first row has filter type 9 (libpng: 'bad adaptive filter value')."""
    ok, data = cv2.imencode(".png", PIXELS16)
    assert ok

    def edit(kind: bytes, body: bytes) -> bytes:
        if kind != b"IDAT":
            return body
        raw = bytearray(zlib.decompress(body))
        raw[0] = 9
        return zlib.compress(bytes(raw))

    path.write_bytes(_rewrite_png(data.tobytes(), edit))
    return path


def test_libpng_lines_stay_off_stderr_and_go_to_the_debug_log(tmp_path: Path, capfd, caplog) -> None:
    path = bad_filter_png16(tmp_path / "scan.png")
    with caplog.at_level(logging.DEBUG, logger="restorer.libraries"), pytest.raises(ImageError) as err:
        load_photo(path)
    assert capfd.readouterr().err == ""
    assert str(err.value) == f"{path}: not a valid PNG file (its image data are damaged or cut short)"
    assert "libpng error: bad adaptive filter value" in caplog.text


def test_a_png_with_a_bad_header_is_called_that_not_truncated(tmp_path: Path) -> None:
    ok, encoded = cv2.imencode(".png", PIXELS16[:, :, 0].astype(np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    struct.pack_into(">I", data, 8, 0x7FFF_FFFF)  # IHDR's length field
    path = tmp_path / "photo.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError) as err:
        load_photo(path)
    assert str(err.value) == f"{path}: not a valid PNG file (bad header)"


def test_a_tiff_pillow_cannot_map_gets_plain_words(tmp_path: Path) -> None:
    buf = io.BytesIO()
    tifffile.imwrite(buf, PIXELS16.astype(np.uint8), photometric="rgb")
    data = bytearray(buf.getvalue())
    fuzzgen._set_tiff_tag(data, 258, 5)  # 5 bits per sample: Pillow's "unknown pixel mode (SyntaxError)"
    path = tmp_path / "odd.tif"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError) as err:
        load_photo(path)
    assert str(err.value) == f"{path}: not a valid TIFF file (damaged, or a kind of TIFF Restorer cannot read)"


@pytest.mark.parametrize("exc", [SyntaxError("unknown pixel mode"), IndexError(0), KeyError(0),
                                 struct.error("unpack requires a buffer of 4 bytes"), ValueError("tuple index out of range"),
                                 OSError("broken data stream when reading image file"), EOFError()])
def test_library_exceptions_become_one_plain_reason(exc: BaseException) -> None:
    from restorer.core import messages

    reason = messages.unreadable(exc, "TIFF")
    assert reason.startswith("not a valid TIFF file (") and not fuzzgen.JARGON.search(reason), reason


def test_a_full_disk_is_said_in_plain_words(tmp_path: Path, monkeypatch) -> None:
    from restorer.core import messages

    def short_write(path, enc):
        Path(path).write_bytes(b"II*\0partial")
        raise OSError("57600 requested and 1920 written")  # numpy's tofile, as tifffile meets a full disk

    monkeypatch.setitem(image._WRITERS, "TIFF", short_write)
    monkeypatch.setattr(messages, "_free_bytes", lambda folder: 0)  # (the real check asks the file system)
    out = tmp_path / "out.tif"
    with pytest.raises(ImageError) as err:
        save_photo(Photo(PIXELS16), out)
    assert str(err.value) == f"{out}: cannot save: the disk is full (wrote 1920 of 57600 bytes)"
    assert list(tmp_path.iterdir()) == []


def test_cli_debug_log_gets_the_library_line(tmp_path: Path, capfd, monkeypatch) -> None:
    path = bad_filter_png16(tmp_path / "scan.png")
    log = tmp_path / "debug.log"
    monkeypatch.setenv("RESTORER_LOG", str(log))
    try:
        code = main(["inpaint", str(path), "-m", str(path), "-o", str(tmp_path / "out.png"), "--model", "telea"])
    finally:
        logging.getLogger("restorer").setLevel(logging.NOTSET)
        for h in list(logging.getLogger("restorer").handlers):
            if getattr(h, "_restorer_debug", False):
                logging.getLogger("restorer").removeHandler(h)
                h.close()
    err = capfd.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "scan.png: not a valid PNG file" in err and "libpng" not in err
    assert "libpng error: bad adaptive filter value" in log.read_text()


def test_the_libraries_keep_their_own_defaults_outside_our_calls(tmp_path: Path) -> None:
    from PIL import Image, PngImagePlugin

    defaults = (PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY, Image.MAX_IMAGE_PIXELS)
    save_photo(Photo(PIXELS16, meta=PhotoMeta("")), tmp_path / "a.png")
    load_photo(tmp_path / "a.png", max_pixels=10_000)
    assert (PngImagePlugin.MAX_TEXT_CHUNK, PngImagePlugin.MAX_TEXT_MEMORY, Image.MAX_IMAGE_PIXELS) == defaults
