"""Peak memory of a fill on a very large scan (run by hand, not a test): the texture issue's target.

    python benchmarks/bench_memory.py                      # 100 MP 16-bit RGB, 10 % hole, default model
    python benchmarks/bench_memory.py --megapixels 24 --models telea guided-ensemble

Target (issue 11): a 100 MP 16-bit scan with a 10 % hole peaks under 2x the photo's bytes plus the
model. Each fill runs in a fresh process that loads the photo from a .npy and fills it in place, as
the CLI does; its peak RSS (VmHWM) is compared with ``budget`` = 2 x the photo's bytes + the peak of
a process that only loaded the same model and filled a small photo (interpreter, libraries, weights,
numba code). Results: benchmarks/results/memory.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scratch import peak_rss_kib  # noqa: E402
from bench_texture import ellipse  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def photo16(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A 16-bit RGB photo with soft tones and grain, built in bands (no photo-sized float temporaries)."""
    import cv2

    rng = np.random.default_rng(seed)
    tones = rng.random((6, 8, 3), dtype=np.float32)
    out = np.empty((h, w, 3), np.uint16)
    band = 1024
    for y in range(0, h, band):
        rows = min(band, h - y)
        full = cv2.resize(tones, (w, h), interpolation=cv2.INTER_CUBIC)[y:y + rows] if h * w <= 4_000_000 else None
        if full is None:  # resize the tones for this band only: rows y..y+rows of the h x w picture
            ys = (np.arange(y, y + rows) + 0.5) * 6 / h - 0.5
            xs = (np.arange(w) + 0.5) * 8 / w - 0.5
            mx, my = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
            full = cv2.remap(tones, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        grain = 0.03 * rng.standard_normal((rows, w, 1), dtype=np.float32)
        out[y:y + rows] = (np.clip(0.2 + 0.6 * full + grain, 0, 1) * 65535).astype(np.uint16)
    return out


def child(model: str, folder: Path, small: bool) -> None:
    from restorer.inference import engine

    opts = engine.EngineOptions(device="cpu", threads=1)
    if small:  # the model's own cost: loaded and run once on a small photo
        px = np.full((256, 256, 3), 30000, np.uint16)
        mask = np.zeros((256, 256), bool)
        mask[64:192, 64:192] = True
        t = time.perf_counter()
    else:
        px, mask = np.load(folder / "photo.npy"), np.load(folder / "mask.npy")
        t = time.perf_counter()
    engine.inpaint(px, mask, model, opts, inplace=True)
    print(json.dumps({"peak_mib": peak_rss_kib() / 1024, "seconds": time.perf_counter() - t}))


def run_child(model: str, folder: Path, small: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", model, "--folder", str(folder)] + (["--small"] if small else [])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{model}: the fill failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megapixels", type=float, default=100.0)
    ap.add_argument("--hole", type=float, default=0.10)
    ap.add_argument("--models", nargs="+", default=["telea", "guided-ensemble"])
    ap.add_argument("--child")
    ap.add_argument("--folder", type=Path)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.folder, args.small)
        return 0
    w = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    h = int(round(args.megapixels * 1e6 / w))
    rows = []
    with tempfile.TemporaryDirectory(prefix="restorer-bench-mem-") as tmp:
        photo = photo16(h, w)
        np.save(Path(tmp) / "photo.npy", photo)
        np.save(Path(tmp) / "mask.npy", ellipse(h, w, args.hole))
        photo_mib = photo.nbytes / 2 ** 20
        del photo
        for model in args.models:
            base = run_child(model, Path(tmp), small=True)
            big = run_child(model, Path(tmp), small=False)
            budget = 2 * photo_mib + base["peak_mib"]
            rows.append({"model": model, "peak_mib": big["peak_mib"], "model_peak_mib": base["peak_mib"],
                         "photo_mib": photo_mib, "budget_mib": budget, "within": big["peak_mib"] <= budget,
                         "seconds": big["seconds"]})
            print(f"{model:18s} peak {big['peak_mib']:7.0f} MiB  budget {budget:7.0f} MiB "
                  f"(2 x {photo_mib:.0f} photo + {base['peak_mib']:.0f} model)  {big['seconds']:.0f} s", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"width": w, "height": h, "hole": args.hole, "machine": platform.processor() or platform.machine()}
    (RESULTS / "memory.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [f"{w} x {h} 16-bit RGB, {args.hole:.0%} hole (an ellipse), filled in place, one thread", "",
             "| model | peak MiB | budget MiB (2 x photo + model) | within | seconds |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['model']} | {r['peak_mib']:.0f} | {r['budget_mib']:.0f} | {'yes' if r['within'] else 'no'} | "
              f"{r['seconds']:.0f} |" for r in rows]
    (RESULTS / "memory.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
