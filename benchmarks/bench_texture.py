"""Texture-fill speed benchmark (run by hand, not a test): the issue's speed targets for the default fill.

    python benchmarks/bench_texture.py              # all cases
    python benchmarks/bench_texture.py --quick      # smaller photos, one repeat (a smoke run)
    python benchmarks/bench_texture.py --code=../old-checkout --out-stem texture-old   # another tree's code

Cases, each timed warm (models loaded, numba compiled by a first call) through the engine's Python API:
- a 10 % object-sized hole (an ellipse) in a 2000 x 1500 photo: the default against Telea and pypatchmatch;
- the same photo with a hole 4x the area: how the default's time grows with the hole;
- a 1 % scratch (long 8-px lines) on a 24 MP photo: default against Telea and partialconv-compact
  (the default when the texture issue was filed).
Times are reported as ratios to Telea's in the same run, so a busy or faster machine still compares.
The photo is generated (soft tones and grain); results go to benchmarks/results/texture.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# --code=DIR times another checkout's restorer (e.g. an older commit in a git worktree) with these cases
CODE = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--code=")), None)
sys.path.insert(0, str(CODE or ROOT))

from restorer.inference import engine  # noqa: E402
from restorer.models import registry  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import best_of  # noqa: E402


def make_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tones = cv2.resize(rng.random((6, 8, 3), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tones = 0.2 + 0.6 * tones + 0.03 * rng.standard_normal((h, w, 1), dtype=np.float32)
    return (np.clip(tones, 0, 1) * 255).astype(np.uint8)


def ellipse(h: int, w: int, fraction: float) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    ax = int(np.sqrt(fraction * h * w / np.pi * 1.5)), int(np.sqrt(fraction * h * w / np.pi / 1.5))
    cv2.ellipse(m, (w // 2, h // 2), ax, 20, 0, 360, 1, -1)
    return m.astype(bool)


def scratch(h: int, w: int, fraction: float, width: int = 8) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    length = fraction * h * w / width
    for i in range(int(np.ceil(length / (0.9 * np.hypot(h, w))))):
        y = int(h * (0.2 + 0.15 * i))
        cv2.line(m, (int(0.05 * w), y), (int(0.95 * w), min(h - 1, y + int(0.5 * h))), 1, width)
    return m.astype(bool)


def fill(photo: np.ndarray, hole: np.ndarray, model: str) -> None:
    if model == "pypatchmatch":
        from restorer.training.peers import PyPatchMatch

        img = photo.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        PyPatchMatch()(img, hole[None, None].astype(np.float32))
        return
    engine.inpaint(photo, hole, model, engine.EngineOptions(device="cpu", threads=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--model", default=registry.default_model())
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--code", help="=DIR: import restorer from DIR instead of this checkout")
    ap.add_argument("--out-stem", default="texture", help="results file name (benchmarks/results/STEM.md/.json)")
    args = ap.parse_args()
    repeat = 1 if args.quick else args.repeat
    scale = 0.25 if args.quick else 1.0
    h, w = int(1500 * scale), int(2000 * scale)
    photo = make_photo(h, w)
    rows = []

    def case(name: str, photo: np.ndarray, hole: np.ndarray, models: list[str]) -> None:
        for m in models:  # warm: load models, compile numba
            fill(photo, hole, m)
        times = {m: best_of(lambda m=m: fill(photo, hole, m), repeat) for m in models}
        base = times["telea"]
        for m in models:
            rows.append({"case": name, "model": m, "seconds": times[m], "x_telea": times[m] / base,
                         "hole_fraction": float(hole.mean())})
            print(f"{name:34s} {m:20s} {times[m]:7.2f} s  {times[m] / base:6.2f} x Telea", flush=True)

    try:
        import patchmatch  # noqa: F401

        peers = ["pypatchmatch"]
    except Exception:  # noqa: BLE001 - the peer is optional
        peers = []
    case(f"10 % hole, {w}x{h}", photo, ellipse(h, w, 0.10), ["telea", args.model, *peers])
    case(f"40 % hole, {w}x{h}", photo, ellipse(h, w, 0.40), ["telea", args.model])
    H, W = (int(4000 * scale), int(6000 * scale))
    big = make_photo(H, W, seed=1)
    # partialconv-compact: the default when the texture issue was filed ("no slower than today's default")
    case(f"1 % scratch, {W}x{H}", big, scratch(H, W, 0.01), ["telea", args.model, "partialconv-compact"])
    by = {(r["case"], r["model"]): r["seconds"] for r in rows}
    growth = by[(f"40 % hole, {w}x{h}", args.model)] / by[(f"10 % hole, {w}x{h}", args.model)]
    print(f"4x the hole's area: {growth:.2f} x the time")
    RESULTS.mkdir(parents=True, exist_ok=True)
    import restorer

    meta = {"code": str(Path(restorer.__file__).parents[1]), "machine": platform.processor() or platform.machine(), "python": platform.python_version(),
            "quick": args.quick, "growth_4x_area": growth}
    (RESULTS / f"{args.out_stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = ["| case | model | seconds | x Telea |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['case']} | {r['model']} | {r['seconds']:.2f} | {r['x_telea']:.2f} |" for r in rows]
    lines.append(f"\n4x the hole's area (10 % -> 40 %): {growth:.2f} x the default's time.")
    (RESULTS / f"{args.out_stem}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
