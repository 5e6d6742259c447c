"""Photo and mask I/O: lossless round trips, metadata survival, orientation, and every bad input."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps

from restorer.core import codecs, pngchunks
from restorer.core.image import (
    DEFAULT_MAX_PIXELS,
    LOAD_SUFFIXES,
    SAVE_FORMATS,
    Photo,
    PhotoMeta,
    load_photo,
    save_photo,
    to_8bit,
    to_display_rgb8,
)
from restorer.core.atomic import atomic_write
from restorer.core.maskfile import load_mask, save_mask
from restorer.errors import ImageError, MaskError

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def pixels(h: int, w: int, c: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    """Random full-range pixels, with the extreme values present."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    a = rng.integers(0, top + 1, (h, w, c), dtype=dtype)
    a.flat[0], a.flat[-1] = 0, top
    return a


def photo(h=12, w=17, c=3, dtype=np.uint8, alpha=False, **meta) -> Photo:
    al = pixels(h, w, 1, dtype, seed=9)[:, :, 0] if alpha else None
    return Photo(pixels(h, w, c, dtype), al, PhotoMeta(format="", **meta))


def exif_bytes(orientation: int | None = None, **ifd0: str) -> bytes:
    ex = Image.Exif()
    if orientation is not None:
        ex[0x0112] = orientation
    ex[0x010F] = ifd0.get("make", "Restorer Cam")
    ex.get_ifd(0x8769)[0x9003] = "2001:02:03 04:05:06"  # DateTimeOriginal, in the EXIF sub-IFD
    return ex.tobytes()


def read_exif(data: bytes | None) -> Image.Exif:
    ex = Image.Exif()
    ex.load(data or b"")
    return ex


def assert_same(a: Photo, b: Photo) -> None:
    assert a.pixels.dtype == b.pixels.dtype and a.pixels.shape == b.pixels.shape
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert (a.alpha is None) == (b.alpha is None)
    if a.alpha is not None:
        np.testing.assert_array_equal(a.alpha, b.alpha)


def one_line_naming(err: pytest.ExceptionInfo, path: Path) -> str:
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    return msg


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("alpha", [False, True])
def test_lossless_formats_round_trip_every_mode_bit_identically(tmp_path, suffix, dtype, channels, alpha):
    src = photo(c=channels, dtype=dtype, alpha=alpha)
    save_photo(src, tmp_path / f"a{suffix}")
    once = load_photo(tmp_path / f"a{suffix}")
    assert_same(once, src)
    assert once.bit_depth == (16 if dtype == np.uint16 else 8) and once.channels == channels
    save_photo(once, tmp_path / f"b{suffix}")
    assert_same(load_photo(tmp_path / f"b{suffix}"), src)


@pytest.mark.parametrize("channels,alpha", [(1, False), (3, False), (3, True)])
def test_webp_and_bmp_8bit_round_trip(tmp_path, channels, alpha):
    src = photo(c=channels, alpha=alpha)
    save_photo(src, tmp_path / "a.webp")  # new WebP files are lossless
    back = load_photo(tmp_path / "a.webp")
    assert back.meta.extra["lossless"] is True
    # WebP has no gray mode: gray comes back as RGB with equal channels
    np.testing.assert_array_equal(back.pixels, np.repeat(src.pixels, 3 // channels, axis=2))
    if not alpha:
        save_photo(src, tmp_path / "a.bmp")
        assert_same(load_photo(tmp_path / "a.bmp"), src)


def test_lossy_webp_stays_lossy_and_other_pillow_formats_load(tmp_path):
    Image.fromarray(pixels(32, 32, 3)).save(tmp_path / "lossy.webp", quality=50)
    p = load_photo(tmp_path / "lossy.webp")
    assert p.meta.extra["lossless"] is False
    save_photo(p, tmp_path / "again.webp", quality=50)
    assert codecs.webp_is_lossless(tmp_path / "again.webp") is False
    save_photo(photo(), tmp_path / "new.webp")
    assert codecs.webp_is_lossless(tmp_path / "new.webp") is True

    frames = [Image.fromarray(pixels(8, 8, 3, seed=s)).quantize(8) for s in range(2)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    g = load_photo(tmp_path / "a.gif")
    assert g.meta.format == "GIF" and g.channels == 3 and any("first of 2" in n for n in g.meta.extra["notes"])
    Image.fromarray(pixels(5, 7, 1, np.uint16)[:, :, 0]).save(tmp_path / "a.pgm")
    assert load_photo(tmp_path / "a.pgm").pixels.dtype == np.uint16
    assert {".gif", ".pgm", ".tif", ".png", ".jpg"} <= LOAD_SUFFIXES


def test_orientation_reset_in_big_endian_exif_keeps_every_other_byte():
    from restorer.core import exif as exiflib

    ifd = struct.pack(">H", 2) + struct.pack(">HHIHH", 0x010F, 2, 4, 0, 0) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)
    data = b"Exif\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd + b"\0\0\0\0"
    assert exiflib.orientation(data) == 6
    reset = exiflib.with_orientation(data, 1)
    assert exiflib.orientation(reset) == 1 and len(reset) == len(data)
    assert sum(a != b for a, b in zip(reset, data)) == 1
    assert exiflib.orientation(b"Exif\0\0garbage") == 1


def test_jpeg_round_trip_is_close_and_keeps_mode(tmp_path):
    for c in (1, 3):
        src = Photo(np.full((16, 16, c), 100, np.uint8) + np.arange(16, dtype=np.uint8)[:, None, None])
        save_photo(src, tmp_path / "a.jpg")
        back = load_photo(tmp_path / "a.jpg")
        assert back.pixels.shape == src.pixels.shape and back.meta.format == "JPEG"
        assert np.abs(back.pixels.astype(int) - src.pixels).max() <= 3


def test_jpeg_quality_and_444_subsampling(tmp_path):
    save_photo(photo(h=32, w=32), tmp_path / "hi.jpg")
    save_photo(photo(h=32, w=32), tmp_path / "lo.jpg", quality=60)
    from PIL import JpegImagePlugin

    with Image.open(tmp_path / "hi.jpg") as im:
        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4
    with Image.open(tmp_path / "lo.jpg") as im:
        assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
    assert (tmp_path / "lo.jpg").stat().st_size < (tmp_path / "hi.jpg").stat().st_size


@pytest.mark.parametrize("compression", ["none", "lzw", "adobe_deflate", "packbits", "zstd"])
def test_tiff_compression_is_read_and_written_back(tmp_path, compression):
    src = pixels(20, 24, 3, np.uint16)
    predictor = compression in ("lzw", "adobe_deflate", "zstd")
    tifffile.imwrite(tmp_path / "in.tif", src, photometric="rgb", compression=compression, predictor=predictor)
    p = load_photo(tmp_path / "in.tif")
    np.testing.assert_array_equal(p.pixels, src)
    save_photo(p, tmp_path / "out.tif")
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        page = tif.pages.first
        assert page.compression.name.lower() == compression.replace("none", "none")
        np.testing.assert_array_equal(page.asarray(), src)


def test_new_tiff_is_deflate_and_16bit_gray_stays_16bit_gray(tmp_path):
    save_photo(photo(c=1, dtype=np.uint16), tmp_path / "g.tif")
    with tifffile.TiffFile(tmp_path / "g.tif") as tif:
        page = tif.pages.first
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.photometric == tifffile.PHOTOMETRIC.MINISBLACK
        assert page.samplesperpixel == 1 and page.bitspersample == 16


def test_tiff_planar_separate_tiled_multipage_and_min_is_white(tmp_path):
    src = pixels(40, 36, 3, np.uint16)
    tifffile.imwrite(tmp_path / "planar.tif", np.moveaxis(src, -1, 0), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(load_photo(tmp_path / "planar.tif").pixels, src)
    tifffile.imwrite(tmp_path / "tiled.tif", src, photometric="rgb", tile=(16, 16), compression="zlib")
    np.testing.assert_array_equal(load_photo(tmp_path / "tiled.tif").pixels, src)
    with tifffile.TiffWriter(tmp_path / "pages.tif") as tif:
        tif.write(src, photometric="rgb")
        tif.write(src[:8, :8], photometric="rgb")
    p = load_photo(tmp_path / "pages.tif")
    np.testing.assert_array_equal(p.pixels, src)
    assert p.meta.extra["notes"] == ["only the first of 2 pages was read"]
    gray = pixels(10, 12, 1, np.uint8)[:, :, 0]
    tifffile.imwrite(tmp_path / "white.tif", gray, photometric="miniswhite")
    p = load_photo(tmp_path / "white.tif")
    np.testing.assert_array_equal(p.pixels[:, :, 0], 255 - gray)
    assert p.meta.extra["converted_from"] == "MINISWHITE"


def test_tiff_alpha_type_survives(tmp_path):
    src = pixels(8, 9, 4, np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", src, photometric="rgb", extrasamples=["assocalpha"])
    p = load_photo(tmp_path / "a.tif")
    np.testing.assert_array_equal(p.alpha, src[:, :, 3])
    save_photo(p, tmp_path / "b.tif")
    with tifffile.TiffFile(tmp_path / "b.tif") as tif:
        assert tif.pages.first.extrasamples == (tifffile.EXTRASAMPLE.ASSOCALPHA,)
        np.testing.assert_array_equal(tif.pages.first.asarray(), src)


def test_gray_alpha_16bit_png_uses_colour_type_4(tmp_path):
    save_photo(photo(c=1, dtype=np.uint16, alpha=True), tmp_path / "ga.png")
    info = pngchunks.read_info(tmp_path / "ga.png")
    assert (info.bit_depth, info.color_type) == (16, 4)
    with Image.open(tmp_path / "ga.png") as im:  # an independent decoder agrees
        im.load()
        assert im.size == (17, 12)


# ---------------------------------------------------------------- conversions on load


def test_palette_one_bit_and_colour_key_are_converted_with_a_note(tmp_path):
    rgb = pixels(8, 8, 3)
    Image.fromarray(rgb).quantize(16).save(tmp_path / "p.png")
    p = load_photo(tmp_path / "p.png")
    assert p.channels == 3 and p.alpha is None and p.meta.extra["converted_from"] == "P"
    assert p.meta.extra["notes"]

    pal = Image.fromarray(rgb).quantize(16)
    pal.save(tmp_path / "pt.png", transparency=0)
    p = load_photo(tmp_path / "pt.png")
    assert p.alpha is not None and set(np.unique(p.alpha)) <= {0, 255}

    Image.fromarray(pixels(8, 8, 1)[:, :, 0] > 127).save(tmp_path / "bw.png")
    p = load_photo(tmp_path / "bw.png")
    assert p.channels == 1 and p.dtype == np.uint8 and set(np.unique(p.pixels)) <= {0, 255}

    Image.fromarray(rgb).save(tmp_path / "key.png", transparency=tuple(int(v) for v in rgb[0, 0]))
    p = load_photo(tmp_path / "key.png")
    assert p.alpha is not None and p.alpha[0, 0] == 0
    np.testing.assert_array_equal(p.pixels, rgb)


@pytest.mark.parametrize("channels", [1, 3])
def test_16bit_png_colour_key_becomes_alpha(tmp_path, channels):
    src = pixels(9, 11, channels, np.uint16)
    save_photo(Photo(src), tmp_path / "k.png")
    key = src[0, 0]
    trns = struct.pack(f">{channels}H", *(int(v) for v in key))
    data = (tmp_path / "k.png").read_bytes()
    (tmp_path / "k.png").write_bytes(data[:33] + pngchunks.make_chunk(b"tRNS", trns) + data[33:])
    p = load_photo(tmp_path / "k.png")
    np.testing.assert_array_equal(p.pixels, src)
    expected = np.where((src == key).all(axis=2), 0, 65535)
    np.testing.assert_array_equal(p.alpha, expected)
    assert p.meta.extra["converted_from"].endswith("+transparency")


def test_gray_alpha_8bit_is_kept_not_converted(tmp_path):
    la = pixels(8, 8, 2)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    p = load_photo(tmp_path / "la.png")
    assert p.channels == 1 and "converted_from" not in p.meta.extra
    np.testing.assert_array_equal(p.alpha, la[:, :, 1])


def test_cmyk_jpeg_becomes_rgb_and_its_profile_is_dropped(tmp_path):
    cmyk = Image.fromarray(pixels(8, 8, 3)).convert("CMYK")
    fake_cmyk_icc = SRGB[:16] + b"CMYK" + SRGB[20:]
    cmyk.save(tmp_path / "c.jpg", icc_profile=fake_cmyk_icc)
    p = load_photo(tmp_path / "c.jpg")
    assert p.channels == 3 and p.meta.extra["converted_from"] == "CMYK"
    assert p.meta.icc_profile is None and any("profile" in n for n in p.meta.extra["notes"])


# ---------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    Image.fromarray(pixels(6, 10, 3)).save(tmp_path / "o.png", exif=exif_bytes(orientation))
    p = load_photo(tmp_path / "o.png")
    with Image.open(tmp_path / "o.png") as im:
        expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(p.pixels, expected)
    assert p.pixels.flags.c_contiguous


def test_jpeg_orientation_6_is_applied_and_reset_while_other_tags_survive(tmp_path):
    stored = pixels(20, 32, 3)
    Image.fromarray(stored).save(tmp_path / "o.jpg", quality=100, subsampling=0, exif=exif_bytes(6, make="Leica"))
    p = load_photo(tmp_path / "o.jpg")
    assert (p.height, p.width) == (32, 20)  # rotated a quarter turn
    # orientation 6: the stored left column becomes the displayed top row
    assert np.abs(p.pixels[0, :, :].astype(int) - stored[::-1, 0, :]).mean() < 20
    save_photo(p, tmp_path / "out.jpg")
    ex = read_exif(load_photo(tmp_path / "out.jpg").meta.exif)
    assert ex[0x0112] == 1 and ex[0x010F] == "Leica"
    assert ex.get_ifd(0x8769)[0x9003] == "2001:02:03 04:05:06"
    with Image.open(tmp_path / "out.jpg") as im:  # other viewers show it upright too
        assert im.size == (20, 32)


def test_16bit_png_orientation_applied_once_and_tiff_orientation_tag(tmp_path):
    src = pixels(6, 10, 3, np.uint16)
    save_photo(Photo(src, meta=PhotoMeta("", exif=exif_bytes(8))), tmp_path / "o.png")
    # save writes orientation 1, so put 8 back by hand to test the reader
    data = (tmp_path / "o.png").read_bytes()
    tiff = struct.pack("<2sHIH", b"II", 42, 8, 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 8, 0) + b"\0\0\0\0"
    info = pngchunks.read_info(tmp_path / "o.png")
    chunks = pngchunks.metadata_chunks(icc_profile=None, dpi=None, exif=tiff, extra_chunks=info.chunks)
    (tmp_path / "o.png").write_bytes(pngchunks.with_metadata(data, chunks))
    np.testing.assert_array_equal(load_photo(tmp_path / "o.png").pixels, np.rot90(src, 1))

    tifffile.imwrite(tmp_path / "o.tif", src, photometric="rgb", extratags=[(274, 3, 1, 6, True)])
    p = load_photo(tmp_path / "o.tif")
    np.testing.assert_array_equal(p.pixels, np.rot90(src, -1))
    save_photo(p, tmp_path / "o2.tif")
    np.testing.assert_array_equal(load_photo(tmp_path / "o2.tif").pixels, p.pixels)


# ---------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    "suffix,dtype,channels",
    [(".jpg", np.uint8, 3), (".png", np.uint8, 3), (".png", np.uint16, 3), (".tif", np.uint8, 3),
     (".tif", np.uint16, 3), (".webp", np.uint8, 3), (".png", np.uint16, 1)],
)
def test_icc_exif_and_dpi_survive(tmp_path, suffix, dtype, channels):
    icc = SRGB if channels == 3 else None
    src = photo(c=channels, dtype=dtype, icc_profile=icc, exif=exif_bytes(1, make="Nikon"), dpi=(300.0, 600.0))
    save_photo(src, tmp_path / f"a{suffix}")
    back = load_photo(tmp_path / f"a{suffix}")
    assert back.meta.icc_profile == icc
    ex = read_exif(back.meta.exif)
    assert ex[0x010F] == "Nikon" and ex.get_ifd(0x8769)[0x9003] == "2001:02:03 04:05:06"
    if suffix != ".webp":  # WebP has no resolution field
        assert back.meta.dpi == pytest.approx((300.0, 600.0), abs=0.01)
    # and a second generation keeps them too
    save_photo(back, tmp_path / f"b{suffix}")
    again = load_photo(tmp_path / f"b{suffix}")
    assert again.meta.icc_profile == icc and read_exif(again.meta.exif)[0x010F] == "Nikon"


def test_dpi_survives_bmp_and_cm_tiff(tmp_path):
    save_photo(photo(dpi=(150.0, 150.0)), tmp_path / "a.bmp")
    assert load_photo(tmp_path / "a.bmp").meta.dpi == pytest.approx((150.0, 150.0), abs=0.05)
    tifffile.imwrite(tmp_path / "cm.tif", pixels(4, 4, 1)[:, :, 0], resolution=(100, 100), resolutionunit="CENTIMETER")
    assert load_photo(tmp_path / "cm.tif").meta.dpi == pytest.approx((254.0, 254.0))


def test_png_text_and_colour_chunks_survive_8_and_16_bit(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Grandma 1952")
    for dtype in (np.uint8, np.uint16):
        arr = pixels(6, 6, 3, dtype)
        if dtype == np.uint8:
            Image.fromarray(arr).save(tmp_path / "t.png", pnginfo=info)
        else:
            save_photo(Photo(arr), tmp_path / "t.png")
            data = (tmp_path / "t.png").read_bytes()
            text = [(b"tEXt", b"Title\0Grandma 1952"), (b"gAMA", struct.pack(">I", 45455))]
            chunks = pngchunks.metadata_chunks(icc_profile=None, dpi=None, exif=None, extra_chunks=text)
            (tmp_path / "t.png").write_bytes(pngchunks.with_metadata(data, chunks))
        save_photo(load_photo(tmp_path / "t.png"), tmp_path / "u.png")
        with Image.open(tmp_path / "u.png") as im:
            assert im.text["Title"] == "Grandma 1952"
        assert load_photo(tmp_path / "u.png").pixels.dtype == dtype


def test_xmp_survives_between_jpeg_png_tiff_and_webp(tmp_path):
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.fromarray(pixels(8, 8, 3)).save(tmp_path / "x.jpg", xmp=xmp)
    p = load_photo(tmp_path / "x.jpg")
    assert p.meta.extra["xmp"] == xmp
    for suffix in (".jpg", ".tif", ".png", ".webp"):
        save_photo(p, tmp_path / f"y{suffix}")
        q = load_photo(tmp_path / f"y{suffix}")
        assert q.meta.extra["xmp"] == xmp
        save_photo(q, tmp_path / f"z{suffix}")  # second generation: one packet, not two
        assert load_photo(tmp_path / f"z{suffix}").meta.extra["xmp"] == xmp
    with Image.open(tmp_path / "z.png") as im:
        assert im.info["XML:com.adobe.xmp"] == xmp.decode()
    assert (tmp_path / "z.png").read_bytes().count(b"XML:com.adobe.xmp") == 1


# ---------------------------------------------------------------- saving rules


def test_16bit_to_8bit_formats_refused_unless_allowed_then_rounded(tmp_path):
    src = Photo(np.arange(65536, dtype=np.uint16).reshape(256, 256, 1))
    for suffix in (".jpg", ".webp", ".bmp"):
        with pytest.raises(ImageError, match="8 bits") as err:
            save_photo(src, tmp_path / f"a{suffix}")
        assert ".png or .tif" in one_line_naming(err, tmp_path / f"a{suffix}")
        assert not (tmp_path / f"a{suffix}").exists()
    save_photo(src, tmp_path / "a.bmp", allow_8bit=True)
    expected = ((src.pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    np.testing.assert_array_equal(load_photo(tmp_path / "a.bmp").pixels, expected)


def test_alpha_to_jpeg_refused_unless_dropped(tmp_path):
    src = photo(alpha=True)
    with pytest.raises(ImageError, match="transparency") as err:
        save_photo(src, tmp_path / "a.jpg")
    one_line_naming(err, tmp_path / "a.jpg")
    save_photo(src, tmp_path / "a.jpg", drop_alpha=True)
    assert load_photo(tmp_path / "a.jpg").alpha is None


def test_unknown_suffix_missing_folder_and_unwritable_targets(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    cases = {
        tmp_path / "a.xyz": "unknown output type",
        tmp_path / "a": "unknown output type",
        tmp_path / "nope" / "a.png": "does not exist",
        tmp_path / "file.txt" / "a.png": "does not exist",
    }
    for target, expected in cases.items():
        with pytest.raises(ImageError, match=expected) as err:
            save_photo(photo(), target)
        one_line_naming(err, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
    os.mkdir(tmp_path / "dir.png")
    with pytest.raises(ImageError, match="folder"):
        save_photo(photo(), tmp_path / "dir.png")


def test_unwritable_folder_gets_a_clear_message(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # running as root: permissions do not bind, so refuse like the OS would
        real_open = os.open

        def refusing_open(path, *args, **kwargs):
            if Path(path).parent == folder:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    try:
        with pytest.raises(ImageError, match="Permission denied") as err:
            save_photo(photo(), folder / "a.png")
        one_line_naming(err, folder / "a.png")
    finally:
        monkeypatch.undo()
        folder.chmod(0o700)
    assert list(folder.iterdir()) == []


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"old contents")

    def broken(path, enc):
        Path(path).write_bytes(b"\x89PNG partial")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(__import__("restorer.core.image", fromlist=["_WRITERS"])._WRITERS, "PNG", broken)
    with pytest.raises(ImageError, match="disk on fire") as err:
        save_photo(photo(), target)
    one_line_naming(err, target)
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_atomic_write_replaces_whole_file_keeps_permissions_and_wraps_oserror(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write(target, lambda p: p.write_bytes(b"new"))
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o640

    def fails(p: Path) -> None:
        raise PermissionError(13, "Permission denied")

    with pytest.raises(ImageError, match="Permission denied"):
        atomic_write(target, fails)
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_save_formats_cover_the_writers():
    assert set(SAVE_FORMATS.values()) == {"JPEG", "PNG", "TIFF", "WEBP", "BMP"}
    assert DEFAULT_MAX_PIXELS == 250_000_000


# ---------------------------------------------------------------- bad input


def truncated_copies(tmp_path: Path) -> list[Path]:
    out = []
    for name, arr in [("a.jpg", pixels(64, 64, 3)), ("a.png", pixels(64, 64, 3)),
                      ("b.png", pixels(64, 64, 3, np.uint16)), ("a.tif", pixels(64, 64, 3, np.uint16)),
                      ("a.webp", pixels(64, 64, 3)), ("a.bmp", pixels(64, 64, 3))]:
        save_photo(Photo(arr), tmp_path / name)
        cut = tmp_path / f"cut-{name}"
        data = (tmp_path / name).read_bytes()
        cut.write_bytes(data[: len(data) * 2 // 3])
        out.append(cut)
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, pixels(64, 64, 3, np.uint16), photometric="rgb")
    (tmp_path / "cut-raw.tif").write_bytes(raw.read_bytes()[:20000])
    out.append(tmp_path / "cut-raw.tif")
    return out


def test_truncated_files_are_refused(tmp_path):
    for cut in truncated_copies(tmp_path):
        with pytest.raises(ImageError) as err:
            load_photo(cut)
        one_line_naming(err, cut)


def test_corrupt_data_is_refused_or_decoded_never_a_raw_exception(tmp_path):
    formats = [("a.png", np.uint8), ("b.png", np.uint16), ("a.tif", np.uint16), ("a.jpg", np.uint8),
               ("a.webp", np.uint8)]
    for name, dtype in formats:
        save_photo(Photo(pixels(64, 64, 3, dtype)), tmp_path / name)
        data = bytearray((tmp_path / name).read_bytes())
        mid = len(data) // 2
        data[mid : mid + 64] = bytes(64)
        (tmp_path / name).write_bytes(bytes(data))
        if name.endswith((".jpg", ".webp")):
            # JPEG and WebP carry no checksum: zeroed entropy data may still decode
            try:
                load_photo(tmp_path / name)
            except ImageError as e:
                assert str(tmp_path / name) in str(e)
            continue
        with pytest.raises(ImageError) as err:
            load_photo(tmp_path / name)
        one_line_naming(err, tmp_path / name)


def test_damaged_16bit_png_gets_one_clear_message_and_no_decoder_noise(tmp_path, capfd):
    save_photo(Photo(pixels(64, 64, 3, np.uint16)), tmp_path / "d.png")
    data = bytearray((tmp_path / "d.png").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "d.png").write_bytes(bytes(data))
    with pytest.raises(ImageError, match="damaged") as err:
        load_photo(tmp_path / "d.png")
    one_line_naming(err, tmp_path / "d.png")
    assert capfd.readouterr().err == ""  # libpng would print to the process's stderr


def test_png_without_end_marker_is_truncated(tmp_path):
    save_photo(photo(), tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data.endswith(pngchunks.make_chunk(b"IEND", b""))
    (tmp_path / "a.png").write_bytes(data[:-12])
    with pytest.raises(ImageError, match="truncated"):
        load_photo(tmp_path / "a.png")


@pytest.mark.parametrize(
    "content,expected",
    [(None, "not found"), (b"", "empty"), (b"hello, I am text\n" * 10, "not an image"),
     ("dir", "folder")],
)
def test_missing_empty_text_and_folder_inputs(tmp_path, content, expected):
    path = tmp_path / "in.png"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageError, match=expected) as err:
        load_photo(path)
    one_line_naming(err, path)


def test_zero_size_png_is_refused(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 0, 10, 8, 0, 0, 0, 0)
    data = b"".join([pngchunks.SIGNATURE, pngchunks.make_chunk(b"IHDR", ihdr),
                     pngchunks.make_chunk(b"IDAT", zlib.compress(b"")), pngchunks.make_chunk(b"IEND", b"")])
    (tmp_path / "z.png").write_bytes(data)
    with pytest.raises(ImageError, match="zero size") as err:
        load_photo(tmp_path / "z.png")
    one_line_naming(err, tmp_path / "z.png")


@pytest.mark.parametrize("suffix", [".png", ".tif", ".jpg", ".bmp"])
def test_decompression_bomb_is_refused_before_decoding_and_limit_can_be_raised(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    save_photo(Photo(np.zeros((100, 100, 1), np.uint8)), path)
    with pytest.raises(ImageError, match="--max-pixels") as err:
        load_photo(path, max_pixels=9_999)
    one_line_naming(err, path)
    assert load_photo(path, max_pixels=10_000).width == 100


def test_pillow_global_limit_does_not_apply(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow's own guard; ours is max_pixels
    save_photo(Photo(np.zeros((30, 30, 3), np.uint8)), tmp_path / "a.jpg")
    assert load_photo(tmp_path / "a.jpg").width == 30


def test_float_tiff_is_refused_with_a_message(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", np.zeros((4, 4), np.float32))
    with pytest.raises(ImageError, match="floating point") as err:
        load_photo(tmp_path / "f.tif")
    one_line_naming(err, tmp_path / "f.tif")


def test_tiff_kinds_tifffile_does_not_map_go_through_pillow_with_a_note(tmp_path):
    rgb = pixels(8, 10, 3)
    Image.fromarray(rgb).quantize(8).save(tmp_path / "p.tif")
    Image.fromarray(rgb[:, :, 0] > 100).save(tmp_path / "bw.tif")
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "cmyk.tif", compression="tiff_lzw", dpi=(400, 400))
    for name, mode, channels in [("p", "P", 3), ("bw", "1", 1), ("cmyk", "CMYK", 3)]:
        p = load_photo(tmp_path / f"{name}.tif")
        assert p.channels == channels and p.dtype == np.uint8 and p.meta.extra["converted_from"] == mode
        assert p.meta.extra["notes"] == [f"converted from {mode} to {'L' if channels == 1 else 'RGB'}"]
        assert p.meta.format == "TIFF"
    assert p.meta.dpi == (400.0, 400.0)
    save_photo(p, tmp_path / "again.tif")  # LZW kept
    with tifffile.TiffFile(tmp_path / "again.tif") as tif:
        assert tif.pages.first.compression == tifffile.COMPRESSION.LZW


def test_suffix_does_not_decide_the_reader(tmp_path):
    save_photo(photo(dtype=np.uint16), tmp_path / "a.png")
    os.replace(tmp_path / "a.png", tmp_path / "a.jpg")
    p = load_photo(tmp_path / "a.jpg")
    assert p.meta.format == "PNG" and p.bit_depth == 16


# ---------------------------------------------------------------- masks


def test_mask_from_gray_rgb_and_16bit_images(tmp_path):
    hole = np.zeros((10, 14), bool)
    hole[2:5, 3:9] = True
    for arr in (np.where(hole, 255, 0).astype(np.uint8)[:, :, None],
                np.repeat(np.where(hole, 200, 30).astype(np.uint8)[:, :, None], 3, axis=2),
                np.where(hole, 65535, 0).astype(np.uint16)[:, :, None]):
        save_photo(Photo(arr), tmp_path / "m.png")
        got = load_mask(tmp_path / "m.png", (10, 14))
        assert got.dtype == bool
        np.testing.assert_array_equal(got, hole)


def test_mask_from_alpha_of_a_flat_colour_layer(tmp_path):
    hole = np.zeros((10, 14), bool)
    hole[4:, :2] = True
    layer = Photo(np.zeros((10, 14, 3), np.uint8), np.where(hole, 128, 0).astype(np.uint8))
    save_photo(layer, tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png", (10, 14, 3)), hole)


def test_mask_size_mismatch_names_both_sizes(tmp_path):
    save_mask(np.zeros((10, 14), bool), tmp_path / "m.png")
    with pytest.raises(MaskError) as err:
        load_mask(tmp_path / "m.png", (20, 30))
    msg = one_line_naming(err, tmp_path / "m.png")
    assert "14 x 10" in msg and "30 x 20" in msg


def test_save_mask_writes_8bit_png_255_is_hole(tmp_path):
    hole = np.random.default_rng(1).random((9, 11)) > 0.5
    save_mask(hole, tmp_path / "m.png")
    with Image.open(tmp_path / "m.png") as im:
        assert im.mode == "L"
        np.testing.assert_array_equal(np.asarray(im), np.where(hole, 255, 0))
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png", hole.shape), hole)
    with pytest.raises(ImageError, match="PNG"):
        save_mask(hole, tmp_path / "m.jpg")


# ---------------------------------------------------------------- display and the Photo type


def test_to_8bit_is_exact_rounding_for_every_value():
    v = np.arange(65536, dtype=np.uint16)
    np.testing.assert_array_equal(to_8bit(v), ((v.astype(np.uint32) + 128) // 257).astype(np.uint8))
    assert to_8bit(np.array([65535, 32767, 32768, 128, 129], np.uint16)).tolist() == [255, 127, 128, 0, 1]


def test_to_display_rgb8_shapes_and_copies():
    gray16 = pixels(5, 6, 1, np.uint16)
    out = to_display_rgb8(gray16)
    assert out.shape == (5, 6, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[:, :, 1], to_8bit(gray16[:, :, 0]))
    assert (out[:, :, 0] == out[:, :, 2]).all()
    rgb8 = pixels(5, 6, 3)
    out = to_display_rgb8(rgb8)
    np.testing.assert_array_equal(out, rgb8)
    out[0, 0] = 1
    assert not np.shares_memory(out, rgb8)
    np.testing.assert_array_equal(to_display_rgb8(pixels(5, 6, 3, np.uint16))[..., 0],
                                  to_8bit(pixels(5, 6, 3, np.uint16)[..., 0]))
    strided = pixels(20, 30, 3, np.uint16)[::2, ::3]  # views from the UI's pyramid
    np.testing.assert_array_equal(to_display_rgb8(strided), to_8bit(np.ascontiguousarray(strided)))
    assert to_display_rgb8(np.zeros((0, 4, 1), np.uint16)).shape == (0, 4, 3)


def test_photo_checks_its_arrays_and_with_pixels_keeps_metadata():
    with pytest.raises(ValueError):
        Photo(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        Photo(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        Photo(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint16))
    p = photo(dtype=np.uint16, alpha=True, dpi=(72.0, 72.0), extra={"k": 1})
    q = p.with_pixels(np.zeros_like(p.pixels))
    assert q.alpha is p.alpha and q.meta.dpi == (72.0, 72.0) and q.bit_depth == 16
    q.meta.extra["k"] = 2
    assert p.meta.extra["k"] == 1
    assert (p.height, p.width, p.channels, p.dtype) == (12, 17, 3, np.uint16)


def test_loading_a_large_tiff_needs_about_its_own_size(tmp_path):
    src = np.zeros((1000, 1500, 4), np.uint16)
    src[::7, ::3] = 40000
    tifffile.imwrite(tmp_path / "big.tif", src, photometric="rgb", extrasamples=["unassalpha"],
                     compression="adobe_deflate")
    tracemalloc.start()
    p = load_photo(tmp_path / "big.tif")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2.2 * src.nbytes
    np.testing.assert_array_equal(p.alpha, src[:, :, 3])
