"""restorer-cli detect, inpaint --detect and batch --detect: masks of the photo's size, fills without mask files, one line for bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.detection.render import DamageCounts, add_grain, render_damage


def _photo(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(cv2.resize(rng.random((5, 5), dtype=np.float32), (240, 180), interpolation=cv2.INTER_CUBIC), (0, 0), 12)
    field = (field - field.min()) / (field.max() - field.min()) * 0.5 + 0.25
    return add_grain((field * 255).astype(np.uint8), rng, 0.012)


@pytest.fixture
def damaged(tmp_path: Path):
    rendered = render_damage(_photo(), 4, DamageCounts(scratches=6, dust=60, hairs=0, cracks=0))
    path = tmp_path / "scan.png"
    Image.fromarray(rendered.pixels).save(path)
    return path, rendered


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_detect_writes_a_grown_8_bit_mask_of_the_photos_size(damaged, tmp_path: Path, capsys) -> None:
    path, rendered = damaged
    code, out, err = _run(["detect", path, "-o", tmp_path / "mask.png"], capsys)
    assert code == 0, err
    mask = np.asarray(Image.open(tmp_path / "mask.png"))
    assert mask.dtype == np.uint8 and mask.shape == rendered.pixels.shape
    assert set(np.unique(mask)) == {0, 255}
    flagged = mask == 255
    truth = rendered.any
    assert (truth & flagged).sum() >= 0.8 * truth.sum()  # found
    code, _, _ = _run(["detect", path, "-o", tmp_path / "tight.png", "--grow", "0"], capsys)
    tight = np.asarray(Image.open(tmp_path / "tight.png")) == 255
    assert flagged.sum() > tight.sum() and (tight & ~flagged).sum() == 0  # drawn wider than the damage
    assert "pixels of damage" in out


def test_threshold_and_kinds_narrow_the_mask(damaged, tmp_path: Path, capsys) -> None:
    path, _ = damaged
    sizes = {}
    for name, extra in {"all": [], "strict": ["--threshold", "0.95"], "dust": ["--kinds", "dust"]}.items():
        code, _, err = _run(["detect", path, "-o", tmp_path / f"{name}.png", *extra], capsys)
        assert code == 0, err
        sizes[name] = int((np.asarray(Image.open(tmp_path / f"{name}.png")) == 255).sum())
    assert sizes["all"] > sizes["strict"] > 0
    assert sizes["all"] > sizes["dust"] > 0


def test_clean_photo_gives_an_empty_mask_and_says_so(tmp_path: Path, capsys) -> None:
    Image.fromarray(_photo(1)).save(tmp_path / "clean.png")
    code, out, _ = _run(["detect", tmp_path / "clean.png", "-o", tmp_path / "m.png"], capsys)
    assert code == 0
    assert "no damage found" in out
    assert not np.asarray(Image.open(tmp_path / "m.png")).any()


def test_inpaint_detect_fills_the_damage_and_keeps_the_rest(damaged, tmp_path: Path, capsys) -> None:
    path, rendered = damaged
    code, _, err = _run(["inpaint", path, "--detect", "-o", tmp_path / "out.png", "--model", "telea", "-q"], capsys)
    assert code == 0, err
    out = np.asarray(Image.open(tmp_path / "out.png"))
    _run(["detect", path, "-o", tmp_path / "m.png", "-q"], capsys)
    mask = np.asarray(Image.open(tmp_path / "m.png")) == 255
    assert np.array_equal(out[~mask], rendered.pixels[~mask])
    clean = _photo()
    before = np.abs(rendered.pixels.astype(int) - clean)[rendered.any].mean()
    after = np.abs(out.astype(int) - clean)[rendered.any].mean()
    assert after < 0.5 * before  # the damage is mostly gone


def test_batch_detect_fills_every_photo_without_mask_files(damaged, tmp_path: Path, capsys) -> None:
    path, _ = damaged
    folder = tmp_path / "in"
    folder.mkdir()
    path.rename(folder / "a.png")
    Image.fromarray(_photo(1)).save(folder / "b.png")
    code, out, err = _run(["batch", folder, "--detect", "-o", tmp_path / "out", "--model", "telea"], capsys)
    assert code == 0, err
    assert (tmp_path / "out" / "a.png").is_file() and (tmp_path / "out" / "b.png").is_file()
    assert "2 restored, 0 failed, 0 skipped" in out
    assert "b.png: no damage found" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["detect", "{photo}", "-o", "{out}", "--threshold", "1.5"], "threshold"),
        (["detect", "{photo}", "-o", "{out}", "--kinds", "mould"], "mould"),
        (["detect", "{photo}", "-o", "{out}", "--detector", "nope"], "nope"),
        (["detect", "{dir}/missing.png", "-o", "{out}"], "missing.png"),
        (["detect", "{photo}", "-o", "{dir}/mask.jpg"], "PNG"),
        (["detect", "{photo}", "-o", "{photo}"], "input photo"),
        (["inpaint", "{photo}", "-o", "{dir}/o.png"], "--detect"),
        (["inpaint", "{photo}", "--detect", "-m", "{photo}", "-o", "{dir}/o.png"], "not both"),
        (["batch", "{dir}", "-o", "{dir}/out"], "--detect"),
    ],
)
def test_bad_input_gets_one_line_and_exit_1(argv: list[str], needle: str, damaged, tmp_path: Path, capsys) -> None:
    path, _ = damaged
    fill = {"photo": path, "out": tmp_path / "m.png", "dir": tmp_path}
    before = sorted(tmp_path.iterdir())
    code, _, err = _run([a.format(**fill) for a in argv], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("restorer-cli: error:") and needle in lines[0], err
    assert "Traceback" not in err
    assert sorted(tmp_path.iterdir()) == before  # nothing written
