"""`restorer` on a machine without Qt's xcb libraries names them and exits 1 instead of Qt's abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from restorer.ui import platform_check


def test_which_platform_qt_will_try() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the xcb default is Linux's")
    assert platform_check.platform_name({}, ["restorer"]) == "xcb"
    assert platform_check.platform_name({"QT_QPA_PLATFORM": "offscreen"}, ["restorer"]) == "offscreen"
    assert platform_check.platform_name({"QT_QPA_PLATFORM": "xcb;wayland"}, ["restorer"]) == "xcb"
    assert platform_check.platform_name({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, ["r"]) == "wayland"
    assert platform_check.platform_name({}, ["restorer", "-platform", "vnc:size=800x600"]) == "vnc"


def test_missing_libraries_are_named_with_their_packages() -> None:
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}
    found = {"xcb-icccm": None, "xcb-keysyms": None}
    why = platform_check.problem(env, ["r"], find=lambda name: found.get(name, f"lib{name}.so.0"))
    assert why is not None
    assert "libxcb-icccm.so" in why and "libxcb-keysyms.so" in why
    assert "apt install libxcb-icccm4 libxcb-keysyms1" in why
    assert platform_check.problem(env, ["r"], find=lambda name: "x") is None
    assert "DISPLAY" in (platform_check.problem({"QT_QPA_PLATFORM": "xcb"}, ["r"], find=lambda name: "x") or "")
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}, ["r"], find=lambda name: None) is None
    assert platform_check.package_for("libEGL.so.1: cannot open shared object file") == "libegl1"


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldconfig") is None, reason="glibc loader cache")
def test_restorer_exits_1_naming_the_missing_library(tmp_path: Path) -> None:
    # A loader cache without libxcb-icccm: what a fresh Debian has before `apt install libxcb-icccm4`.
    real = subprocess.run([shutil.which("ldconfig") or "ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    kept = "\n".join(line for line in real.splitlines() if "xcb-icccm" not in line)
    fake = tmp_path / "bin" / "ldconfig"
    fake.parent.mkdir()
    (tmp_path / "cache.txt").write_text(kept + "\n")
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'cache.txt'}\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{fake.parent}:{os.environ.get('PATH', '')}", QT_QPA_PLATFORM="xcb", DISPLAY=":0",
               RESTORER_SETTINGS=str(tmp_path / "s.ini"), LD_LIBRARY_PATH="")
    out = subprocess.run([sys.executable, "-m", "restorer.ui.app"], capture_output=True, text=True, timeout=60,
                         env=env, check=False)
    assert out.returncode == 1, out.stderr
    assert "libxcb-icccm.so" in out.stderr and "apt install libxcb-icccm4" in out.stderr
    assert "Traceback" not in out.stderr and "Aborted" not in out.stderr


def test_libraries_inside_a_pyinstaller_bundle_count_as_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_internal").mkdir()
    (tmp_path / "_internal" / "libxcb-icccm.so.4").write_bytes(b"")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    missing = platform_check.missing_libraries(lambda name: None if name in ("xcb-icccm", "xcb-keysyms") else "x")
    assert missing == [("libxcb-keysyms.so", "libxcb-keysyms1")]
