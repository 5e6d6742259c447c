"""restorer-cli's records: never written over a file of the run or an older log; batch records survive faults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main


def _photo(path: Path, h: int = 32, w: int = 48) -> Path:
    yy, xx = np.mgrid[0:h, 0:w]
    Image.fromarray(np.stack([(xx * 5) % 256, (yy * 7) % 256, (xx + yy) % 256], -1).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, h: int = 32, w: int = 48) -> Path:
    m = np.zeros((h, w), np.uint8)
    m[10:14, 8:30] = 255
    Image.fromarray(m).save(path)
    return path


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return _photo(tmp_path / "photo.png"), _mask(tmp_path / "m.png"), tmp_path / "out.png"


@pytest.mark.parametrize("which", ["photo", "mask", "output", "output-to-be"])
def test_record_refuses_the_photo_mask_and_output(which: str, files, tmp_path: Path, capsys) -> None:
    photo, mask, out = files
    if which == "output":
        out.write_bytes(b"an older result")
    target = {"photo": photo, "mask": mask, "output": out, "output-to-be": out}[which]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    argv = ["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea", "--overwrite",
            "--record", str(tmp_path / "." / target.name), "--append-record"]
    code, _, err = _run(argv, capsys)
    assert code == 1
    assert target.name in _one_line(err)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the original is still a photo


def test_record_refuses_a_hard_link_to_the_photo(files, tmp_path: Path, capsys) -> None:
    import os

    photo, mask, out = files
    os.link(photo, tmp_path / "alias.jsonl")
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea",
                         "--record", str(tmp_path / "alias.jsonl"), "--append-record"], capsys)
    assert code == 1 and "input photo" in _one_line(err) and not out.exists()
    assert Image.open(photo).size == (48, 32)


def test_existing_record_needs_append_record(files, tmp_path: Path, capsys) -> None:
    photo, mask, out = files
    log = tmp_path / "log.jsonl"
    log.write_text('{"old": 1}\n')
    argv = ["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea", "--record", str(log)]
    code, _, err = _run(argv, capsys)
    assert code == 1 and "--append-record" in _one_line(err)
    assert log.read_text() == '{"old": 1}\n' and not out.exists()
    code, _, err = _run(argv + ["--append-record"], capsys)
    assert code == 0, err
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[0] == {"old": 1} and lines[1]["output"] == str(out)


def test_append_record_refuses_a_file_that_is_not_a_log(files, tmp_path: Path, capsys) -> None:
    photo, mask, out = files
    other = _photo(tmp_path / "other.png")
    before = other.read_bytes()
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea",
                         "--record", str(other), "--append-record"], capsys)
    assert code == 1 and "other.png" in _one_line(err) and other.read_bytes() == before


def test_append_record_mends_a_torn_last_line(files, tmp_path: Path, capsys) -> None:
    photo, mask, out = files
    log = tmp_path / "log.jsonl"
    log.write_text('{"old": 1}\n{"torn": ')
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea",
                         "--record", str(log), "--append-record"], capsys)
    assert code == 0, err
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(lines) == 2 and lines[0] == {"old": 1} and lines[1]["source"] == str(photo)


# --- batch ---------------------------------------------------------------------------------------


@pytest.fixture()
def batch(tmp_path: Path) -> tuple[Path, Path, Path]:
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    for name in ("a", "b", "c"):
        _photo(src / f"{name}.png")
        _mask(masks / f"{name}.png")
    return src, masks, tmp_path / "out"


def _log(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "restorer-batch.jsonl").read_text().splitlines()]


def test_batch_writes_each_record_as_soon_as_its_photo_is_done(batch, monkeypatch, capsys) -> None:
    from restorer import cli_fill

    src, masks, out = batch
    real = cli_fill.run_fill
    seen: list[int] = []

    def fill(args, image, mask, output, label):
        if image.name == "c.png":  # killed during the third photo: the first two are on disk already
            seen.append(len(_log(out)))
            raise KeyboardInterrupt
        return real(args, image, mask, output, label)

    monkeypatch.setattr(cli_fill, "run_fill", fill)
    code, _, _ = _run(["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q"], capsys)
    assert code == 130 and seen == [2]
    assert [Path(r["source"]).name for r in _log(out)] == ["a.png", "b.png"]


def test_batch_mends_a_torn_last_line_before_appending(batch, capsys) -> None:
    src, masks, out = batch
    out.mkdir()
    (out / "restorer-batch.jsonl").write_text('{"source": "old.png", "error": "x"}\n{"source": "ki')
    code, _, err = _run(["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q"], capsys)
    assert code == 0, err
    assert [Path(r["source"]).name for r in _log(out)] == ["old.png", "a.png", "b.png", "c.png"]


def test_batch_records_an_unexpected_error_and_goes_on(batch, monkeypatch, capsys) -> None:
    import restorer.core.maskfile as maskfile

    src, masks, out = batch
    real = maskfile.load_mask

    def load_mask(path, shape, **kw):
        if Path(path).name == "b.png":
            raise ZeroDivisionError("a bug")
        return real(path, shape, **kw)

    monkeypatch.setattr(maskfile, "load_mask", load_mask)
    code, stdout, err = _run(["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q"], capsys)
    assert code == 1
    line = _one_line(err)
    assert "b.png" in line and "ZeroDivisionError" in line
    assert (out / "a.png").exists() and (out / "c.png").exists() and not (out / "b.png").exists()
    log = _log(out)
    assert [Path(r["source"]).name for r in log] == ["a.png", "b.png", "c.png"]
    assert "ZeroDivisionError" in log[1]["error"] and "error" not in log[2]
    assert "2 restored, 1 failed, 0 skipped" in stdout


@pytest.mark.parametrize("which", ["empty", "wrong"])
def test_batch_with_no_matching_mask_exits_1(which: str, batch, tmp_path: Path, capsys) -> None:
    src, _, out = batch
    masks = tmp_path / "other"
    masks.mkdir()
    if which == "wrong":
        _mask(masks / "holiday-01.png")
    code, _, err = _run(["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea"], capsys)
    assert code == 1 and "no mask matches" in _one_line(err) and "other" in err
    assert not out.exists()


# --- load notes ----------------------------------------------------------------------------------


def _cmyk_jpeg(path: Path) -> Path:
    import struct

    header = bytearray(128)
    struct.pack_into(">I", header, 0, 132)
    header[16:20], header[20:24], header[36:40] = b"CMYK", b"Lab ", b"acsp"
    rgb = np.asarray(Image.open(_photo(path.with_suffix(".png"))))
    Image.fromarray(rgb).convert("CMYK").save(path, icc_profile=bytes(header) + b"\0" * 4)
    path.with_suffix(".png").unlink()
    return path


def _three_page_tiff(path: Path) -> Path:
    import tifffile

    rgb = np.asarray(Image.open(_photo(path.with_suffix(".png"))))
    path.with_suffix(".png").unlink()
    with tifffile.TiffWriter(path) as tw:
        for _ in range(3):
            tw.write(rgb, photometric="rgb")
    return path


@pytest.mark.parametrize("kind", ["tiff-pages", "cmyk-jpeg"])
def test_load_notes_are_printed_and_recorded(kind: str, tmp_path: Path, capsys) -> None:
    photo = _three_page_tiff(tmp_path / "scan.tif") if kind == "tiff-pages" else _cmyk_jpeg(tmp_path / "print.jpg")
    mask, out, log = _mask(tmp_path / "m.png"), tmp_path / "out.png", tmp_path / "rec.jsonl"
    code, _, err = _run(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "-q", "--model", "telea",
                         "--record", str(log)], capsys)
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if ln.startswith("restorer-cli: note: ")]
    expected = (["3 pages"] if kind == "tiff-pages" else ["CMYK to RGB", "colour profile dropped"])
    for words in expected:
        assert any(photo.name in n and words in n for n in notes), err
    recorded = json.loads(log.read_text())["notes"]
    assert all(any(words in n for n in recorded) for words in expected)
