"""JPEG masters: a repaired JPEG saved as JPEG keeps every DCT block outside the fill's MCUs, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import jpeglib
import numpy as np
import pytest
from PIL import Image, ImageCms

from restorer.core import exif as exiflib
from restorer.core import image, iptc, jpegmaster, provenance
from restorer.errors import ImageError


def _scene(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth gradients with noise: every block has AC energy, as a scan has."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = [128 + 90 * np.sin(xx / (9 + 3 * k)) * np.cos(yy / (13 + 2 * k)) for k in range(channels)]
    px = np.stack(chans, -1) + rng.normal(0, 6, (h, w, channels))
    return np.clip(px, 0, 255).round().astype(np.uint8)


def _jpeg(path: Path, px: np.ndarray, **kw) -> Path:
    Image.fromarray(px[:, :, 0] if px.shape[2] == 1 else px).save(path, **kw)
    return path


def _planes(path: Path) -> tuple[list[np.ndarray], object]:
    dct = jpeglib.read_dct(str(path))
    return [np.array(dct.Y)] + ([np.array(dct.Cb), np.array(dct.Cr)] if dct.has_chrominance else []), dct


def _mcu_of(dct) -> tuple[int, int]:
    samp = np.asarray(dct.samp_factor).reshape(-1, 2)
    if dct.num_components == 1:
        return 8, 8
    return 8 * int(samp[:, 0].max()), 8 * int(samp[:, 1].max())


def _touched_mcus(changed: np.ndarray, mcu: tuple[int, int]) -> np.ndarray:
    """The test's own count of which MCUs hold a changed pixel (stored orientation)."""
    my, mx = mcu
    rows, cols = -(-changed.shape[0] // my), -(-changed.shape[1] // mx)
    out = np.zeros((rows, cols), bool)
    for y, x in zip(*np.nonzero(changed), strict=True):
        out[y // my, x // mx] = True
    return out


def _check_blocks(src: Path, out: Path, changed_stored: np.ndarray) -> np.ndarray:
    """Assert the DCT promise; returns the touched MCUs' pixel mask (stored orientation)."""
    src_planes, s = _planes(src)
    out_planes, o = _planes(out)
    assert np.array_equal(s.qt, o.qt) and np.array_equal(s.quant_tbl_no, o.quant_tbl_no)
    assert np.array_equal(s.samp_factor, o.samp_factor) and (s.height, s.width) == (o.height, o.width)
    assert o.jpeg_color_space == s.jpeg_color_space
    mcu = _mcu_of(s)
    touched = _touched_mcus(changed_stored, mcu)
    samp = np.ones((1, 2), int) if s.num_components == 1 else np.asarray(s.samp_factor).reshape(-1, 2)
    differing = 0
    for a, b, (v, h) in zip(src_planes, out_planes, samp, strict=True):
        assert a.shape == b.shape
        by, bx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
        inside = touched[by // v, bx // h]
        same = np.all(a == b, axis=(2, 3))
        assert same[~inside].all(), f"{(~same & ~inside).sum()} blocks outside the fill's MCUs changed"
        differing += int((~same).sum())
    assert differing > 0, "the fill changed no block at all"
    pixels = np.zeros(changed_stored.shape, bool)
    for r, c in zip(*np.nonzero(touched), strict=True):
        pixels[r * mcu[0] : (r + 1) * mcu[0], c * mcu[1] : (c + 1) * mcu[1]] = True
    return pixels


def _decoded(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        px = np.asarray(im)
    return px[:, :, None] if px.ndim == 2 else px


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            out |= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


KINDS = {
    "444": {"quality": 92, "subsampling": 0},
    "422": {"quality": 85, "subsampling": 1},
    "420": {"quality": 80, "subsampling": 2},
    "420-progressive": {"quality": 80, "subsampling": 2, "progressive": True},
    "gray": {"quality": 88},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_only_the_fills_mcus_are_re_encoded(tmp_path: Path, kind: str) -> None:
    channels = 1 if kind == "gray" else 3
    src = _jpeg(tmp_path / "in.jpg", _scene(123, 171, channels), **KINDS[kind])
    photo = image.load_photo(src)
    px = photo.pixels.copy()
    px[41:63, 50:77] = np.linspace(60, 200, 27).astype(np.uint8)[None, :, None]  # a gray ramp "fill"
    changed = np.any(px != photo.pixels, axis=2)
    notes, report = jpegmaster.save(photo.with_pixels(px), tmp_path / "out.jpg")
    assert report is not None and any("JPEG master" in n for n in notes)

    touched_px = _check_blocks(src, tmp_path / "out.jpg", changed)
    s = jpeglib.read_dct(str(src))
    assert report.mcus_reencoded == int(_touched_mcus(changed, _mcu_of(s)).sum())
    assert report.progressive_source == ("progressive" in kind)

    out = _decoded(tmp_path / "out.jpg")
    original = photo.pixels
    # The fill decodes as close to the new pixels as a whole-photo encode at the source's tables and
    # sampling does (one quantisation's error; the reference comes from libjpeg directly).
    ref = jpeglib.from_spatial(np.ascontiguousarray(px))
    ref.samp_factor = s.samp_factor
    ref.write_spatial(str(tmp_path / "ref.jpg"), qt=s.qt, quant_tbl_no=s.quant_tbl_no)
    ref_err = np.abs(_decoded(tmp_path / "ref.jpg")[changed].astype(int) - px[changed].astype(int)).mean()
    err = np.abs(out[changed].astype(int) - px[changed].astype(int)).mean()
    assert err <= 1.05 * ref_err + 0.1 and err < 8, (err, ref_err)
    # Decoded pixels outside the touched MCUs are the original's decode; with subsampled chroma the
    # decoder's upsampling blends one pixel across an MCU's edge, so one ring more is excluded there.
    ring = 0 if kind in ("444", "gray") else 1
    keep = ~_grow(touched_px, ring)
    assert np.array_equal(out[keep], original[keep])


def test_an_untouched_photo_keeps_every_block(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(64, 80), quality=75, subsampling=2)
    photo = image.load_photo(src)
    _, report = jpegmaster.save(photo, tmp_path / "out.jpg")
    assert report is not None and report.mcus_reencoded == 0 and report.blocks_reencoded == 0
    for a, b in zip(_planes(src)[0], _planes(tmp_path / "out.jpg")[0], strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(_decoded(tmp_path / "out.jpg"), photo.pixels)


def test_the_full_re_encode_is_still_there(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(96, 128), quality=80, subsampling=2)
    photo = image.load_photo(src)
    notes, report = jpegmaster.save(photo, tmp_path / "out.jpg", reencode=True)  # at quality 95, 4:4:4
    assert report is None and not any("JPEG master" in n for n in notes)
    assert not np.array_equal(jpeglib.read_dct(str(src)).qt, jpeglib.read_dct(str(tmp_path / "out.jpg")).qt)
    changed = np.any(_decoded(tmp_path / "out.jpg") != photo.pixels, axis=2)
    assert changed.mean() > 0.1  # what the issue measured: a full re-encode moves many pixels


@pytest.mark.parametrize("turn", range(1, 9))
def test_undo_orientation_is_the_inverse(turn: int) -> None:
    a = np.arange(3 * 5).reshape(3, 5)
    upright = exiflib.apply_orientation(a, turn)
    assert np.array_equal(exiflib.apply_orientation(upright, jpegmaster._UNDO.get(turn, turn)), a)


def test_orientation_is_kept_as_a_tag(tmp_path: Path) -> None:
    stored = _scene(72, 112)  # landscape as stored; orientation 6 shows it as a 72-wide portrait
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "RestorerTestCam"
    src = _jpeg(tmp_path / "in.jpg", stored, quality=85, subsampling=2, exif=exif.tobytes())
    photo = image.load_photo(src)
    assert photo.pixels.shape[:2] == (112, 72)
    px = photo.pixels.copy()
    px[10:30, 40:60] = 128  # upright coordinates
    changed_upright = np.any(px != photo.pixels, axis=2)
    _, report = jpegmaster.save(photo.with_pixels(px), tmp_path / "out.jpg")
    assert report is not None

    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == (112, 72)  # still stored landscape: the rotation was not baked in
        assert out.getexif().get(0x0112) == 6 and out.getexif().get(0x010F) == "RestorerTestCam"
    changed_stored = exiflib.apply_orientation(changed_upright, 8)
    touched = _check_blocks(src, tmp_path / "out.jpg", changed_stored)
    again = image.load_photo(tmp_path / "out.jpg")  # core turns it upright, as it did the source
    keep = ~exiflib.apply_orientation(_grow(touched, 1), 6)
    assert again.pixels.shape == px.shape and np.array_equal(again.pixels[keep], photo.pixels[keep])


def _metadata_source(path: Path) -> Path:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "RestorerTestCam"
    exif[0x0131] = "scanner 1.0"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/jpeg"/></rdf:RDF></x:xmpmeta>')
    Image.fromarray(_scene(80, 96)).save(path, quality=90, subsampling=0, icc_profile=icc, exif=exif.tobytes(),
                                         xmp=xmp, dpi=(600, 600))
    caption = b"\x1c\x02\x78\x00\x0dA damaged pic"
    data = path.read_bytes()
    path.write_bytes(iptc.insert_segments(data, iptc.app13_segments(iptc.irb_with(None, caption) or b"")))
    return path


def _app_segments(path: Path) -> bytes:
    data = path.read_bytes()
    return data[2 : iptc.app_segments_end(data)]


def test_metadata_survive_as_a_full_save_keeps_them(tmp_path: Path) -> None:
    src = _metadata_source(tmp_path / "in.jpg")
    photo = image.load_photo(src)
    px = photo.pixels.copy()
    px[20:30, 20:40] = 90
    filled = photo.with_pixels(px)
    jpegmaster.save(filled, tmp_path / "master.jpg")
    image.save_photo(filled, tmp_path / "full.jpg")
    # The same metadata segments as core's full JPEG save, byte for byte (JFIF, EXIF, XMP, ICC, APP13).
    assert _app_segments(tmp_path / "master.jpg") == _app_segments(tmp_path / "full.jpg")
    with Image.open(src) as a, Image.open(tmp_path / "master.jpg") as b:
        for key in ("icc_profile", "exif", "xmp", "dpi"):
            assert a.info.get(key) and a.info.get(key) == b.info.get(key), key
    again = image.load_photo(tmp_path / "master.jpg")
    assert again.meta.extra.get("iptc") == photo.meta.extra.get("iptc") is not None
    _check_blocks(src, tmp_path / "master.jpg", np.any(px != photo.pixels, axis=2))


def test_the_apps_save_records_the_master_in_the_sidecar(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(64, 64), quality=85, subsampling=0)
    photo = image.load_photo(src)
    px = photo.pixels.copy()
    px[8:12, 8:12] = 0
    out = tmp_path / "out.jpg"
    notes = provenance.save_with_provenance(photo.with_pixels(px), out, provenance.SaveProvenance([], 0, False))
    record = json.loads(provenance.sidecar_path(out).read_text())
    assert record["jpeg_master"]["mcus_reencoded"] == 1 and record["jpeg_master"]["mcus"] == 64
    assert any("1 of 64 MCUs" in n for n in notes)
    _check_blocks(src, out, np.any(px != photo.pixels, axis=2))


def test_restart_markers_in_the_source(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(80, 120), quality=85, subsampling=2, restart_marker_blocks=3)
    assert b"\xff\xdd" in src.read_bytes()  # a DRI segment: the source has restart markers
    photo = image.load_photo(src)
    px = photo.pixels.copy()
    px[20:40, 30:50] = 77
    _, report = jpegmaster.save(photo.with_pixels(px), tmp_path / "out.jpg")
    assert report is not None
    _check_blocks(src, tmp_path / "out.jpg", np.any(px != photo.pixels, axis=2))


def test_sources_it_cannot_keep_are_re_encoded_with_a_note(tmp_path: Path) -> None:
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(_scene(32, 32, 4)[:, :, :4], "CMYK").save(cmyk, quality=90)
    photo = image.load_photo(cmyk)  # core turns CMYK into RGB
    notes, report = jpegmaster.save(photo, tmp_path / "out.jpg")
    assert report is None and any("not as a JPEG master" in n and "CMYK" in n for n in notes)
    # An orientation whose EXIF block is not written: the pixels must be turned, so a full save.
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = _jpeg(tmp_path / "turned.jpg", _scene(32, 48), quality=90, exif=exif.tobytes())
    photo = image.load_photo(turned)
    photo.meta.exif = None
    notes, report = jpegmaster.save(photo, tmp_path / "upright.jpg")
    assert report is None and any("orientation" in n for n in notes)
    with Image.open(tmp_path / "upright.jpg") as out:
        assert out.size == (32, 48)


# --- bad input -----------------------------------------------------------------------------------


def test_a_truncated_source_is_refused_in_one_line(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(64, 64), quality=85)
    photo = image.load_photo(src)
    src.write_bytes(src.read_bytes()[:700])  # cut short after the photo was opened
    with pytest.raises(jpegmaster.MasterRefused) as info:
        jpegmaster.write_master(photo, tmp_path / "out.jpg")
    message = str(info.value)
    assert "in.jpg" in message and "\n" not in message
    assert not (tmp_path / "out.jpg").exists()
    # save() still saves, in full, and says why.
    notes, report = jpegmaster.save(photo, tmp_path / "out.jpg")
    assert report is None and any("not as a JPEG master" in n and "in.jpg" in n for n in notes)
    assert _decoded(tmp_path / "out.jpg").shape == photo.pixels.shape


def test_a_size_mismatch_is_refused_in_one_line(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(64, 64), quality=85)
    photo = image.load_photo(src)
    other = image.Photo(np.zeros((48, 64, 3), np.uint8), None, photo.meta, photo.path)
    with pytest.raises(jpegmaster.MasterRefused, match=r"in\.jpg: the source JPEG is now 64 x 64 pixels.*64 x 48"):
        jpegmaster.write_master(other, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_only_jpeg_to_jpeg_is_a_master(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "in.jpg", _scene(32, 32), quality=85)
    photo = image.load_photo(src)
    notes, report = jpegmaster.save(photo, tmp_path / "out.png")
    assert report is None and np.array_equal(image.load_photo(tmp_path / "out.png").pixels, photo.pixels)
    png = image.load_photo(tmp_path / "out.png")
    assert jpegmaster.unusable(png, tmp_path / "x.jpg") == "not JPEG to JPEG"
    with pytest.raises(ImageError):
        jpegmaster.write_master(png.with_pixels(png.pixels), tmp_path / "x.jpg")


# --- the command line ----------------------------------------------------------------------------


def test_cli_inpaint_writes_a_master(tmp_path: Path, capsys) -> None:
    from restorer.cli import main

    src = _jpeg(tmp_path / "x.jpg", _scene(96, 144), quality=82, subsampling=2)
    mask = np.zeros((96, 144), bool)
    mask[30:42, 50:70] = True
    Image.fromarray((mask * 255).astype(np.uint8)).save(tmp_path / "m.png")
    code = main(["inpaint", str(src), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "out.jpg"),
                 "--model", "telea", "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "JPEG master" in err
    changed = np.any(_decoded(tmp_path / "out.jpg") != image.load_photo(src).pixels, axis=2)
    _check_blocks(src, tmp_path / "out.jpg", mask)  # the engine changed nothing outside the mask
    assert changed.mean() < 0.1
    sidecar = json.loads(provenance.sidecar_path(tmp_path / "out.jpg").read_text())
    assert any("MCUs re-encoded" in n for n in sidecar["notes"])

    code = main(["inpaint", str(src), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "full.jpg"),
                 "--model", "telea", "-q", "--jpeg-reencode"])
    assert code == 0, capsys.readouterr().err
    changed_full = np.any(_decoded(tmp_path / "full.jpg") != image.load_photo(src).pixels, axis=2)
    assert changed_full[~mask].mean() > 0.1
