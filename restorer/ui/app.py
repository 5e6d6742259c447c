"""The `restorer [IMAGE]` entry point: make the QApplication and the main window, open IMAGE if given."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtWidgets import QApplication

from restorer import __version__

if TYPE_CHECKING:
    from restorer.ui.main_window import MainWindow


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="restorer", description="Restore damaged photos: brush a mask, fill it.")
    parser.add_argument("image", nargs="?", type=Path, help="photo or .restorer project to open")
    parser.add_argument("--version", action="version", version=f"restorer {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open IMAGE, fill a stroke, undo, quit; exit status 0 when all of it worked")
    return parser.parse_args(list(argv))


def make_app(argv: Sequence[str] | None = None) -> QApplication:
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


def main(argv: Sequence[str] | None = None) -> int:
    from restorer.core.libcalls import configure_debug_log

    args = parse_args(sys.argv[1:] if argv is None else argv)
    configure_debug_log()  # RESTORER_LOG=FILE / RESTORER_DEBUG=1: what the image libraries said
    app = make_app(sys.argv[:1])
    if args.smoke_test:
        if args.image is None:
            print("restorer: --smoke-test needs an IMAGE", file=sys.stderr)
            return 2
        from restorer.ui import smoke

        return smoke.run(app, args.image)
    window = launch(args)  # noqa: F841 - kept alive while the event loop runs
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
