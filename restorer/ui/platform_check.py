"""Before Qt starts: are the system libraries its X11 (xcb) platform needs installed? (No Qt imported here.)

Without them Qt prints a misleading hint and aborts the process (SIGABRT, a core dump); here the
user gets the missing libraries, the Debian/Ubuntu packages that hold them, and exit status 1.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

# What Qt 6's xcb platform plugin links against (objdump -p libqxcb.so libQt6XcbQpa.so.6), and
# the Debian package of each. Core X11 libraries (libxcb1, libx11-6) come with any X desktop.
XCB_LIBRARIES: dict[str, str] = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-randr": "libxcb-randr0",
    "xcb-shape": "libxcb-shape0",
    "xcb-shm": "libxcb-shm0",
    "xcb-sync": "libxcb-sync1",
    "xcb-xfixes": "libxcb-xfixes0",
    "xcb-xkb": "libxcb-xkb1",
    "xcb-util": "libxcb-util1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xkbcommon": "libxkbcommon0",
    "X11-xcb": "libx11-xcb1",
    "EGL": "libegl1",
    "GL": "libgl1",
    "fontconfig": "libfontconfig1",
    "glib-2.0": "libglib2.0-0",
}

# What a missing library is called in the loader's message, mapped back to its package.
_SONAME = re.compile(r"lib([A-Za-z0-9_.+-]+?)\.so(?:\.\d+)*")


def platform_name(environ: Mapping[str, str] = os.environ, argv: list[str] | None = None) -> str:
    """The platform plugin Qt will try first: -platform NAME, $QT_QPA_PLATFORM, else wayland in a
    Wayland session and xcb otherwise (Linux); "" on other systems."""
    argv = sys.argv if argv is None else argv
    for i, arg in enumerate(argv[:-1]):
        if arg in ("-platform", "--platform"):
            return argv[i + 1].split(";")[0].split(":")[0]
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if not sys.platform.startswith("linux"):
        return ""
    if environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland":
        return "wayland"
    return "xcb"


def ldconfig_find() -> Callable[[str], str | None] | None:
    """A finder over the loader's cache (one `ldconfig -p`, ~10 ms, instead of one per library) and
    $LD_LIBRARY_PATH; None when there is no cache to ask (then nothing is reported missing)."""
    import shutil
    import subprocess

    exe = shutil.which("ldconfig") or next((p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-p"], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = {line.split()[0] for line in out.splitlines()[1:] if line.strip()}
    if not names:
        return None
    dirs = [Path(d) for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]

    def find(name: str) -> str | None:
        prefix = f"lib{name}.so"
        hit = next((n for n in names if n == prefix or n.startswith(prefix + ".")), None)
        if hit is None:
            hit = next((str(p) for d in dirs if d.is_dir() for p in d.glob(prefix + "*")), None)
        return hit

    return find


def _bundled_libraries() -> set[str]:
    """The shared libraries a PyInstaller bundle carries itself (read once; empty outside a bundle)."""
    frozen = getattr(sys, "_MEIPASS", None)
    if not frozen:
        return set()
    return {name for _, _, names in os.walk(frozen) for name in names if ".so" in name}


def missing_libraries(find: Callable[[str], str | None]) -> list[tuple[str, str]]:
    """(library, Debian package) for each library the xcb platform needs that the loader cannot find."""
    bundled = _bundled_libraries()

    def in_bundle(name: str) -> bool:
        prefix = f"lib{name}.so"
        return any(n == prefix or n.startswith(prefix + ".") for n in bundled)

    return [(f"lib{name}.so", package) for name, package in XCB_LIBRARIES.items()
            if find(name) is None and not in_bundle(name)]


def package_for(loader_message: str) -> str | None:
    """The Debian package holding the library named in a loader error ("libEGL.so.1: cannot open...")."""
    match = _SONAME.search(loader_message)
    return XCB_LIBRARIES.get(match.group(1)) if match else None


def problem(environ: Mapping[str, str] = os.environ, argv: list[str] | None = None,
            find: Callable[[str], str | None] | None = None) -> str | None:
    """Why the window cannot open here (several lines), or None when it can as far as we can tell.

    ``find(name)`` says where libNAME.so is (None = not found), e.g. ``ctypes.util.find_library``;
    by default the loader's cache, read once.
    """
    if platform_name(environ, argv) != "xcb":
        return None
    # Without a loader cache (not glibc), guessing could refuse a system that works: report nothing.
    finder = find or ldconfig_find()
    missing = missing_libraries(finder) if finder is not None else []
    if missing:
        libs = ", ".join(lib for lib, _ in missing)
        packages = " ".join(dict.fromkeys(pkg for _, pkg in missing))
        return (f"restorer: Qt's X11 (xcb) platform needs system libraries that are not installed: {libs}\n"
                f"  On Debian or Ubuntu: sudo apt install {packages}\n"
                "  (restorer-cli works without them; QT_QPA_PLATFORM=offscreen runs the app without a window)")
    if not environ.get("DISPLAY"):
        return ("restorer: there is no X display to open the window on ($DISPLAY is not set).\n"
                "  Run it from a desktop session, or set QT_QPA_PLATFORM=wayland in a Wayland one.")
    return None
