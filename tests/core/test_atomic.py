"""Atomic writes under races and faults: no replacing a file that appeared, no FIFOs, no stale temp files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.core import image
from restorer.core.atomic import clean_stale_temps
from restorer.core.image import Photo, load_photo, save_photo
from restorer.errors import ImageError

ROOT = Path(__file__).resolve().parents[2]


def _photo_file(path: Path) -> Path:
    Image.fromarray(np.arange(24 * 32 * 3, dtype=np.uint8).reshape(24, 32, 3)).save(path)
    return path


def _mask_file(path: Path) -> Path:
    m = np.zeros((24, 32), np.uint8)
    m[8:12, 4:20] = 255
    Image.fromarray(m).save(path)
    return path


def test_file_that_appears_during_a_save_is_not_replaced(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.png"
    real = image._WRITERS["PNG"]

    def racing_writer(tmp: Path, enc) -> None:
        target.write_bytes(b"someone else's file")  # created after any up-front check
        real(tmp, enc)

    monkeypatch.setitem(image._WRITERS, "PNG", racing_writer)
    photo = Photo(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ImageError, match="already exists"):
        save_photo(photo, target, replace=False)
    assert target.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temp file left
    save_photo(photo, target)  # replace=True (the app's explicit Save) still replaces
    assert load_photo(target).pixels.shape == (4, 4, 3)


def test_cli_keeps_an_output_created_while_it_ran(tmp_path: Path, monkeypatch, capsys) -> None:
    from restorer.cli import main

    photo, mask, out = _photo_file(tmp_path / "p.png"), _mask_file(tmp_path / "m.png"), tmp_path / "out.png"
    real = image._WRITERS["PNG"]

    def racing_writer(tmp: Path, enc) -> None:
        if not out.exists():
            out.write_bytes(b"keep")
        real(tmp, enc)

    monkeypatch.setitem(image._WRITERS, "PNG", racing_writer)
    code = main(["inpaint", str(photo), "-m", str(mask), "-o", str(out), "--model", "telea", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "--overwrite" in err
    assert out.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "out.png", "p.png"]


def _call_or_unblock(fifo: Path, fn) -> dict[str, object]:
    """Run ``fn`` in a thread; if it blocks on the FIFO, open the other end so the suite goes on, and fail."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except Exception as e:  # noqa: BLE001 - handed back to the test
            result["error"] = e

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():
        with open(fifo, "wb"):
            pass
        worker.join(10)
        pytest.fail("reading a FIFO blocked")
    return result


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("role", ["photo", "mask"])
def test_fifo_is_refused_at_once_not_read_forever(role: str, tmp_path: Path, capsys) -> None:
    from restorer.cli import main

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    photo, mask = _photo_file(tmp_path / "p.png"), _mask_file(tmp_path / "m.png")
    argv = ["inpaint", str(fifo if role == "photo" else photo), "-m", str(fifo if role == "mask" else mask),
            "-o", str(tmp_path / "out.png"), "--model", "telea"]
    result = _call_or_unblock(fifo, lambda: main(argv))
    err = capsys.readouterr().err
    assert result.get("value") == 1 and "pipe.png" in err and "regular file" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_loader_the_app_uses_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.tif"
    os.mkfifo(fifo)
    result = _call_or_unblock(fifo, lambda: load_photo(fifo))
    assert isinstance(result.get("error"), ImageError) and "regular file" in str(result["error"])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_sigterm_during_a_save_leaves_nothing_and_exits_143(tmp_path: Path) -> None:
    photo, mask = _photo_file(tmp_path / "p.png"), _mask_file(tmp_path / "m.png")
    script = textwrap.dedent(f"""
        import os, signal, sys
        from restorer.core import image
        from restorer.cli import main
        real = image._WRITERS["PNG"]
        def killed_midway(tmp, enc):
            real(tmp, enc)  # the temp file holds a complete photo, not yet renamed
            os.kill(os.getpid(), signal.SIGTERM)
        image._WRITERS["PNG"] = killed_midway
        sys.exit(main(["inpaint", {str(photo)!r}, "-m", {str(mask)!r}, "-o", {str(tmp_path / "out.png")!r},
                       "--model", "telea", "-q"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 143, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "p.png"]


def test_stale_temp_files_of_ours_are_cleaned_on_the_next_write(tmp_path: Path) -> None:
    old = tmp_path / ".scan.0123abcd.tmp.tif"
    fresh = tmp_path / ".scan.89abcdef.tmp.tif"  # another save may be writing it right now
    lookalike = tmp_path / ".scan.tmp.tif"  # not a name we make
    for p in (old, fresh, lookalike):
        p.write_bytes(b"x" * 100)
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(lookalike, (hours_ago, hours_ago))
    save_photo(Photo(np.zeros((3, 3, 1), np.uint8)), tmp_path / "new.png")
    assert not old.exists()
    assert fresh.exists() and lookalike.exists() and (tmp_path / "new.png").exists()


def test_stale_temp_cleaning_skips_folders_and_symlinks(tmp_path: Path) -> None:
    (tmp_path / ".a.0123abcd.tmp.png").mkdir()
    target = tmp_path / "keep.png"
    target.write_bytes(b"k")
    link = tmp_path / ".b.0123abcd.tmp.png"
    link.symlink_to(target)
    hours_ago = time.time() - 7200
    os.utime(link, (hours_ago, hours_ago), follow_symlinks=False)
    assert clean_stale_temps(tmp_path, force=True) == []
    assert link.is_symlink() and target.read_bytes() == b"k"
