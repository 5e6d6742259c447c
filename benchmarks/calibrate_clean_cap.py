"""damage-unet's per-kind thresholds under a cap on clean pixels flagged (run by hand, training photos only).

    python benchmarks/calibrate_clean_cap.py --photos ../shared/data/train/bsds500 --weights-dir DIR --cap 0.065

calibrate_combined.py takes the best F1 (clean flags only break ties). This scores damage-unet alone on
the same pairs (evaluate-detection's protocol, seed 99) for every combination of one threshold per map
from GRID and keeps the best F1 among those that flag at most ``--cap`` % of the clean photos' pixels,
so a new export can be held to the clean-flag level of the weights it replaces. Add the logit of each
chosen threshold to the export's logit bias. Writes benchmarks/results/detection_calibration_capped.md.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import calibrate_combined as cc  # noqa: E402

from restorer.core.image import LOAD_SUFFIXES, load_photo  # noqa: E402
from restorer.detection.damage import KINDS  # noqa: E402
from restorer.detection.evaluate import CLEAN, RECALL_PX, Score, _near  # noqa: E402

GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)
NAME = "damage-unet"


def per_row(cases: cc.Cases, chosen: dict[tuple[str, str], float | None]) -> dict[str, str]:
    scores: dict[str, Score] = {}
    clean: list[float] = []
    for row, truth, near, maps in cases.items:
        found = cc.Cases.found(maps, chosen, truth.shape)
        if row == CLEAN:
            clean.append(float(found.mean()))
        else:
            s = Score(int(found.sum()), int((found & near).sum()), int(truth.sum()),
                      int((truth & _near(found, RECALL_PX)).sum()))
            scores[row] = scores.get(row, Score()) + s
    out = {r: f"{s.precision:.2f} / {s.recall:.2f} / {s.f1:.3f}" for r, s in scores.items()}
    out[CLEAN] = f"{np.mean(clean) * 100:.3f} %"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", required=True)
    parser.add_argument("--weights-dir", required=True)
    parser.add_argument("--cap", type=float, required=True, help="most clean pixels flagged, in %%")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--out", default=str(cc.RESULTS / "detection_calibration_capped"))
    args = parser.parse_args()
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in LOAD_SUFFIXES)[:args.pairs]
    cc.DETECTORS = (NAME,)
    cases = cc.Cases([load_photo(f).pixels for f in files], args.pairs, args.seed, Path(args.weights_dir))
    keys = [(NAME, k) for k in KINDS]
    half = dict.fromkeys(keys, 0.5)
    best = None
    for combo in itertools.product(GRID, repeat=len(keys)):
        chosen = dict(zip(keys, combo))
        r = cases.evaluate(chosen)
        if r["clean_flagged"] * 100 <= args.cap and (best is None or cc.better(r, best[1])):
            best = (chosen, r)
    lines = ["# damage-unet thresholds under a clean-flag cap", "",
             f"`python benchmarks/calibrate_clean_cap.py --photos {args.photos} --weights-dir {args.weights_dir} "
             f"--cap {args.cap:g}` (pairs {args.pairs}, seed {args.seed})", "",
             "| thresholds | " + " | ".join(KINDS) + " | P / R / F1 | clean | per row |", "|" + " --- |" * 7]
    for label, ch in (("0.5", half), (f"best F1 with clean <= {args.cap:g} %", best[0] if best else None)):
        if ch is None:
            lines.append(f"| {label} | none under the cap | | | | | |")
            continue
        r = cases.evaluate(ch)
        cells = " | ".join(f"{ch[key]:g}" for key in keys)
        lines.append(f"| {label} | {cells} | {r['precision']:.2f} / {r['recall']:.2f} / {r['f1']:.3f} | "
                     f"{r['clean_flagged'] * 100:.3f} % | {per_row(cases, ch)} |")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
