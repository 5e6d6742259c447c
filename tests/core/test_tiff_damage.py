"""Damaged TIFF directories are refused with one plain line, never decoded into uninitialised memory."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from restorer.core.image import load_photo
from restorer.errors import ImageError


def _noise(shape: tuple[int, ...], dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(1, np.iinfo(dtype).max, shape, dtype=dtype)


def _entry(path: Path, code: int, page: int = 0) -> tuple[int, str]:
    """File offset of a tag's 12-byte directory entry in ``page``, and the byte order."""
    with tifffile.TiffFile(path) as tif:
        return tif.pages[page].tags[code].offset, tif.byteorder


def _patch_value(path: Path, code: int, value: int, page: int = 0) -> None:
    """Overwrite an inline SHORT or LONG tag value (what a bit flip in a directory does)."""
    offset, order = _entry(path, code, page)
    data = bytearray(path.read_bytes())
    kind = struct.unpack_from(order + "H", data, offset + 2)[0]
    struct.pack_into(order + ("H" if kind == 3 else "I"), data, offset + 8, value)
    path.write_bytes(bytes(data))


def _refused(path: Path, *words: str) -> str:
    with pytest.raises(ImageError) as info:
        load_photo(path)
    message = str(info.value)
    assert "\n" not in message and path.name in message
    for word in words:
        assert word in message
    return message


def test_unknown_planar_configuration_in_rgb_lzw_is_refused(tmp_path: Path) -> None:
    # The audit's case: two of three colour planes came out as heap memory, exit 0.
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, _noise((40, 50, 3)), photometric="rgb", compression="lzw")
    _patch_value(path, 284, 65520)
    _refused(path, "planar configuration", "65520")


def test_rows_per_strip_that_needs_more_strips_than_exist_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, _noise((40, 30, 3), np.uint16), photometric="rgb", compression="zlib", rowsperstrip=8)
    _patch_value(path, 278, 4)  # the directory now claims 10 strips; the file has 5
    _refused(path, "strips")


def test_tile_size_that_does_not_match_the_tile_count_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiled16.tif"
    tifffile.imwrite(path, _noise((64, 64), np.uint16), tile=(32, 32), compression="zlib")
    _patch_value(path, 322, 16)  # 16-wide tiles would need 8 of them; 4 are stored
    _refused(path, "tiles")


def test_uncompressed_strip_shorter_than_the_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.tif"
    tifffile.imwrite(path, _noise((20, 20, 3)), photometric="rgb")
    _patch_value(path, 279, 100)  # 1,200 bytes needed
    _refused(path, "incomplete")


def test_empty_strip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty-strip.tif"
    tifffile.imwrite(path, _noise((20, 20)), compression="lzw")
    _patch_value(path, 279, 0)
    _refused(path, "incomplete")


def test_damaged_first_directory_of_a_multipage_tiff_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tw:
        for k in range(3):
            tw.write(_noise((24, 24, 3), np.uint16, seed=k), photometric="rgb", compression="zlib")
    _patch_value(path, 284, 7)
    _refused(path, "planar configuration")


def test_unknown_extra_sample_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "extra.tif"
    tifffile.imwrite(path, _noise((16, 16, 4)), photometric="rgb", extrasamples=[2])
    _patch_value(path, 338, 9)
    _refused(path, "extra-sample")


@pytest.mark.parametrize(
    "kind",
    ["contig-lzw", "separate-zlib", "tiled-16", "strips-big-endian", "pillow-cmyk", "pillow-palette", "pillow-1bit"],
)
def test_intact_tiffs_of_every_layout_still_load_exactly(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.tif"
    rgb = _noise((37, 29, 3))
    if kind == "contig-lzw":
        tifffile.imwrite(path, rgb, photometric="rgb", compression="lzw", rowsperstrip=5)
    elif kind == "separate-zlib":
        tifffile.imwrite(path, np.moveaxis(rgb, -1, 0), photometric="rgb", planarconfig="separate",
                         compression="zlib", rowsperstrip=6)
    elif kind == "tiled-16":
        rgb = _noise((37, 29, 3), np.uint16)
        tifffile.imwrite(path, rgb, photometric="rgb", tile=(16, 16))
    elif kind == "strips-big-endian":
        tifffile.imwrite(path, rgb, photometric="rgb", byteorder=">", rowsperstrip=4)
    elif kind == "pillow-cmyk":
        Image.fromarray(rgb).convert("CMYK").save(path, compression="tiff_lzw")
        rgb = np.asarray(Image.open(path).convert("RGB"))
    elif kind == "pillow-palette":
        im = Image.fromarray(rgb).quantize(16)
        im.save(path)
        rgb = np.asarray(im.convert("RGB"))
    else:
        im = Image.fromarray(rgb[:, :, 0] > 128)
        im.save(path, compression="group4")
        rgb = np.asarray(im.convert("L"))[:, :, None]
    assert np.array_equal(load_photo(path).pixels, rgb)


def test_cli_refuses_a_damaged_tiff_with_one_line_and_no_output(tmp_path: Path, capsys) -> None:
    from restorer.cli import main

    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, _noise((40, 50, 3)), photometric="rgb", compression="lzw")
    _patch_value(path, 284, 65520)
    Image.fromarray(np.full((40, 50), 255, np.uint8)).save(tmp_path / "m.png")
    code = main(["inpaint", str(path), "-m", str(tmp_path / "m.png"), "-o", str(tmp_path / "out.tif"),
                 "--model", "telea"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "planar.tif" in err
    assert "raised" not in err and "Traceback" not in err  # tifffile's own log lines stay out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "planar.tif"]
