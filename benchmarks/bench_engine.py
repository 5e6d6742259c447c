"""Engine benchmark (run by hand, not a test): seconds and peak memory per model on generated photos.

    python benchmarks/bench_engine.py                       # every ready model, on the best device
    python benchmarks/bench_engine.py --models telea --device cpu
    python benchmarks/bench_engine.py --models edgeconnect partialconv --random-weights

Cases (photos are generated; nothing is read from disk):
  scratch  one scratch of about 1 % of a 6000 x 4000 photo: seconds per fill
  specks   200 specks scattered over the same photo: seconds, the ratio to one hole of the same
           total area, and the ratio to one model call per speck (the engine with packing off)
  large    a hole of 30 % of a 12-megapixel photo: seconds and peak memory
  huge     a 100-megapixel 16-bit photo with a small hole: peak memory relative to the photo's size

Peak memory is tracemalloc's peak of Python/numpy allocations (OpenCV's outputs are numpy arrays, so
they count; torch's own tensors do not) during the fill, photo excluded. Results are printed and
written to benchmarks/results/engine-<device>.json and .md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.inference import engine  # noqa: E402
from restorer.inference.engine import EngineOptions  # noqa: E402
from restorer.models import registry  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


# --- generated photos and masks ------------------------------------------------------------------


def make_photo(h: int, w: int, dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    """Smooth colour fields plus fine texture, made by upscaling small random images (fast at 100 MP)."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    coarse = cv2.resize(rng.random((12, 16, 3), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.random((h // 8 + 1, w // 8 + 1), dtype=np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    coarse *= 0.8
    coarse += 0.2 * fine[..., None]
    del fine
    np.clip(coarse, 0, 1, out=coarse)
    coarse *= top
    return coarse.astype(dtype)


def scratch_mask(h: int, w: int, fraction: float = 0.01) -> np.ndarray:
    """A wavy scratch across the photo, thick enough to cover ``fraction`` of it."""
    xs = np.linspace(0.05 * w, 0.95 * w, 400)
    ys = h / 2 + 0.15 * h * np.sin(xs / w * 2 * math.pi * 1.5)
    length = float(np.hypot(np.diff(xs), np.diff(ys)).sum())
    thickness = max(1, round(fraction * h * w / length))
    mask = np.zeros((h, w), np.uint8)
    cv2.polylines(mask, [np.stack([xs, ys], 1).round().astype(np.int32)], False, 1, thickness)
    return mask.astype(bool)


def speck_mask(h: int, w: int, n: int = 200, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(n):
        cv2.circle(mask, (int(rng.integers(10, w - 10)), int(rng.integers(10, h - 10))), int(rng.integers(2, 7)), 1, -1)
    return mask.astype(bool)


def disc_mask(h: int, w: int, area: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (w // 2, h // 2), max(1, round(math.sqrt(area / math.pi))), 1, -1)
    return mask.astype(bool)


def ellipse_mask(h: int, w: int, fraction: float) -> np.ndarray:
    """An ellipse with the photo's aspect ratio covering ``fraction`` of it."""
    a = math.sqrt(fraction * h * w / math.pi * w / h)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (round(a), round(a * h / w)), 0, 0, 360, 1, -1)
    return mask.astype(bool)


# --- measuring ------------------------------------------------------------------------------------


def timed(fill: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` wall-clock times (the first call also loads the model, so warm up once)."""
    fill()
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fill()
        best = min(best, time.perf_counter() - t)
    return best


def peak_bytes(fill: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fill()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def write_random_weights(names: list[str], folder: Path) -> None:
    """Random-init weights and a card for each learned model, so speed can be measured before training."""
    import torch
    from safetensors.torch import save_file

    from restorer.models.neural import build_network

    for name in names:
        spec = registry.get_spec(name)
        if not spec.learned or spec.weights is None:
            continue
        torch.manual_seed(0)
        network = build_network(dict(spec.config))
        path = folder / spec.weights
        save_file({k: v.contiguous() for k, v in network.state_dict().items()}, str(path))
        card = {"config": dict(spec.config), "sha256": registry.file_sha256(path),
                "inference": {"half": spec.config.get("half", False)}, "note": "random init: benchmark only"}
        (folder / spec.card_name).write_text(json.dumps(card, indent=1), encoding="utf-8")


def device_name(device: str) -> str:
    if device == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(0)})"
    cpu = platform.processor() or platform.machine()
    return f"cpu ({cpu}, {os.cpu_count()} cores, {engine_threads()} threads)"


def engine_threads() -> int:
    try:
        import torch

        return torch.get_num_threads()
    except ImportError:
        return cv2.getNumThreads()


def bench_model(name: str, options: EngineOptions, repeat: int, small: bool) -> dict:
    k = 4 if small else 1  # --small: every side / 4, for a quick check of the script itself
    row: dict = {"model": name}
    fill = lambda px, m, opts=options: engine.inpaint(px, m, name, opts)  # noqa: E731

    h, w = 4000 // k, 6000 // k
    photo = make_photo(h, w)
    scratch = scratch_mask(h, w)
    row["scratch_fraction"] = round(float(scratch.mean()), 4)
    row["scratch_s"] = timed(lambda: fill(photo, scratch), repeat)
    _, result = fill(photo, scratch)
    row["device"] = result.device
    row["notes"] = result.notes

    specks = speck_mask(h, w)
    row["specks_s"] = timed(lambda: fill(photo, specks), repeat)
    row["specks_calls"] = _calls(photo, specks, name, options)
    one = disc_mask(h, w, int(specks.sum()))
    row["one_hole_s"] = timed(lambda: fill(photo, one), repeat)
    unpacked = dataclasses.replace(options, pack=False)
    row["per_speck_s"] = timed(lambda: fill(photo, specks, unpacked), max(1, repeat // 2))
    row["per_speck_calls"] = _calls(photo, specks, name, unpacked)
    row["specks_vs_one_hole"] = row["specks_s"] / row["one_hole_s"]
    row["specks_vs_per_speck"] = row["specks_s"] / row["per_speck_s"]
    del photo

    h, w = 3000 // k, 4000 // k
    photo = make_photo(h, w)
    large = ellipse_mask(h, w, 0.30)
    row["large_fraction"] = round(float(large.mean()), 4)
    row["large_s"] = timed(lambda: fill(photo, large), max(1, repeat // 2))
    row["large_peak_mb"] = peak_bytes(lambda: fill(photo, large)) / 2**20
    del photo

    h, w = 8660 // k, 11547 // k  # 100 megapixels
    photo = make_photo(h, w, np.uint16)
    hole = disc_mask(h, w, 40_000 // (k * k))
    row["huge_photo_mb"] = photo.nbytes / 2**20
    row["huge_s"] = timed(lambda: fill(photo, hole), 1)
    run_peak = peak_bytes(lambda: engine.run_blocking(engine.plan(photo, hole, name, options)))
    full_peak = peak_bytes(lambda: fill(photo, hole))
    row["huge_run_peak_vs_photo"] = run_peak / photo.nbytes
    row["huge_inpaint_peak_vs_photo"] = full_peak / photo.nbytes
    inplace_peak = peak_bytes(lambda: engine.inpaint(photo, hole, name, options, inplace=True))
    row["huge_inplace_peak_vs_photo"] = inplace_peak / photo.nbytes
    return row


def _calls(photo: np.ndarray, mask: np.ndarray, name: str, options: EngineOptions) -> int:
    """How many model calls the engine plans (the first progress report announces the total)."""
    gen = engine.run(engine.plan(photo, mask, name, options))
    total = next(gen).total
    gen.close()
    return total


COLUMNS = [
    ("model", "model", "{}"),
    ("device", "device", "{}"),
    ("random_weights", "random weights", "{}"),
    ("scratch_s", "scratch 1 % (s)", "{:.2f}"),
    ("specks_s", "200 specks (s)", "{:.2f}"),
    ("specks_calls", "calls", "{}"),
    ("specks_vs_one_hole", "specks / one hole", "{:.2f}"),
    ("per_speck_s", "one call per speck (s)", "{:.2f}"),
    ("specks_vs_per_speck", "specks / per speck", "{:.2f}"),
    ("large_s", "30 % hole, 12 MP (s)", "{:.2f}"),
    ("large_peak_mb", "30 % hole peak (MiB)", "{:.0f}"),
    ("huge_s", "100 MP 16-bit (s)", "{:.2f}"),
    ("huge_run_peak_vs_photo", "100 MP run peak / photo", "{:.3f}"),
    ("huge_inpaint_peak_vs_photo", "100 MP inpaint peak / photo", "{:.2f}"),
    ("huge_inplace_peak_vs_photo", "100 MP in-place peak / photo", "{:.3f}"),
]


def markdown(rows: list[dict], device: str, small: bool) -> str:
    lines = [f"Engine benchmark on {device}{' (--small: sides / 4)' if small else ''}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             "| " + " | ".join(c[1] for c in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row.get(key, "")) for key, _, fmt in COLUMNS) + " |")
    lines += ["", "Seconds are the best of the repeats after one warm-up fill (model loaded). Peak memory is "
              "tracemalloc's peak of numpy/Python allocations during the fill, the input photo excluded "
              "(torch tensors are not counted). '100 MP run peak' is plan + run (the patches); "
              "'inpaint peak' adds apply's filled copy of the photo; 'in-place' fills the photo itself "
              "(engine.inpaint(..., inplace=True))."]
    notes = [f"- {r['model']}: {'; '.join(r['notes'])}" for r in rows if r.get("notes")]
    return "\n".join(lines + notes) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="model names (default: every ready model)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--random-weights", action="store_true",
                        help="write random-init weights for learned models to a temp folder (speed only)")
    parser.add_argument("--small", action="store_true", help="every photo side / 4: checks the script quickly")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    names = args.models or [s.name for s in registry.all_specs()]
    folder = None
    tmp = None
    if args.random_weights:
        tmp = tempfile.TemporaryDirectory(prefix="restorer-bench-")
        folder = Path(tmp.name)
        write_random_weights(names, folder)
    options = EngineOptions(device=args.device, threads=args.threads, weights_folder=folder)
    rows = []
    for name in names:
        state = registry.check(registry.get_spec(name), folder)
        if not state.ready:
            print(f"skip {name}: {state.reason}", file=sys.stderr)
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        row = bench_model(name, options, args.repeat, args.small)
        row["random_weights"] = bool(args.random_weights and registry.get_spec(name).learned)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    device = device_name(rows[0]["device"] if rows else "cpu")
    table = markdown(rows, device, args.small)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"engine-{rows[0]['device'] if rows else 'none'}{'-small' if args.small else ''}"
    (args.out / f"{stem}.json").write_text(json.dumps({"device": device, "rows": rows}, indent=1), encoding="utf-8")
    (args.out / f"{stem}.md").write_text(table, encoding="utf-8")
    print(f"wrote {args.out / stem}.md and .json", file=sys.stderr)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
