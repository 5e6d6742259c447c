"""restorer-cli end to end: faithful fills on real file formats, and one clear line for every bad input."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from restorer.cli import main


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _gray_icc() -> bytes:
    """A minimal ICC v2 gray display profile (header + one gamma curve), as archival gray scans carry."""
    curve = b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", 0x0233) + b"\0\0"  # gamma 2.2
    tag_table = struct.pack(">I", 1) + b"kTRC" + struct.pack(">II", 128 + 16, len(curve))
    size = 128 + len(tag_table) + len(curve)
    header = (struct.pack(">I", size) + b"none" + bytes([2, 0x10, 0, 0]) + b"mntrGRAYXYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 24 + struct.pack(">I", 0) + struct.pack(">iii", 63190, 65536, 54061) + b"\0" * 48)
    assert len(header) == 128
    return header + tag_table + curve


def _smooth(h: int, w: int, c: int, dtype) -> np.ndarray:
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    chans = [(np.sin(xx / (7 + k)) * np.cos(yy / (11 + k)) * 0.4 + 0.5) for k in range(c)]
    return (np.stack(chans, -1) * top).round().astype(dtype)


def _mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[h // 3 : h // 3 + 6, w // 4 : 3 * w // 4] = True  # a scratch
    m[5:8, 5:8] = True  # a speck
    return m


def _save_mask(m: np.ndarray, path: Path) -> Path:
    Image.fromarray(m.astype(np.uint8) * 255).save(path)
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# --- the three faithful fills ----------------------------------------------------------------


def test_16bit_gray_tiff_keeps_depth_mode_and_pixels(tmp_path: Path, capsys) -> None:
    src = _smooth(90, 120, 1, np.uint16)[..., 0]
    icc = _gray_icc()
    tifffile.imwrite(tmp_path / "scan.tif", src, compression="zlib", iccprofile=icc, resolution=(600, 600))
    mask = _mask(90, 120)
    code, _, err = _run(["inpaint", str(tmp_path / "scan.tif"), "-m", str(_save_mask(mask, tmp_path / "m.png")),
                         "-o", str(tmp_path / "out.tif"), "-q"], capsys)
    assert code == 0, err
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        out = tif.asarray()
        page = tif.pages[0]
        assert page.tags[34675].value == icc
        assert page.photometric == tifffile.PHOTOMETRIC.MINISBLACK
        assert page.tags["XResolution"].value == (600, 1)
    assert out.dtype == np.uint16 and out.shape == src.shape
    assert np.array_equal(out[~mask], src[~mask])
    assert not np.array_equal(out[mask], np.zeros_like(out[mask]))


def test_16bit_rgb_png_keeps_depth_and_pixels(tmp_path: Path, capsys) -> None:
    import cv2

    src = _smooth(64, 80, 3, np.uint16)
    cv2.imwrite(str(tmp_path / "in.png"), src[..., ::-1])
    mask = _mask(64, 80)
    code, _, err = _run(["inpaint", str(tmp_path / "in.png"), "-m", str(_save_mask(mask, tmp_path / "m.png")),
                         "-o", str(tmp_path / "out.png"), "-q", "--model", "navier-stokes"], capsys)
    assert code == 0, err
    out = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert out.dtype == np.uint16 and out.shape == src.shape
    assert np.array_equal(out[~mask], src[~mask])
    # The fill continues the smooth image: far closer to the truth than a black or white hole.
    err16 = np.abs(out[mask].astype(float) - src[mask].astype(float)).mean()
    assert err16 < 0.1 * 65535


def test_exif_rotated_jpeg_with_icc(tmp_path: Path, capsys) -> None:
    # Stored landscape 40x60 with orientation 6 (rotate 90 CW to view): viewed as 60 x 40 portrait.
    stored = _smooth(40, 60, 3, np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "RestorerTestCam"  # Make
    icc = _srgb_icc()
    Image.fromarray(stored).save(tmp_path / "in.jpg", quality=98, exif=exif.tobytes(), icc_profile=icc)
    mask = np.zeros((60, 40), bool)
    mask[20:26, 10:30] = True
    m = _save_mask(mask, tmp_path / "m.png")

    code, _, err = _run(["inpaint", str(tmp_path / "in.jpg"), "-m", str(m), "-o", str(tmp_path / "out.png"), "-q"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "in.jpg") as im:
        from PIL import ImageOps

        viewed = np.asarray(ImageOps.exif_transpose(im))
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (40, 60)
        assert out.info.get("icc_profile") == icc
        out_exif = out.getexif()
        assert out_exif.get(0x010F) == "RestorerTestCam"
        assert out_exif.get(0x0112, 1) == 1
        px = np.asarray(out)
    assert np.array_equal(px[~mask], viewed[~mask])

    code, _, err = _run(["inpaint", str(tmp_path / "in.jpg"), "-m", str(m), "-o", str(tmp_path / "out.jpg"), "-q"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "out.jpg") as out:
        # JPEG to JPEG is a master (core.jpegmaster): stored unrotated, the orientation kept as the tag.
        assert out.size == (60, 40) and out.info.get("icc_profile") == icc
        assert out.getexif().get(0x010F) == "RestorerTestCam" and out.getexif().get(0x0112) == 6
    code, _, err = _run(["inpaint", str(tmp_path / "in.jpg"), "-m", str(m), "-o", str(tmp_path / "full.jpg"), "-q",
                         "--jpeg-reencode"], capsys)
    assert code == 0, err
    with Image.open(tmp_path / "full.jpg") as out:  # the full re-encode turns the pixels upright, as before
        assert out.size == (40, 60) and out.info.get("icc_profile") == icc
        assert out.getexif().get(0x010F) == "RestorerTestCam" and out.getexif().get(0x0112, 1) == 1


# --- bad input: one line naming the file, non-zero exit, no partial output ------------------------


def _png_with_size(path: Path, w: int, h: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


@pytest.fixture()
def good(tmp_path: Path) -> tuple[Path, Path]:
    Image.fromarray(_smooth(32, 48, 3, np.uint8)).save(tmp_path / "good.png")
    return tmp_path / "good.png", _save_mask(_mask(32, 48), tmp_path / "good-mask.png")


def _bad_inputs(tmp_path: Path, good: tuple[Path, Path]) -> dict[str, tuple[list[str], str]]:
    photo, mask = good
    (tmp_path / "notes.txt").write_text("not an image")
    data = photo.read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    _png_with_size(tmp_path / "zero.png", 0, 0)
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small-mask.png")
    out = str(tmp_path / "out.png")
    return {
        "missing": (["inpaint", str(tmp_path / "nope.png"), "-m", str(mask), "-o", out], "nope.png"),
        "not an image": (["inpaint", str(tmp_path / "notes.txt"), "-m", str(mask), "-o", out], "notes.txt"),
        "truncated": (["inpaint", str(tmp_path / "truncated.png"), "-m", str(mask), "-o", out], "truncated.png"),
        "empty file": (["inpaint", str(tmp_path / "empty.png"), "-m", str(mask), "-o", out], "empty.png"),
        "zero size": (["inpaint", str(tmp_path / "zero.png"), "-m", str(mask), "-o", out], "zero.png"),
        "bomb": (["inpaint", str(photo), "-m", str(mask), "-o", out, "--max-pixels", "1000"], "good.png"),
        "mask size": (["inpaint", str(photo), "-m", str(tmp_path / "small-mask.png"), "-o", out], "small-mask.png"),
        "unwritable": (["inpaint", str(photo), "-m", str(mask), "-o", str(tmp_path / "no" / "dir" / "o.png")], "o.png"),
        "bad suffix": (["inpaint", str(photo), "-m", str(mask), "-o", str(tmp_path / "o.xyz")], "o.xyz"),
        "over input": (["inpaint", str(photo), "-m", str(mask), "-o", str(photo)], "good.png"),
        "unknown model": (["inpaint", str(photo), "-m", str(mask), "-o", out, "--model", "nope"], "nope"),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "not an image", "truncated", "empty file", "zero size", "bomb", "mask size", "unwritable",
     "bad suffix", "over input", "unknown model"],
)
def test_bad_input_gets_one_line_and_nonzero_exit(case: str, tmp_path: Path, good, capsys) -> None:
    argv, named = _bad_inputs(tmp_path, good)[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, out, err = _run(argv, capsys)
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert named in lines[0] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, no temp files left


def test_bomb_message_says_how_to_raise_the_limit(tmp_path: Path, good, capsys) -> None:
    argv, _ = _bad_inputs(tmp_path, good)["bomb"]
    _, _, err = _run(argv, capsys)
    assert "--max-pixels" in err


def test_failed_write_leaves_no_partial_file(tmp_path: Path, good, capsys, monkeypatch) -> None:
    photo, mask = good
    import restorer.core.atomic as atomic

    real_replace, real_link = os.replace, os.link

    def failing_rename(a, b):  # the disk fills up right at the end
        raise OSError(28, "No space left on device")

    # The final step is a link (no --overwrite: never replace) or a replace (--overwrite).
    monkeypatch.setattr(atomic.os, "replace", failing_rename)
    monkeypatch.setattr(atomic.os, "link", failing_rename)
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(tmp_path / "out.tif")], capsys)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    monkeypatch.setattr(atomic.os, "link", real_link)
    assert code != 0 and "out.tif" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good-mask.png", "good.png"]


def test_existing_output_needs_overwrite(tmp_path: Path, good, capsys) -> None:
    photo, mask = good
    out = tmp_path / "out.png"
    out.write_bytes(b"keep me")
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out)], capsys)
    assert code != 0 and "--overwrite" in err and out.read_bytes() == b"keep me"
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "--overwrite", "-q"], capsys)
    assert code == 0 and out.read_bytes() != b"keep me"


def test_16bit_to_jpeg_is_refused_without_consent(tmp_path: Path, capsys) -> None:
    tifffile.imwrite(tmp_path / "in.tif", _smooth(32, 32, 3, np.uint16))
    mask = _save_mask(_mask(32, 32), tmp_path / "m.png")
    code, _, err = _run(["inpaint", str(tmp_path / "in.tif"), "-m", str(mask), "-o", str(tmp_path / "o.jpg")], capsys)
    assert code != 0 and "8" in err and not (tmp_path / "o.jpg").exists()
    code, _, err = _run(["inpaint", str(tmp_path / "in.tif"), "-m", str(mask), "-o", str(tmp_path / "o.jpg"),
                         "--allow-8bit", "-q"], capsys)
    assert code == 0, err
    assert Image.open(tmp_path / "o.jpg").mode == "RGB"


# --- record, batch, models -------------------------------------------------------------------------


def test_record_describes_the_change(tmp_path: Path, good, capsys) -> None:
    photo, mask = good
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(tmp_path / "o.png"), "-q",
                         "--record", str(tmp_path / "rec.jsonl")], capsys)
    assert code == 0, err
    rec = json.loads((tmp_path / "rec.jsonl").read_text().splitlines()[0])
    # --model auto is recorded as the model that ran: the best one installed (weights/ ships one).
    from restorer.models import registry

    assert rec["model"] == registry.default_model() != "auto" and rec["mask_pixels"] == int(_mask(32, 48).sum())
    assert rec["mask_box_y0_x0_y1_x1"] == [5, 5, 16, 36]
    assert len(rec["source_sha256"]) == 64 and rec["output_sha256"] != rec["source_sha256"]


def test_batch_fills_each_photo_with_a_mask_and_keeps_going(tmp_path: Path, capsys) -> None:
    src, masks, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    src.mkdir(), masks.mkdir()
    for name in ("a", "b", "c"):
        Image.fromarray(_smooth(32, 40, 3, np.uint8)).save(src / f"{name}.png")
    _save_mask(_mask(32, 40), masks / "a.png")
    _save_mask(_mask(32, 40), masks / "b_mask.png")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "c.png")  # wrong size: fails, batch goes on
    (src / "d.png").write_bytes(b"\x89PNG broken")  # no mask: skipped
    code, stdout, err = _run(["batch", str(src), "-m", str(masks), "-o", str(out)], capsys)
    assert code == 1
    assert (out / "a.png").exists() and (out / "b.png").exists() and not (out / "c.png").exists()
    assert "2 restored, 1 failed, 1 skipped" in stdout
    log = [json.loads(x) for x in (out / "restorer-batch.jsonl").read_text().splitlines()]
    # every photo has its line, the one without a mask too (issue 17: the record lists them all)
    assert len(log) == 4 and sum("error" in r for r in log) == 1
    assert [r["status"] for r in log] == ["done", "done", "failed", "skipped: no mask"]


def test_batch_refuses_to_write_over_its_input(tmp_path: Path, capsys) -> None:
    Image.fromarray(_smooth(16, 16, 3, np.uint8)).save(tmp_path / "a.png")
    code, _, err = _run(["batch", str(tmp_path), "-m", str(tmp_path), "-o", str(tmp_path)], capsys)
    assert code != 0 and "--suffix" in err


def test_models_lists_every_model_with_state_device_and_licence(capsys) -> None:
    code, out, _ = _run(["models", "--json"], capsys)
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["telea"]["state"] == "ready" and rows["telea"]["device"] == "cpu"
    assert rows["navier-stokes"]["licence"]
    for r in rows.values():
        assert r["state"] in ("ready", "unavailable")
        assert r["state"] == "ready" or r["reason"]


def test_console_script_runs_without_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("restorer-cli")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "restorer.cli"]
    proc = subprocess.run(cmd + ["inpaint", str(tmp_path / "missing.tif"), "-m", "x.png", "-o", str(tmp_path / "o.png")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "missing.tif" in proc.stderr and "Traceback" not in proc.stderr
