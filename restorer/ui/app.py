"""The `restorer [IMAGE]` entry point: make the QApplication and the main window, open IMAGE if given."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from restorer import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from restorer.ui.main_window import MainWindow


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="restorer", description="Restore damaged photos: brush a mask, fill it.")
    parser.add_argument("image", nargs="?", type=Path, help="photo or .restorer project to open")
    parser.add_argument("--version", action="version", version=f"restorer {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open IMAGE, fill a stroke, undo, quit; exit status 0 when all of it worked")
    return parser.parse_args(list(argv))


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Restorer")
    app.setOrganizationName("Restorer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("restorer")
    return app


def launch(args: argparse.Namespace) -> MainWindow:
    """Show the main window and start opening the photo named on the command line, if any."""
    from restorer.ui.main_window import MainWindow  # after QApplication: icons need it

    window = MainWindow()
    window.show()
    # Work a crashed run left behind comes first; recovering it replaces opening IMAGE.
    if not window.projects.offer_recovery() and args.image is not None:
        window.open_path(args.image)
    return window


def cannot_start() -> str | None:
    """Why Qt could not open a window here (missing system libraries, no display), before Qt aborts on it."""
    from restorer.ui import platform_check

    why = platform_check.problem()
    if why:
        return why
    try:
        import PySide6.QtWidgets  # noqa: F401 - loads Qt's own libraries (libEGL, libfontconfig...)
    except ImportError as exc:
        package = platform_check.package_for(str(exc))
        hint = f"\n  On Debian or Ubuntu: sudo apt install {package}" if package else ""
        return f"restorer: Qt cannot be loaded: {exc}{hint}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    from restorer.core.libcalls import configure_debug_log

    args = parse_args(sys.argv[1:] if argv is None else argv)
    why = cannot_start()
    if why:
        print(why, file=sys.stderr)
        return 1
    configure_debug_log()  # RESTORER_LOG=FILE / RESTORER_DEBUG=1: what the image libraries said
    app = make_app(sys.argv[:1])
    if args.smoke_test:
        if args.image is None:
            print("restorer: --smoke-test needs an IMAGE", file=sys.stderr)
            return 2
        from restorer.ui import smoke

        return smoke.run(app, args.image)
    window = launch(args)
    code = int(app.exec())
    if window.threads_running():
        # A model load or network call that cannot be interrupted is still running in the fill
        # thread: end the process now rather than wait for it (Python would abort on a running
        # QThread at exit). Settings are synced and no file write is in flight (closeEvent).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
