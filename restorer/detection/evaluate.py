"""Scoring detections against known damage: precision, recall and F1 with a pixel tolerance, clean-photo
false alarms, and the evaluation protocol behind ``restorer-cli evaluate-detection``.

The tolerances are the issue's: a detected pixel is right when it lies within ``PRECISION_PX`` (3)
of true damage (a mask is drawn a little wider than the damage on purpose), and a damaged pixel is
found when a detection lies within ``RECALL_PX`` (1).

The protocol: for each kind the renderer draws (scratches, dust, hairs, cracks), ``pairs`` photos
made to look like old prints (render.damaged_print) carry damage of that kind alone, so each row
says how well that kind is found whatever name a detector gives it; ``pairs`` more go through
the same print look undamaged, and every pixel flagged on them is a false alarm. Photo i of a
row is photo i (cycling) of the folder, its randomness keyed by (seed, row, i): every detector of
a run, and every run with the same seed, sees the same pairs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from restorer.detection.damage import DEFAULT_THRESHOLD, Progress

PRECISION_PX = 3
RECALL_PX = 1


def _near(mask: np.ndarray, px: int) -> np.ndarray:
    if px <= 0 or not mask.any():
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate(mask.astype(np.uint8), disc).astype(bool)


@dataclass
class Score:
    """Pixel counts; add scores of many photos with ``+`` before reading the rates."""

    detected: int = 0
    detected_right: int = 0
    damaged: int = 0
    damaged_found: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(self.detected + other.detected, self.detected_right + other.detected_right,
                     self.damaged + other.damaged, self.damaged_found + other.damaged_found)

    @property
    def precision(self) -> float:
        return self.detected_right / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.damaged_found / self.damaged if self.damaged else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(detected: np.ndarray, truth: np.ndarray, *, all_truth: np.ndarray | None = None) -> Score:
    """Score a bool detection against bool ``truth``.

    ``all_truth`` (default ``truth``): what counts as damage for precision, so a detector scored on
    one kind is not blamed for finding another kind that is really there.
    """
    all_truth = truth if all_truth is None else all_truth
    right = detected & _near(all_truth, PRECISION_PX)
    found = truth & _near(detected, RECALL_PX)
    return Score(int(detected.sum()), int(right.sum()), int(truth.sum()), int(found.sum()))


def flagged_share(detected: np.ndarray) -> float:
    """The share of pixels flagged (on a clean photo every one is a false alarm)."""
    return float(detected.mean()) if detected.size else 0.0


# --- the protocol --------------------------------------------------------------------------------

# Items per 512 x 512 px when a photo carries one kind alone: about twice the mixed default, so a
# CBSD68 photo (481 x 321) holds a few lines or a few dozen specks.
ROWS: dict[str, dict[str, float]] = {
    "scratches": {"scratches": 5.0},
    "dust": {"dust": 50.0},
    "hairs": {"hairs": 4.0},
    "cracks": {"cracks": 2.5},
}
CLEAN = "clean"


def make_pair(pixels: np.ndarray, row: str, index: int, seed: int):  # -> render.Damaged
    """Pair ``index`` of ``row`` (a kind of ROWS, or CLEAN): the photo as an old print, damaged with that kind alone."""
    from restorer.detection.render import DamageCounts, damaged_print

    keys = [*ROWS, CLEAN]
    rng = np.random.default_rng([seed, keys.index(row), index])
    if row == CLEAN:
        return damaged_print(pixels, rng, None)
    items = ROWS[row]
    counts = DamageCounts(scratches=items.get("scratches", 0.0), dust=items.get("dust", 0.0),
                          hairs=items.get("hairs", 0.0), cracks=items.get("cracks", 0.0))
    for _ in range(20):  # a damaged pair holds damage: draw again (same seeded stream) when none showed
        pair = damaged_print(pixels, rng, counts)
        if pair.any.any():
            break
    return pair


def evaluate_detectors(detectors: Mapping[str, Any], photos: Sequence[np.ndarray], pairs: int, seed: int = 0, *,
                       thresholds: Sequence[float] = (DEFAULT_THRESHOLD,), cancel: threading.Event | None = None,
                       on_progress: Callable[[Progress], None] | None = None) -> dict[str, Any]:
    """Score each loaded detector (name -> tiles.Detector) on the same seeded pairs; a JSON-ready dict.

    Each detector runs once per pair; its maps are scored at every one of ``thresholds`` (a sweep),
    under the key "NAME" for one threshold, "NAME @ T" for several.
    """
    from restorer.detection.tiles import detect_blocking

    if not photos:
        raise ValueError("no photos to evaluate on")
    keys = {(name, t): name if len(thresholds) == 1 else f"{name} @ {t:g}" for name in detectors for t in thresholds}
    scores = {key: {row: Score() for row in ROWS} for key in keys.values()}
    flagged: dict[str, list[float]] = {key: [] for key in keys.values()}
    seconds = dict.fromkeys(detectors, 0.0)
    rows = [*ROWS, CLEAN]
    total, done = len(rows) * pairs, 0
    for row in rows:
        for i in range(pairs):
            pair = make_pair(photos[i % len(photos)], row, i, seed)
            truth = pair.any
            for name, detector in detectors.items():
                t0 = time.perf_counter()
                damage = detect_blocking(pair.pixels, detector, cancel)
                seconds[name] += time.perf_counter() - t0
                for t in thresholds:
                    key, found = keys[(name, t)], damage.mask(t)
                    if row == CLEAN:
                        flagged[key].append(flagged_share(found))
                    else:
                        scores[key][row] = scores[key][row] + score(found, truth)
            done += 1
            if on_progress is not None:
                on_progress(Progress(done, total, f"{row} {i + 1}/{pairs}"))
    results = {}
    for (name, t), key in keys.items():
        per_row = {row: _rates(s) for row, s in scores[key].items()}
        everything = Score()
        for s in scores[key].values():
            everything = everything + s
        shares = flagged[key]
        results[key] = {
            "detector": name, "threshold": t, "kinds": per_row, "all": _rates(everything),
            "clean": {"photos": len(shares), "mean": float(np.mean(shares)), "max": float(np.max(shares)),
                      "none_flagged": sum(1 for x in shares if x == 0)},
            "seconds": seconds[name],
        }
    protocol = {"pairs_per_row": pairs, "seed": seed, "thresholds": list(thresholds), "photos": len(photos),
                "precision_px": PRECISION_PX, "recall_px": RECALL_PX, "rows": ROWS}
    return {"protocol": protocol, "results": results}


def _rates(s: Score) -> dict[str, float]:
    return {"precision": s.precision, "recall": s.recall, "f1": s.f1, "damaged_px": s.damaged, "detected_px": s.detected}


def markdown_table(evaluation: Mapping[str, Any]) -> str:
    """One row per detector: precision / recall / F1 per kind and over all, and the clean photos' flagged share."""
    kinds = list(ROWS)
    head = ["detector", *kinds, "all kinds", "clean photos flagged (mean / max)", "seconds (detection)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def cell(r: Mapping[str, float]) -> str:
        return f"{r['precision']:.2f} / {r['recall']:.2f} / {r['f1']:.2f}"

    for name, r in evaluation["results"].items():
        clean = r["clean"]
        cells = [name, *(cell(r["kinds"][k]) for k in kinds), f"**{cell(r['all'])}**",
                 f"{clean['mean'] * 100:.3f} % / {clean['max'] * 100:.3f} %", f"{r['seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    p = evaluation["protocol"]
    lines.append("")
    at = ", ".join(f"{t:g}" for t in p["thresholds"])
    lines.append(f"Cells: precision / recall / F1 at threshold {at}; {p['pairs_per_row']} pairs per kind "
                 f"and {p['pairs_per_row']} clean photos from {p['photos']} photos, seed {p['seed']}; a detected pixel "
                 f"is right within {p['precision_px']} px of true damage, a damaged pixel found within "
                 f"{p['recall_px']} px of a detection.")
    return "\n".join(lines) + "\n"
