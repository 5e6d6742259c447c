"""Choosing the combined detector's routes (run by hand): which detector's map of each kind to keep, from which threshold.

    python benchmarks/calibrate_combined.py --photos ../shared/data/train/bsds500 [--weights-dir weights]

The classical detector and damage-unet each run once per evaluate-detection pair (same protocol,
its own seed, *training* photos: never the validation photos the README reports on). Then a
coordinate search over one threshold per (detector, kind) map, "off" included, keeps the union of
the maps at their thresholds with the best F1 over all kinds (ties: fewer clean pixels flagged),
starting from each detector alone and from both at 0.5. It prints the ROUTES to put in
restorer/detection/combined.py and writes benchmarks/results/combined_calibration.md/.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.core.image import LOAD_SUFFIXES, load_photo
from restorer.detection import registry
from restorer.detection.damage import KINDS, level_of
from restorer.detection.evaluate import CLEAN, PRECISION_PX, RECALL_PX, ROWS, Score, _near, make_pair
from restorer.detection.tiles import detect_blocking

DETECTORS = ("classical", "damage-unet")
GRID = (None, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)
RESULTS = ROOT / "benchmarks" / "results"


class Cases:
    """Every pair's maps (uint8) and truth, with the truth's 3 px neighbourhood made once."""

    def __init__(self, photos: list[np.ndarray], pairs: int, seed: int, weights: Path | None) -> None:
        detectors = {n: registry.load(n, weights) for n in DETECTORS}
        self.items = []
        for row in [*ROWS, CLEAN]:
            for i in range(pairs):
                pair = make_pair(photos[i % len(photos)], row, i, seed)
                maps = {}
                for name, det in detectors.items():
                    for kind, m in detect_blocking(pair.pixels, det).maps.items():
                        maps[(name, kind)] = m
                truth = pair.any
                self.items.append((row, truth, _near(truth, PRECISION_PX), maps))
                print(f"{row} {i + 1}/{pairs}", file=sys.stderr, flush=True)

    @staticmethod
    def found(maps: dict, chosen: dict[tuple[str, str], float | None], shape: tuple[int, ...]) -> np.ndarray:
        """The pixels flagged by the chosen maps, each at its own threshold (None = map not used)."""
        found = np.zeros(shape, bool)
        for key, t in chosen.items():
            if t is not None:
                found |= maps[key] >= level_of(t)
        return found

    def evaluate(self, chosen: dict[tuple[str, str], float | None]) -> dict[str, float]:
        total, shares = Score(), []
        for row, truth, near, maps in self.items:
            found = self.found(maps, chosen, truth.shape)
            if row == CLEAN:
                shares.append(float(found.mean()))
            else:
                right = int((found & near).sum())
                hit = int((truth & _near(found, RECALL_PX)).sum())
                total = total + Score(int(found.sum()), right, int(truth.sum()), hit)
        return {"precision": total.precision, "recall": total.recall, "f1": total.f1,
                "clean_flagged": float(np.mean(shares))}


def better(a: dict[str, float], b: dict[str, float] | None) -> bool:
    return b is None or (round(a["f1"], 4), -a["clean_flagged"]) > (round(b["f1"], 4), -b["clean_flagged"])


def search(cases: Cases, start: dict[tuple[str, str], float | None], rounds: int = 3, only: str | None = None):
    """Coordinate ascent over one map's threshold at a time (``only``: that detector's maps alone)."""
    chosen, best = dict(start), cases.evaluate(start)
    for _ in range(rounds):
        moved = False
        for key in chosen:
            if only is not None and key[0] != only:
                continue
            for t in GRID:
                if t == chosen[key]:
                    continue
                trial = {**chosen, key: t}
                r = cases.evaluate(trial)
                if better(r, best):
                    chosen, best, moved = trial, r, True
        if not moved:
            break
    return chosen, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", required=True)
    parser.add_argument("--weights-dir", default=None)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--out", default=str(RESULTS / "combined_calibration"))
    args = parser.parse_args()
    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in LOAD_SUFFIXES)[:args.pairs]
    photos = [load_photo(f).pixels for f in files]
    cases = Cases(photos, args.pairs, args.seed, Path(args.weights_dir) if args.weights_dir else None)
    keys = [(d, k) for d in DETECTORS for k in KINDS]
    starts = {
        "damage-unet alone": {key: (0.5 if key[0] == "damage-unet" else None) for key in keys},
        "classical alone": {key: (0.5 if key[0] == "classical" else None) for key in keys},
        "both at 0.5": dict.fromkeys(keys, 0.5),
    }
    table = []
    for label, start in starts.items():
        table.append((label, start, cases.evaluate(start)))
    # each detector alone at its best single threshold (damage-unet: what its card's logit_bias should
    # put at 0.5), then per kind: the bars the combination has to pass
    for name in DETECTORS:
        one = [({key: (t if key[0] == name else None) for key in keys}) for t in GRID if t is not None]
        scored = [(ch, cases.evaluate(ch)) for ch in one]
        ch, r = scored[0]
        for c, q in scored[1:]:
            if better(q, r):
                ch, r = c, q
        table.append((f"{name} alone, one threshold", ch, r))
    for name in DETECTORS:
        chosen, r = search(cases, starts[f"{name} alone"], only=name)
        table.append((f"{name} alone, searched", chosen, r))
    found = None
    for label, start in starts.items():
        chosen, r = search(cases, start)
        table.append((f"searched from {label}", chosen, r))
        if found is None or better(r, found[1]):
            found = (chosen, r)
    assert found is not None
    chosen, best = found
    routes = {kind: tuple((d, t) for (d, k), t in chosen.items() if k == kind and t is not None) for kind in KINDS}
    lines = ["# Combined detector calibration", "",
             f"`python benchmarks/calibrate_combined.py --photos {args.photos} --pairs {args.pairs} --seed {args.seed}`"
             + (f" `--weights-dir {args.weights_dir}`" if args.weights_dir else ""), "",
             "Union of the maps at the thresholds given (off: not used); precision / recall / F1 over all kinds; "
             "clean: mean share of the clean photos' pixels flagged.", "",
             "| maps | " + " | ".join(f"{d} {k}" for d, k in keys) + " | P / R / F1 | clean |",
             "|" + " --- |" * (len(keys) + 3)]
    for label, ch, r in table:
        cells = ["off" if ch[key] is None else f"{ch[key]:g}" for key in keys]
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {r['precision']:.2f} / {r['recall']:.2f} / {r['f1']:.3f} | {r['clean_flagged'] * 100:.3f} % |")
    lines += ["", f"ROUTES = {routes!r}", ""]
    Path(args.out + ".md").write_text("\n".join(lines), encoding="utf-8")
    Path(args.out + ".json").write_text(json.dumps(
        {"photos": Path(args.photos).name, "pairs": args.pairs, "seed": args.seed, "best": best,
         "routes": {k: [list(x) for x in v] for k, v in routes.items()},
         "table": [{"label": lab, "thresholds": {f"{d} {k}": t for (d, k), t in ch.items()}, **r}
                   for lab, ch, r in table]}, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
