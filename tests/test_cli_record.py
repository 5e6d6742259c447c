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
