"""Fuzzed photo files through restorer-cli: no traceback, exit 1 with one plain line naming the file and
nothing on disk, or exit 0 with an output of the photo's size; never a library's own line or jargon.

stderr is captured at the file-descriptor level (capfd), so lines libpng or libtiff write from C count.

The quick set runs by default (7 formats x 7 mutations x 6 seeds = 294 files); the slow one widens it.
Re-run a big sweep by hand: RESTORER_FUZZ_SEEDS=100 python -m pytest -q tests/fuzz -m slow
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fuzzgen
from restorer.cli import main
from restorer.core.image import load_photo

QUICK_SEEDS = 6
SLOW_SEEDS = int(os.environ.get("RESTORER_FUZZ_SEEDS", "30"))


@pytest.fixture(scope="module")
def mask_file(tmp_path_factory) -> Path:
    m = np.zeros((fuzzgen.H, fuzzgen.W), np.uint8)
    m[8:14, 5:25] = 255
    path = tmp_path_factory.mktemp("mask") / "mask.png"
    Image.fromarray(m).save(path)
    return path


def _check(case: tuple[str, str, int], work: Path, mask: Path, capfd) -> str | None:
    """Run one fuzzed file; the broken promise, or None when all hold."""
    fmt, mutation, seed = case
    src = work / f"{fmt}-{mutation}-{seed}.{fmt.rstrip('0123456789')}"
    src.write_bytes(fuzzgen.mutate(fmt, mutation, seed))
    out_dir = work / f"out-{fmt}-{mutation}-{seed}"
    out_dir.mkdir()
    out = out_dir / "restored.png"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(["inpaint", str(src), "-m", str(mask), "-o", str(out), "--model", "telea", "-q",
                         "--max-pixels", "4000000"])
    except BaseException as exc:  # noqa: BLE001 - any escape is the finding
        return f"{case}: escaped main(): {type(exc).__name__}: {exc}"
    if caught:  # a warning would be a second line on the user's terminal
        return f"{case}: a library warning reached the user: {caught[0].message}"
    captured = capfd.readouterr()
    err = captured.err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    left = sorted(p.name for p in out_dir.iterdir())
    if "Traceback" in err or "internal error" in err:
        return f"{case}: {err.strip()}"
    jargon = [ln for ln in lines if fuzzgen.JARGON.search(ln) or not ln.isprintable()]
    if jargon:
        return f"{case}: library line or jargon reached the user: {jargon[0]!r}"
    if code == 1:
        if len(lines) != 1:
            return f"{case}: exit 1 with {len(lines)} lines: {err!r}"
        if src.name not in lines[0] and mask.name not in lines[0]:
            return f"{case}: message names neither the photo nor the mask: {lines[0]}"
        if left:
            return f"{case}: exit 1 left {left}"
        return None
    if code != 0:
        return f"{case}: exit {code}: {err!r}"
    if any(not ln.startswith("restorer-cli: note: ") for ln in lines):  # exit 0: only notes of what loading changed
        return f"{case}: exit 0 with a line that is not a note: {err!r}"
    if left != ["restored.png", "restored.png.restorer.json"]:  # the output and its provenance sidecar
        return f"{case}: exit 0 left {left}"
    photo = load_photo(out)
    if (photo.height, photo.width) != (fuzzgen.H, fuzzgen.W):
        return f"{case}: exit 0 but the output is {photo.width} x {photo.height}"
    return None


def _sweep(cases: list[tuple[str, str, int]], tmp_path: Path, mask: Path, capfd) -> None:
    problems = [p for c in cases if (p := _check(c, tmp_path, mask, capfd))]
    assert not problems, f"{len(problems)} of {len(cases)} fuzzed files broke a promise:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("fmt", fuzzgen.FORMATS)
def test_fuzzed_files_quick(fmt: str, tmp_path: Path, mask_file: Path, capfd) -> None:
    _sweep([c for c in fuzzgen.cases(QUICK_SEEDS) if c[0] == fmt], tmp_path, mask_file, capfd)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", fuzzgen.FORMATS)
def test_fuzzed_files_wide(fmt: str, tmp_path: Path, mask_file: Path, capfd) -> None:
    _sweep([c for c in fuzzgen.cases(SLOW_SEEDS, QUICK_SEEDS) if c[0] == fmt], tmp_path, mask_file, capfd)


def test_generator_is_seeded_and_mutates() -> None:
    for fmt in fuzzgen.FORMATS:
        good = fuzzgen.valid(fmt)
        assert load_photo_bytes(good, fmt).shape == (fuzzgen.H, fuzzgen.W, 3)
        for mutation in fuzzgen.MUTATIONS:
            a, b = fuzzgen.mutate(fmt, mutation, 3), fuzzgen.mutate(fmt, mutation, 3)
            assert a == b
        assert sum(fuzzgen.mutate(fmt, m, s) != good for m in fuzzgen.MUTATIONS for s in range(4)) >= 20


def load_photo_bytes(data: bytes, fmt: str) -> np.ndarray:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"x.{fmt}"
        path.write_bytes(data)
        return load_photo(path).pixels
