"""restorer-cli batch survives: a record line per photo, resume after kill -9 with byte-identical outputs, --recursive, --format."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.cli_batch import INFLIGHT_NAME, RECORD_NAME

EPOCH = "1700000000"  # pins the XMP and sidecar times, so two runs can be compared byte for byte


def _photo(path: Path, seed: int, h: int = 40, w: int = 56) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    px = np.stack([(xx * 5) % 256, (yy * 7) % 256, (xx + yy) % 256], -1) + rng.integers(0, 20, (h, w, 3))
    Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path, h: int = 40, w: int = 56) -> Path:
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h // 2, w // 4 : w // 2] = 255
    Image.fromarray(m).save(path)
    return path


def _run(argv: list, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _log(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / RECORD_NAME).read_text().splitlines()]


def _outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != RECORD_NAME and not p.name.endswith(".restorer.json")}


@pytest.fixture()
def folders(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    for i, name in enumerate("abcd"):
        _photo(src / f"{name}.png", i)
        _mask(masks / f"{name}_mask.png")
    return src, masks


def _batch(src: Path, masks: Path, out: Path, *extra: str) -> list:
    return ["batch", src, "-m", masks, "-o", out, "--model", "telea", "-q", *extra]


def test_every_photo_has_a_line_with_its_status(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    (masks / "d_mask.png").unlink()  # d: no mask
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "c_mask.png")  # c: wrong size, fails
    out = tmp_path / "out"
    code, stdout, _ = _run(_batch(src, masks, out), capsys)
    assert code == 1 and "2 restored, 1 failed, 1 skipped" in stdout
    log = _log(out)
    assert [(Path(r["source"]).name, r["status"]) for r in log] == [
        ("a.png", "done"), ("b.png", "done"), ("c.png", "failed"), ("d.png", "skipped: no mask")]
    assert "mask is 5 x 5 pixels" in log[2]["error"]
    assert all(len(log[i]["output_sha256"]) == 64 for i in (0, 1))
    # a rerun: done photos skipped and said so, the failed one tried again, every photo in the record again
    code, stdout, _ = _run(_batch(src, masks, out), capsys)
    assert code == 1 and "0 restored, 1 failed, 3 skipped" in stdout
    assert [r["status"] for r in _log(out)[4:]] == ["skipped: already done", "skipped: already done",
                                                    "failed", "skipped: no mask"]


def test_resume_skips_done_photos_and_gives_byte_identical_outputs(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert _run(_batch(src, masks, whole), capsys)[0] == 0
    assert _run(_batch(src, masks, resumed), capsys)[0] == 0
    # as a run killed after two photos leaves it: two lines, c's output half-made (its line never written)
    lines = (resumed / RECORD_NAME).read_text().splitlines()
    (resumed / RECORD_NAME).write_text("\n".join(lines[:2]) + "\n" + lines[2][:25])  # torn third line
    (resumed / INFLIGHT_NAME).write_text("c.png")
    (resumed / "d.png").unlink()
    (resumed / "d.png.restorer.json").unlink()
    code, stdout, err = _run(_batch(src, masks, resumed), capsys)
    assert code == 0, err
    assert "2 restored, 0 failed, 2 skipped" in stdout
    statuses = [r["status"] for r in _log(resumed)]
    assert statuses == ["done", "done", "skipped: already done", "skipped: already done", "done", "done"]
    assert _outputs(resumed) == _outputs(whole)


def test_a_moved_output_folder_still_resumes(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    first = tmp_path / "first"
    assert _run(_batch(src, masks, first), capsys)[0] == 0
    moved = first.rename(tmp_path / "moved")
    code, stdout, err = _run(_batch(src, masks, moved), capsys)
    assert code == 0 and "0 restored, 0 failed, 4 skipped" in stdout, err


def test_batch_sidecars_no_sidecar_and_an_existing_sidecar(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    plain = tmp_path / "plain"
    assert _run(_batch(src, masks, plain, "--no-sidecar"), capsys)[0] == 0
    assert not list(plain.glob("*.restorer.json")) and len(list(plain.glob("*.png"))) == 4
    out = tmp_path / "out"
    out.mkdir()
    (out / "c.png.restorer.json").write_text("{}")
    code, _, err = _run(_batch(src, masks, out), capsys)
    assert code == 1 and "sidecar already exists" in err
    assert [r["status"] for r in _log(out)] == ["done", "done", "failed", "done"]
    assert (out / "c.png.restorer.json").read_text() == "{}" and not (out / "c.png").exists()
    side = json.loads((out / "a.png.restorer.json").read_text())
    assert side["source"]["path"] == str((src / "a.png").absolute()) and side["steps"][0]["model"] == "telea"


def test_an_output_that_is_not_the_batchs_own_is_never_replaced(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"someone's file")
    code, _, err = _run(_batch(src, masks, out), capsys)
    assert code == 1 and "b.png" in err and "already exists" in err
    assert (out / "b.png").read_bytes() == b"someone's file"
    assert [r["status"] for r in _log(out)] == ["done", "failed", "done", "done"]


def test_an_unexpected_exception_is_recorded_and_the_batch_goes_on(folders, tmp_path: Path, monkeypatch, capsys) -> None:
    from restorer import cli_fill

    src, masks = folders
    real = cli_fill.run_fill

    def fill(args, image, mask, output, label):
        if image.name == "b.png":
            raise MemoryError()
        if image.name == "c.png":
            raise KeyError("a bug")
        return real(args, image, mask, output, label)

    monkeypatch.setattr(cli_fill, "run_fill", fill)
    out = tmp_path / "out"
    code, stdout, err = _run(_batch(src, masks, out), capsys)
    assert code == 1 and "2 restored, 2 failed" in stdout and "Traceback" not in err
    log = _log(out)
    assert [r["status"] for r in log] == ["done", "failed", "failed", "done"]
    assert "out of memory" in log[1]["error"] and "KeyError" in log[2]["error"]


def test_recursive_mirrors_subfolders(folders, tmp_path: Path, capsys) -> None:
    src, masks = folders
    (src / "box1" / "roll2").mkdir(parents=True)
    (masks / "box1" / "roll2").mkdir(parents=True)
    _photo(src / "box1" / "roll2" / "e.png", 9)
    _mask(masks / "box1" / "roll2" / "e.png")
    out = src / "restored"  # inside the input folder: its files must not become photos on a rerun
    code, stdout, err = _run(_batch(src, masks, out, "--recursive"), capsys)
    assert code == 0, err
    assert (out / "box1" / "roll2" / "e.png").is_file() and (out / "box1" / "roll2" / "e.png.restorer.json").is_file()
    assert "5 restored" in stdout
    code, stdout, _ = _run(_batch(src, masks, out, "--recursive"), capsys)
    assert code == 0 and "0 restored, 0 failed, 5 skipped" in stdout
    # without --recursive the subfolder is not looked at
    code, stdout, _ = _run(_batch(src, masks, tmp_path / "flat"), capsys)
    assert "4 restored" in stdout and not (tmp_path / "flat" / "box1").exists()


@pytest.mark.parametrize(("fmt", "suffix"), [("png", ".png"), ("tiff", ".tif"), ("same", ".jpg")])
def test_format_chooses_the_output_type(fmt: str, suffix: str, tmp_path: Path, capsys) -> None:
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    Image.open(_photo(tmp_path / "a.png", 1)).save(src / "a.jpg", quality=95)
    _mask(masks / "a.png")
    out = tmp_path / "out"
    code, _, err = _run(_batch(src, masks, out, "--format", fmt), capsys)
    assert code == 0, err
    (result,) = [p for p in out.iterdir() if p.suffix in (".png", ".tif", ".jpg")]
    assert result.name == f"a{suffix}"
    from restorer.core.image import load_photo

    assert load_photo(result).meta.format == {"png": "PNG", "tiff": "TIFF", "same": "JPEG"}[fmt]


def test_no_masks_at_all_is_one_line_and_exit_1(folders, tmp_path: Path, capsys) -> None:
    src, _ = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run(_batch(src, empty, tmp_path / "out"), capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 1 and len(lines) == 1 and "no mask matches" in lines[0]


def _cli() -> list[str]:
    return [sys.executable, "-m", "restorer.cli"]


def test_kill_9_mid_batch_then_rerun_gives_what_an_uninterrupted_run_gives(tmp_path: Path) -> None:
    src, masks = tmp_path / "in", tmp_path / "masks"
    src.mkdir(), masks.mkdir()
    n = 8
    for i in range(n):  # big holes: Telea takes a while on each, so the kill lands mid-batch
        _photo(src / f"p{i}.png", i, 480, 480)
        m = np.zeros((480, 480), np.uint8)
        m[80:400, 80:400] = 255
        Image.fromarray(m).save(masks / f"p{i}.png")
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    killed, whole = tmp_path / "killed", tmp_path / "whole"

    def argv(out: Path) -> list[str]:
        return [*_cli(), "batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q"]

    proc = subprocess.Popen(argv(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    record = killed / RECORD_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if record.is_file() and record.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines_at_kill = record.read_bytes().count(b"\n")
    assert proc.returncode == -signal.SIGKILL and 1 <= lines_at_kill < n, "the kill did not land mid-batch"
    rerun = subprocess.run(argv(killed), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert subprocess.run(argv(whole), env=env, capture_output=True, timeout=300, check=False).returncode == 0
    assert _outputs(killed) == _outputs(whole) and len(_outputs(whole)) == n
    statuses = [json.loads(x)["status"] for x in record.read_text().splitlines()]
    assert statuses.count("done") == n and statuses[lines_at_kill:].count("skipped: already done") == lines_at_kill
    assert not (killed / INFLIGHT_NAME).exists()
