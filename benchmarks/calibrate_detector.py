"""Calibrating a learned detector (run by hand): per-kind thresholds chosen on calibration photos.

    python benchmarks/calibrate_detector.py --weights-dir runs/det-w --photos ../shared/data/train/bsds500

The detector (with its card's current calibration; export it without --logit-bias) runs once per
evaluate-detection pair (same protocol, its own seed); every combination of per-kind thresholds is
then scored on the union mask, and the one with the best F1 over all kinds (ties: fewer clean pixels
flagged) is printed with the export option that bakes it in: threshold t becomes logit bias ln(t / (1 - t)), so
that 0.5 is the chosen point. Use training photos, never the validation photos the table reports on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.core.image import LOAD_SUFFIXES, load_photo
from restorer.detection import registry
from restorer.detection.damage import KINDS, threshold_mask
from restorer.detection.evaluate import (
    CLEAN,
    ROWS,
    Score,
    flagged_share,
    make_pair,
    score,
)
from restorer.detection.tiles import detect_blocking

GRID = (0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="damage-unet")
    parser.add_argument("--weights-dir", required=True)
    parser.add_argument("--photos", required=True)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "detection_calibration_kinds.json"))
    args = parser.parse_args()
    detector = registry.load(args.detector, Path(args.weights_dir))
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in LOAD_SUFFIXES)[:args.pairs]
    photos = [load_photo(f).pixels for f in files]
    cases = []
    for row in [*ROWS, CLEAN]:
        for i in range(args.pairs):
            pair = make_pair(photos[i % len(photos)], row, i, args.seed)
            cases.append((row, pair.any, detect_blocking(pair.pixels, detector).maps))
    results = []
    for combo in itertools.product(GRID, repeat=len(KINDS)):
        total, shares = Score(), []
        for row, truth, maps in cases:
            found = np.zeros(truth.shape, bool)
            for kind, t in zip(KINDS, combo):
                found |= threshold_mask(maps[kind], t)
            if row == CLEAN:
                shares.append(flagged_share(found))
            else:
                total = total + score(found, truth)
        results.append({"thresholds": dict(zip(KINDS, combo)), "precision": total.precision, "recall": total.recall,
                        "f1": total.f1, "clean_flagged": float(np.mean(shares))})
    results.sort(key=lambda r: (-round(r["f1"], 3), r["clean_flagged"]))
    best = results[0]
    bias = ",".join(f"{kind}={math.log(t / (1 - t)):.3f}" for kind, t in best["thresholds"].items())
    for r in results[:8]:
        print(json.dumps(r))
    print(f"best: {best['thresholds']} -> restorer-cli export CKPT --name {args.detector} --logit-bias {bias}")
    Path(args.out).write_text(json.dumps({"photos": Path(args.photos).name, "pairs": args.pairs, "seed": args.seed,
                                          "best": best, "logit_bias": bias, "top": results[:20]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
