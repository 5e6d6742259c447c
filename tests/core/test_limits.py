"""One size limit, in pixels and decoded bytes, checked from the header before decoding; the user raises
either bound; Pillow's own bomb limit follows ours during our loads."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.core import pngchunks
from restorer.core.image import load_photo
from restorer.errors import ImageError


def big_png16_header(path: Path, width: int = 15000, height: int = 15000) -> Path:
    """A PNG whose header says 16-bit RGB at this size; its data are one row (nothing gets that far)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    idat = zlib.compress(bytes(1 + width * 6))
    path.write_bytes(b"".join([pngchunks.SIGNATURE, pngchunks.make_chunk(b"IHDR", ihdr),
                               pngchunks.make_chunk(b"IDAT", idat), pngchunks.make_chunk(b"IEND", b"")]))
    return path


def test_a_15000_square_16bit_png_is_refused_by_bytes_before_decoding(tmp_path: Path, monkeypatch) -> None:
    path = big_png16_header(tmp_path / "huge.png")
    assert 15000 * 15000 < 250_000_000  # the default pixel count alone lets it through

    def no_decoding(*args, **kwargs):
        raise AssertionError("the decoder ran")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(ImageError) as err:
        load_photo(path)
    message = str(err.value)
    assert message.startswith(f"{path}: image is 15000 x 15000 pixels, 3 channels of 16 bits: 1.35 GB decoded")
    assert "--max-bytes" in message and "\n" not in message


def test_the_bytes_bound_counts_channels_and_depth(tmp_path: Path) -> None:
    pixels = np.zeros((100, 100, 3), np.uint8)
    Image.fromarray(pixels).save(tmp_path / "rgb.png")
    assert load_photo(tmp_path / "rgb.png", max_bytes=30_000).pixels.shape == (100, 100, 3)
    with pytest.raises(ImageError, match="--max-bytes"):
        load_photo(tmp_path / "rgb.png", max_bytes=29_999)
    Image.fromarray(pixels[:, :, 0]).save(tmp_path / "gray.png")
    assert load_photo(tmp_path / "gray.png", max_bytes=10_000).channels == 1
    import tifffile

    tifffile.imwrite(tmp_path / "rgb16.tif", pixels.astype(np.uint16), photometric="rgb")
    with pytest.raises(ImageError, match="3 channels of 16 bits"):
        load_photo(tmp_path / "rgb16.tif", max_bytes=59_999)
    assert load_photo(tmp_path / "rgb16.tif", max_bytes=60_000).dtype == np.uint16


def test_the_environment_sets_the_default_for_cli_and_app(tmp_path: Path, monkeypatch) -> None:
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "p.png")
    monkeypatch.setenv("RESTORER_MAX_BYTES", "5K")
    with pytest.raises(ImageError, match="over the limit of 5,000 bytes"):
        load_photo(tmp_path / "p.png")
    monkeypatch.setenv("RESTORER_MAX_BYTES", "6000")
    assert load_photo(tmp_path / "p.png").width == 50


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_gif_and_webp_go_through_our_limit_not_pillows(fmt: str, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / f"p.{fmt.lower()}"
    Image.fromarray(np.full((100, 120, 3), 77, np.uint8)).save(path, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    # Pillow's fixed limit (179 MP) stands for any limit lower than the user's: here 1,000 pixels.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert load_photo(path).pixels.shape == (100, 120, 3)
    assert Image.MAX_IMAGE_PIXELS == 1000  # put back after our load
    for cap in (5000, 1000):  # under 2x (Pillow warns) and over 2x (Pillow raises): our message either way
        with pytest.raises(ImageError) as err:
            load_photo(path, max_pixels=cap)
        message = str(err.value)
        assert f"over the limit of {cap:,}" in message and "--max-pixels" in message, message
        assert "DOS" not in message and "Error" not in message


def test_a_gif_over_twice_the_limit_is_told_in_our_words(tmp_path: Path) -> None:
    # Logical screen 40000 x 40000 (1.6 G pixels), one 1 x 1 frame: Pillow refuses at open, before our check.
    gif = b"GIF89a" + struct.pack("<HH", 40000, 40000) + b"\x80\0\0" + b"\0\0\0\xff\xff\xff"
    gif += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\0" + b"\x02\x02\x44\x01\0" + b"\x3b"
    path = tmp_path / "screen.gif"
    path.write_bytes(gif)
    with pytest.raises(ImageError) as err:
        load_photo(path)
    assert str(err.value) == (f"{path}: image is 1,600,000,000 pixels, over the limit of 250,000,000 that guards "
                              "against decompression bombs; if you trust this file, raise the limit with --max-pixels "
                              "(or RESTORER_MAX_PIXELS)")


def test_cli_max_bytes_raises_the_bound(tmp_path: Path, capsys) -> None:
    path = big_png16_header(tmp_path / "huge.png")
    out = str(tmp_path / "o.png")
    code = main(["inpaint", str(path), "-m", str(path), "-o", out, "--model", "telea", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "--max-bytes" in err and "huge.png" in err
    # raised: the limit lets it through (and the decoder then finds the data cut short)
    code = main(["inpaint", str(path), "-m", str(path), "-o", out, "--model", "telea", "-q", "--max-bytes", "2G"])
    err = capsys.readouterr().err
    assert code == 1 and "over the limit" not in err and "huge.png: not a valid PNG file" in err
    with pytest.raises(SystemExit):
        main(["inpaint", str(path), "-m", str(path), "-o", out, "--max-bytes", "lots"])
    assert "not a size" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("1500000000", 1_500_000_000), ("1.5G", 1_500_000_000), ("800M", 800_000_000),
                                         ("64k", 64_000), ("2GB", 2_000_000_000)])
def test_sizes_take_suffixes(text: str, value: int) -> None:
    from restorer.core import limits

    assert limits.parse_size(text) == value


def test_bad_sizes_are_refused() -> None:
    from restorer.core import limits

    for text in ("", "-5", "0", "1.5X", "lots"):
        with pytest.raises(ValueError):
            limits.parse_size(text)

