"""How sure a damage-unet proposal must be somewhere (``LearnedDetector.confirm``), chosen on training photos.

    python benchmarks/calibrate_confirm.py --photos ../shared/data/train/bsds500

evaluate-detection's protocol on the calibration pairs (seed 99, 20 pairs per kind and 20 clean, as
calibrate_combined.py): damage-unet runs once per pair; its levels are scored at threshold 0.5 with
every region kept, with regions kept only where they reach a higher level somewhere (``confirm``),
and, for comparison, with regions grown around sure pixels down to a lower level (hysteresis).
Writes benchmarks/results/detection_confirm_calibration.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.core.image import LOAD_SUFFIXES, load_photo  # noqa: E402
from restorer.detection import registry  # noqa: E402
from restorer.detection.damage import proposals  # noqa: E402
from restorer.detection.evaluate import CLEAN, PRECISION_PX, RECALL_PX, ROWS, Score, _near, make_pair  # noqa: E402
from restorer.detection.tiles import detect_blocking  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
THRESHOLD = 0.5


def rule(levels: np.ndarray, keep_at: float, seed_at: float) -> np.ndarray:
    """Regions at ``keep_at`` that reach ``seed_at`` somewhere (confirm: seed_at > keep_at; hysteresis:
    keep_at < THRESHOLD = seed_at)."""
    confirm = 0.0 if seed_at <= keep_at else (seed_at - keep_at) / (1.0 - keep_at)
    return proposals(levels, keep_at, confirm)[1] > 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=99)
    args = ap.parse_args()
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in LOAD_SUFFIXES)[:args.pairs]
    photos = [load_photo(f).pixels for f in files]
    detector = registry.load("damage-unet")
    items = []
    for row in [*ROWS, CLEAN]:
        for i in range(args.pairs):
            pair = make_pair(photos[i % len(photos)], row, i, args.seed)
            items.append((row, pair.any, detect_blocking(pair.pixels, detector).levels()))
    variants = [("every region at 0.5", 0.5, 0.5)]
    variants += [(f"regions at 0.5 that reach {c:g}", 0.5, c) for c in (0.6, 0.7, 0.8, 0.9, 0.95, 0.99)]
    variants += [(f"regions at {lo:g} that reach 0.5 (hysteresis)", lo, 0.5) for lo in (0.4, 0.3, 0.2, 0.1)]
    lines = [f"damage-unet on {len(files)} calibration photos ({Path(args.photos).name}), {args.pairs} pairs per "
             f"kind and {args.pairs} clean, seed {args.seed}", "",
             "| proposals | precision | recall | F1 | clean pixels flagged |", "| --- | --- | --- | --- | --- |"]
    for name, keep_at, seed_at in variants:
        total, clean = Score(), []
        for row, truth, levels in items:
            found = rule(levels, keep_at, seed_at)
            if row == CLEAN:
                clean.append(float(found.mean()))
                continue
            total = total + Score(int(found.sum()), int((found & _near(truth, PRECISION_PX)).sum()),
                                  int(truth.sum()), int((truth & _near(found, RECALL_PX)).sum()))
        lines.append(f"| {name} | {total.precision:.3f} | {total.recall:.3f} | {total.f1:.4f} | "
                     f"{np.mean(clean) * 100:.3f} % |")
        print(lines[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "detection_confirm_calibration.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
