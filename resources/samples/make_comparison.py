"""Draws the README's fill comparison: damaged photo, Telea, Navier-Stokes, each shipped learned model, original.

Every fill goes through the engine, the same path as the app and restorer-cli. The photos are the
project's own: the shipped scratched astronaut print and scikit-image's public-domain samples with
seeded damage masks. Run from the repository root (needs scikit-image and the weights in weights/):

    python resources/samples/make_comparison.py [-o resources/screenshots/fill-comparison.png]

It prints PSNR / SSIM of each fill against the original (whole image), so the picture and the numbers
come from the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from make_samples import make  # noqa: E402

from restorer.inference.engine import EngineOptions, inpaint  # noqa: E402
from restorer.models import registry  # noqa: E402
from restorer.training.masks import draw_blotch, draw_brush  # noqa: E402
from restorer.training.metrics import psnr, ssim  # noqa: E402

TILE = 256


def _square(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)


def scenes() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, clean photo float32 H x W x 3, mask bool H x W)."""
    from skimage import data

    clean, _, mask = make()
    view = (slice(40, 360), slice(150, 470))  # a 320 px part of the print, so that the scratches show
    out = [("scratched print", clean[view], mask[view] > 0)]
    rng = np.random.default_rng(7)
    for label, load, draw in (("coffee, blotches", data.coffee, draw_blotch), ("cat, strokes", data.chelsea, draw_brush)):
        photo = _square(load(), 384).astype(np.float32) / 255.0
        canvas = np.zeros(photo.shape[:2], np.uint8)
        for _ in range(3):
            draw(canvas, rng)
        out.append((label, photo, canvas > 127))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=str(REPO / "resources" / "screenshots" / "fill-comparison.png"))
    args = parser.parse_args(argv)
    learned = [s.name for s in registry.all_specs() if s.weights and registry.check(s).ready]
    models = ["telea", "navier-stokes", *learned]
    options = EngineOptions(device="cpu")
    rows = []
    for label, clean, hole in scenes():
        clean = (clean * 255 + 0.5).astype(np.uint8)  # photos reach the engine as 8-bit pixels
        damaged = clean.copy()
        damaged[hole] = 255
        tiles = [damaged]
        scores = []
        for name in models:
            filled, _ = inpaint(damaged, hole, name, options)
            tiles.append(filled)
            a, b = filled / 255.0, clean / 255.0
            scores.append(f"{name} {psnr(a, b):.2f} dB / {ssim(a, b):.4f}")
        tiles.append(clean)
        print(f"{label} ({hole.mean() * 100:.1f} % hole): " + ", ".join(scores))
        rows.append(np.concatenate([cv2.resize(t, (TILE, TILE), interpolation=cv2.INTER_AREA) for t in tiles], 1))
    grid = np.concatenate(rows, 0)
    head = np.full((24, grid.shape[1], 3), 255, np.uint8)
    for j, name in enumerate(["damaged", *models, "original"]):
        cv2.putText(head, name, (j * TILE + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = cv2.imwrite(str(out), cv2.cvtColor(np.concatenate([head, grid], 0), cv2.COLOR_RGB2BGR))
    if not ok:
        print(f"{out}: could not write the picture", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
