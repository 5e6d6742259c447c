"""JPEG master benchmark (run by hand, not a test): what a repaired JPEG saved as JPEG changes, old path vs new.

    python benchmarks/bench_jpeg_master.py            # a 2000 x 1500 photo, a 2 % hole, Telea
    python benchmarks/bench_jpeg_master.py --small    # sides / 4, checks the script quickly

For each source (camera-like 4:2:0 at quality 90, and 4:4:4 at 95) the photo is filled and saved
twice: the full re-encode (``core.image.save_photo`` at its default quality 95, what Ctrl+S did
before) and the JPEG master (``core.jpegmaster.save``). Rows: the share of MCUs whose DCT
coefficients differ from the source's (any block of any component; every MCU when the tables
differ), the share of pixels outside the hole whose decoded value differs from the source's
decode, their mean absolute change, and the save time (best of --repeat). Results go to
benchmarks/results/jpeg_master.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import jpeglib
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import make_photo
from timing import best_of

from restorer.core import image, jpegmaster
from restorer.inference import engine


def hole(h: int, w: int, share: float, seed: int = 1) -> np.ndarray:
    """Scratches and blobs covering ``share`` of the photo, as a damaged print has."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    while mask.mean() < share:
        if rng.random() < 0.5:
            p = rng.integers(0, [w, h], size=(2, 2))
            cv2.line(mask, tuple(map(int, p[0])), tuple(map(int, p[1])), 1, int(rng.integers(2, 6)))
        else:
            c = tuple(int(v) for v in rng.integers(0, [w, h]))
            cv2.ellipse(mask, c, (int(rng.integers(5, 30)), int(rng.integers(5, 30))), 0, 0, 360, 1, -1)
    return mask.astype(bool)


def mcus_changed(src: Path, out: Path) -> float:
    a, b = jpeglib.read_dct(str(src)), jpeglib.read_dct(str(out))
    if not (np.array_equal(a.qt, b.qt) and np.array_equal(a.samp_factor, b.samp_factor)):
        return 1.0
    samp = np.asarray(a.samp_factor).reshape(-1, 2)
    vmax, hmax = (int(x) for x in samp.max(axis=0))
    grid = (-(-a.height // (8 * vmax)), -(-a.width // (8 * hmax)))
    changed = np.zeros(grid, bool)
    for pa, pb, (v, h) in zip((a.Y, a.Cb, a.Cr), (b.Y, b.Cb, b.Cr), samp, strict=True):
        diff = ~np.all(np.asarray(pa) == np.asarray(pb), axis=(2, 3))
        for y, x in zip(*np.nonzero(diff), strict=True):
            changed[y // v, x // h] = True
    return float(changed.mean())


def decoded(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--share", type=float, default=0.02, help="the hole's share of the photo")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    h, w = (375, 500) if args.small else (1500, 2000)
    px = make_photo(h, w)
    mask = hole(h, w, args.share)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kw in (("4:2:0 q90", {"quality": 90, "subsampling": 2}), ("4:4:4 q95", {"quality": 95, "subsampling": 0})):
            src = Path(tmp) / "src.jpg"
            Image.fromarray(px).save(src, **kw)
            photo = image.load_photo(src)
            filled, _ = engine.inpaint(photo.pixels, mask, "telea")
            out_photo = photo.with_pixels(filled)
            original = photo.pixels
            for path_name, save in (
                ("full re-encode (before)", lambda p, o=out_photo: image.save_photo(o, p)),
                ("JPEG master (now)", lambda p, o=out_photo: jpegmaster.save(o, p)),
            ):
                out = Path(tmp) / "out.jpg"
                seconds = best_of(lambda save=save, out=out: save(out), args.repeat)
                got = decoded(out)
                moved = np.any(got != original, axis=2)[~mask]
                delta = np.abs(got.astype(np.int16) - original.astype(np.int16)).max(axis=2)[~mask]
                rows.append({"source": name, "path": path_name, "mcus_changed": mcus_changed(src, out),
                             "pixels_outside_changed": float(moved.mean()),
                             "mean_abs_change_outside": float(delta.mean()), "save_s": seconds})
    size = f"{w} x {h}, hole {mask.mean() * 100:.2f} %"
    lines = [f"# JPEG master vs full re-encode ({size}, Telea)", "",
             "| source | save | MCUs changed | pixels outside the hole changed | mean abs change outside | save s |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['source']} | {r['path']} | {r['mcus_changed'] * 100:.1f} % | {r['pixels_outside_changed'] * 100:.1f} % "
              f"| {r['mean_abs_change_outside']:.3f} | {r['save_s']:.3f} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.small:
        results = ROOT / "benchmarks" / "results"
        (results / "jpeg_master.md").write_text(text)
        (results / "jpeg_master.json").write_text(json.dumps({"size": size, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
