"""What every restorer-cli command shares: its name, the progress line, the output checks, the registry listing.

cli.py, cli_fill.py, cli_batch.py and cli_detect.py import this; it imports none of them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from restorer.errors import EXIT_OK, ImageError

PROG = "restorer-cli"


class ProgressLine:
    """A one-line progress bar on stderr (only when stderr is a terminal, so logs stay clean)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()

    def __call__(self, progress) -> None:  # progress: restorer.inference.job.Progress
        if not self.enabled:
            return
        total = max(progress.total, 1)
        width = 30
        filled = int(width * progress.done / total)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r{self.label} [{bar}] {progress.done}/{total} {elapsed:5.1f}s {progress.message[:30]:30}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def check_folder(output: Path) -> Path:
    """The folder ``output`` goes into; ImageError when it does not exist (said before any work runs)."""
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise ImageError(f"{output}: folder {folder} does not exist")
    return folder


def check_output(output: Path, inputs: Sequence[Path], overwrite: bool) -> None:
    """Refuse to overwrite anything without --overwrite, and never an input even with it unless it's named."""
    from restorer.core.image import save_format

    save_format(output)
    if output.is_dir():
        raise ImageError(f"{output}: is a folder; give a file name for the output")
    folder = check_folder(output)
    if not os.access(folder, os.W_OK):
        raise ImageError(f"{output}: folder {folder} is not writable")
    if output.exists() and not overwrite:
        same = any(same_file(output, p) for p in inputs)
        what = "is the input photo" if same else "already exists"
        raise ImageError(f"{output}: {what}; pass --overwrite to replace it")


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def print_registry(rows: list[dict], as_json: bool, detail: Callable[[dict], str],
                   mark: Callable[[dict], str] = lambda r: "") -> int:
    """``models`` and ``detectors``: JSON, or two lines per entry (name and state; description, ``detail``, licence)."""
    if as_json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = r["state"] if r["state"] == "ready" else f"unavailable: {r['reason']}"
        print(f"{r['name']:<{width}}  {state}{mark(r)}")
        print(f"{'':<{width}}  {r['description']}{detail(r)}; licence {r['licence']}")
    return EXIT_OK
