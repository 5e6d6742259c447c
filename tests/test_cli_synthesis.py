"""The CLI's synthesis options: sampling areas, grain, and their one-line refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from restorer.cli import main


def _photo(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    img = np.zeros((120, 160, 3), np.float32)
    img[:, :80] = 0.25
    img[:, 80:] = 0.75
    img = np.clip(img + rng.normal(0, 0.04, img.shape), 0, 1)
    pixels = (img * 255).astype(np.uint8)
    mask = np.zeros((120, 160), bool)
    mask[40:80, 20:60] = True  # in the dark half
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    return tmp_path / "photo.png", tmp_path / "mask.png", pixels, mask


def _area(tmp_path: Path, name: str, area: np.ndarray) -> Path:
    Image.fromarray(area.astype(np.uint8) * 255).save(tmp_path / name)
    return tmp_path / name


def test_sample_area_decides_where_patchmatch_copies_from(tmp_path: Path) -> None:
    photo, mask_path, pixels, mask = _photo(tmp_path)
    bright = np.zeros(mask.shape, bool)
    bright[:, 100:] = True
    area = _area(tmp_path, "area.png", bright)
    out = tmp_path / "out.png"
    assert main(["inpaint", str(photo), "-m", str(mask_path), "-o", str(out), "--model", "patchmatch",
                 "--sample-area", str(area), "-q"]) == 0
    filled = np.asarray(Image.open(out))
    assert filled[mask].mean() > 150  # copied from the bright half, far from the hole
    assert np.array_equal(filled[~mask], pixels[~mask])
    out2 = tmp_path / "out2.png"
    dark = np.zeros(mask.shape, bool)
    dark[:, :80] = True
    assert main(["inpaint", str(photo), "-m", str(mask_path), "-o", str(out2), "--model", "patchmatch",
                 "--never-copy-from", str(_area(tmp_path, "deny.png", dark)), "-q"]) == 0
    assert np.asarray(Image.open(out2))[mask].mean() > 150


def test_an_empty_sampling_area_is_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    photo, mask_path, _, mask = _photo(tmp_path)
    area = _area(tmp_path, "empty.png", np.zeros(mask.shape, bool))
    out = tmp_path / "out.png"
    code = main(["inpaint", str(photo), "-m", str(mask_path), "-o", str(out), "--model", "patchmatch",
                 "--sample-area", str(area)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and not out.exists()
    assert len(err) == 1 and "nothing to copy from" in err[0]


def test_grain_flag_gives_a_diffusion_fill_the_photos_grain(tmp_path: Path) -> None:
    photo, mask_path, pixels, mask = _photo(tmp_path)
    plain, grainy = tmp_path / "plain.png", tmp_path / "grainy.png"
    assert main(["inpaint", str(photo), "-m", str(mask_path), "-o", str(plain), "--model", "telea", "-q"]) == 0
    assert main(["inpaint", str(photo), "-m", str(mask_path), "-o", str(grainy), "--model", "telea",
                 "--grain", "-q"]) == 0
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    def lap(path: Path) -> float:
        g = np.asarray(Image.open(path).convert("L"), np.float32)
        return float(cv2.Laplacian(g, cv2.CV_32F)[inner].std())

    ref = float(cv2.Laplacian(pixels.mean(axis=2).astype(np.float32), cv2.CV_32F)[~mask].std())
    assert lap(plain) < 0.3 * ref
    assert 0.6 * ref < lap(grainy) < 1.5 * ref
