"""The first hold of \\ (show the original) on a big scan: how long the GUI thread builds the original's display.

    python benchmarks/bench_hold.py [--mp 100] [--fills 3]

A generated 16-bit RGB photo of MP megapixels gets FILLS 500 x 500 fills; then the original's display
pyramid is built the old way (the whole original photo rebuilt from the history and converted) and the
way the app does it now (convert.original_display: the current display cloned, only the filled boxes
redrawn). Prints
both times, their ratio, and whether the two pyramids are identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from restorer.core.document import Document
    from restorer.core.image import Photo
    from restorer.core.box import BBox
    from restorer.ui.convert import RgbPyramid, original_display

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mp", type=float, default=100.0)
    parser.add_argument("--fills", type=int, default=3)
    args = parser.parse_args()
    side = int((args.mp * 1e6) ** 0.5)
    rng = np.random.default_rng(0)
    doc = Document(Photo((rng.random((side, side, 3), dtype=np.float32) * 65535).astype(np.uint16)))
    for _ in range(args.fills):
        y = int(rng.integers(0, side - 500))
        doc.apply_fill([(BBox(y, y, y + 500, y + 500), np.zeros((500, 500, 3), np.uint16))], "Fill")
    display = RgbPyramid(doc.pixels)
    olds, news = [], []
    for _ in range(3):  # the first round also pays for fresh memory pages, as the app's first hold does
        t = time.perf_counter()
        old = RgbPyramid(doc.original_pixels())
        olds.append(time.perf_counter() - t)
        t = time.perf_counter()
        new = original_display(doc, display)
        news.append(time.perf_counter() - t)
    same = all(np.array_equal(a, b) for a, b in zip(old.levels, new.levels))
    print(f"{side} x {side} 16-bit, {args.fills} fills: whole rebuild {olds[0]:.2f} s first, {min(olds):.2f} s best; "
          f"clone + filled boxes {news[0]:.2f} s first, {min(news):.2f} s best; ratio of bests "
          f"{min(olds) / min(news):.1f}; identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
