"""PNG save level: every level reaches the encoder of every mode, and no level changes a pixel."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.cli import main
from restorer.core import pngchunks
from restorer.core.image import (
    DEFAULT_PNG_LEVEL,
    Photo,
    PhotoMeta,
    load_photo,
    save_photo,
)

MODES = [(1, False), (1, True), (3, False), (3, True)]  # (channels, alpha)


def _photo(c: int, alpha: bool, dtype, h: int = 48, w: int = 64) -> Photo:
    # Smooth ramps plus noise: compressible, so the level shows in the size, and every value varies.
    rng = np.random.default_rng(c + 10 * alpha)
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 3 + yy * 2)[:, :, None] + np.arange(c) * 17
    px = ((base % 256) * (top // 255) + rng.integers(0, 3, (h, w, c))).clip(0, top).astype(dtype)
    al = ((xx * 5) % (top + 1)).astype(dtype) if alpha else None
    return Photo(px, al, PhotoMeta(format=""))


def _idat(path: Path) -> bytes:
    data = path.read_bytes()
    pos, out = len(pngchunks.SIGNATURE), b""
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            out += data[pos + 8 : pos + 8 + n]
        pos += 12 + n
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize(("c", "alpha"), MODES)
def test_every_level_reaches_the_encoder_and_keeps_every_pixel(tmp_path, c, alpha, dtype):
    ph = _photo(c, alpha, dtype)
    sizes = {}
    for level in (0, 1, 3, 9):
        path = tmp_path / f"l{level}.png"
        save_photo(ph, path, png_level=level)
        back = load_photo(path)
        np.testing.assert_array_equal(back.pixels, ph.pixels)
        if alpha:
            np.testing.assert_array_equal(back.alpha, ph.alpha)
        assert back.pixels.dtype == dtype
        # The zlib header of the pixel data names the level group the encoder was asked for.
        assert _idat(path)[1] >> 6 == zlib.compress(b"x", level)[1] >> 6
        sizes[level] = path.stat().st_size
    assert sizes[9] < sizes[0]  # level 0 stores, 9 compresses


def test_default_level_is_the_fast_one(tmp_path):
    ph = _photo(3, False, np.uint8)
    save_photo(ph, tmp_path / "d.png")
    save_photo(ph, tmp_path / "one.png", png_level=1)
    assert DEFAULT_PNG_LEVEL == 1
    assert (tmp_path / "d.png").read_bytes() == (tmp_path / "one.png").read_bytes()


@pytest.mark.parametrize("level", [-1, 10])
def test_level_out_of_range_is_refused_and_writes_nothing(tmp_path, level):
    with pytest.raises(ValueError, match="png_level must be 0..9"):
        save_photo(_photo(3, False, np.uint8), tmp_path / "x.png", png_level=level)
    assert not (tmp_path / "x.png").exists()


def _cli_inputs(tmp_path: Path) -> tuple[Path, Path]:
    ph = _photo(3, False, np.uint8, 60, 80)
    src = tmp_path / "in.png"
    save_photo(ph, src)
    m = np.zeros((60, 80), np.uint8)
    m[20:26, 10:70] = 255
    Image.fromarray(m).save(tmp_path / "mask.png")
    return src, tmp_path / "mask.png"


def test_cli_png_level_sets_the_level_of_the_output(tmp_path, capsys):
    src, mask = _cli_inputs(tmp_path)
    for level in (0, 9):
        out = tmp_path / f"out{level}.png"
        assert main(["inpaint", str(src), "-m", str(mask), "-o", str(out), "--model", "telea",
                     "--png-level", str(level), "-q", "--no-sidecar"]) == 0
        assert _idat(out)[1] >> 6 == zlib.compress(b"x", level)[1] >> 6
    a, b = load_photo(tmp_path / "out0.png"), load_photo(tmp_path / "out9.png")
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert (tmp_path / "out9.png").stat().st_size < (tmp_path / "out0.png").stat().st_size


@pytest.mark.parametrize("text", ["10", "fast", "-1"])
def test_cli_bad_png_level_is_one_line_and_exit_2(tmp_path, capsys, text):
    src, mask = _cli_inputs(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["inpaint", str(src), "-m", str(mask), "-o", str(tmp_path / "o.png"), "--png-level", text])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--png-level: expected a whole number 0-9" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_8bit_pngs_load_to_pillows_pixels_and_alpha(tmp_path: Path, mode: str) -> None:
    rng = np.random.default_rng(len(mode))
    bands = len(mode)
    arr = rng.integers(0, 256, (37, 53, bands), dtype=np.uint8)
    path = tmp_path / f"{mode}.png"
    Image.fromarray(arr[..., 0] if bands == 1 else arr, mode).save(path)
    photo = load_photo(path)
    with Image.open(path) as im:
        want = np.asarray(im)
    want = want[..., None] if want.ndim == 2 else want
    colour = 1 if mode.startswith("L") else 3
    np.testing.assert_array_equal(photo.pixels.reshape(37, 53, -1), want[..., :colour])
    if mode.endswith("A"):
        np.testing.assert_array_equal(photo.alpha, want[..., -1])
    else:
        assert photo.alpha is None
