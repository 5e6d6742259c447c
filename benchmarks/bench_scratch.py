"""Scratch benchmark (run by hand, not a test): a thin long scratch on 24 MP, every number a ratio in one run.

    python benchmarks/bench_scratch.py                # the whole run (a few minutes on 2 cores)
    python benchmarks/bench_scratch.py --skip-e2e     # only the engine fills and their memory

1. Fill time, warm, through the engine's Python API (``engine.inpaint``, one thread unless
   ``--threads``): a 25 px wide, 2500 px long diagonal scratch on a generated 6000 x 4000 photo;
   telea, partialconv-compact and edgeconnect-compact (best of ``--repeat``), the default (``--model
   auto``: guided-ensemble) once; each as a ratio to Telea's time in the same run.
2. Ideal time for the learned models: the network's multiply-accumulates per pixel (counted with
   hooks on every convolution) times the hole's pixels plus a 16 px ring of context, over this CPU's
   measured convolution throughput (a 32 -> 32 channel 3x3 convolution, channels-last, same
   threads); the table's measured / ideal column says how far the fill is from that.
3. Peak memory: each model fills the scratch once in its own process (the photo loaded there from
   a .npy, filled in place as the CLI does); peak RSS (VmHWM, else ``resource.getrusage``) as a
   ratio to Telea's process.
4. End to end: ``restorer-cli inpaint`` of a 30 x 600 px stroke on a 24 MP PNG (load, fill, save,
   a fresh process each) against a process that only reads and writes the same PNG with OpenCV.

Results: benchmarks/results/scratch.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_save import grainy_photo

RESULTS = ROOT / "benchmarks" / "results"
H, W = 4000, 6000
TIMED = ("telea", "partialconv-compact", "edgeconnect-compact")
ONCE = ("guided-ensemble",)  # the default (registry.PREFERRED[0])
CONTEXT_RING = 16  # px of known context the ideal counts around the hole


def scratch_mask(h: int = H, w: int = W) -> np.ndarray:
    """25 px wide, 2500 px long: (2000, 1250) -> (4000, 2750), a 3-4-5 diagonal."""
    m = np.zeros((h, w), np.uint8)
    cv2.line(m, (w // 3, h * 5 // 16), (w // 3 + 2000, h * 5 // 16 + 1500), 1, 25)
    return m.astype(bool)


def stroke_mask(h: int = H, w: int = W) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[h // 2 : h // 2 + 30, w // 2 - 300 : w // 2 + 300] = True
    return m


def options(threads: int):
    from restorer.inference.engine import EngineOptions

    return EngineOptions(device="cpu", threads=threads)


# --- 1. warm fill times ------------------------------------------------------------------------


def fill_times(threads: int, repeat: int) -> dict[str, float]:
    from restorer.inference import engine

    px, mask = grainy_photo(H, W), scratch_mask()
    opts = options(threads)
    for name in TIMED:  # warm: models loaded, first-call allocations done
        engine.inpaint(px, mask, name, opts)
    best = {name: float("inf") for name in TIMED}
    for _ in range(repeat):  # interleaved, so a burst of load on the machine hits every model alike
        for name in TIMED:
            t = time.perf_counter()
            engine.inpaint(px, mask, name, opts)
            best[name] = min(best[name], time.perf_counter() - t)
    for name in ONCE:
        engine.inpaint(px, mask, name, opts)  # its guide network warm
        t = time.perf_counter()
        engine.inpaint(px, mask, name, opts)
        best[name] = time.perf_counter() - t
    return best


# --- 2. the ideal ------------------------------------------------------------------------------


def macs_per_pixel(name: str, side: int = 256) -> float:
    """Multiply-accumulates of one dense forward pass per output pixel (torch's FLOP counter / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from restorer.models import registry

    model = registry.load(name, device="cpu")
    model.set_runtime("torch")  # the counter sees torch's convolutions only, not a faster runtime's
    img = np.random.default_rng(0).random((1, 3, side, side), dtype=np.float32)
    hole = np.zeros((1, 1, side, side), np.float32)
    hole[:, :, side // 2 - 12 : side // 2 + 13] = 1
    counter = FlopCounterMode(display=False)
    with counter:
        if hasattr(model.network, "refine"):  # the dense pass: inference refines only strips around the hole
            with torch.enable_grad():
                model.network(torch.from_numpy(img), torch.from_numpy(hole))
        else:
            model(img, hole)
    return counter.get_total_flops() / 2 / (side * side)


def conv_throughput(threads: int) -> float:
    """MAC/s of a 3x3 32 -> 32 convolution on 256 x 256, channels-last (what the networks mostly run)."""
    import torch

    torch.set_num_threads(threads)
    conv = torch.nn.Conv2d(32, 32, 3, padding=1).eval()
    x = torch.rand(1, 32, 256, 256).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(3):
            conv(x)
        best = float("inf")
        for _ in range(10):
            t = time.perf_counter()
            conv(x)
            best = min(best, time.perf_counter() - t)
    return 256 * 256 * 32 * 32 * 9 / best


def ideal_pixels(mask: np.ndarray) -> int:
    ring = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * CONTEXT_RING + 1, 2 * CONTEXT_RING + 1))
    return int(cv2.dilate(mask.view(np.uint8), ring).sum())


# --- 3. peak memory ----------------------------------------------------------------------------


def peak_rss_kib() -> int:
    """This process's peak resident memory. VmHWM, not ru_maxrss: on Linux a child's ru_maxrss
    starts at its parent's peak (carried over fork and exec), which would hide every child's own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_child(name: str, threads: int, folder: Path) -> None:
    from restorer.inference import engine

    # Loaded, not generated here: making the photo takes float temporaries larger than any fill.
    px, mask = np.load(folder / "photo.npy"), np.load(folder / "mask.npy")
    engine.inpaint(px, mask, name, options(threads), inplace=True)
    print(json.dumps({"model": name, "maxrss_kib": peak_rss_kib()}))


def peak_rss(names: tuple[str, ...], threads: int) -> dict[str, float]:
    out = {}
    with tempfile.TemporaryDirectory(prefix="restorer-bench-rss-") as tmp:
        np.save(Path(tmp) / "photo.npy", grainy_photo(H, W))
        np.save(Path(tmp) / "mask.npy", scratch_mask())
        for name in names:
            proc = subprocess.run([sys.executable, __file__, "--rss-child", name, "--threads", str(threads),
                                   "--rss-folder", tmp], capture_output=True, text=True, check=True)
            out[name] = json.loads(proc.stdout.strip().splitlines()[-1])["maxrss_kib"] / 1024
    return out


# --- 4. end to end -----------------------------------------------------------------------------

FLOOR = "import sys, cv2; cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED))"


E2E_RUNS = (("telea", ()), ("telea", ("--png-level", "1")), ("auto", ()))


def end_to_end(threads: int, repeat: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory(prefix="restorer-bench-e2e-") as tmp:
        src, mask = Path(tmp) / "photo.png", Path(tmp) / "mask.png"
        cv2.imwrite(str(src), cv2.cvtColor(grainy_photo(H, W), cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(mask), stroke_mask().astype(np.uint8) * 255)
        runs = {"opencv read + write (floor)": [sys.executable, "-c", FLOOR, str(src), str(Path(tmp) / "floor.png")]}
        for name, extra in E2E_RUNS:
            runs[" ".join(["restorer-cli inpaint --model", name, *extra])] = [
                sys.executable, "-m", "restorer.cli", "inpaint", str(src), "-m", str(mask), "-o",
                str(Path(tmp) / "out.png"), "--model", name, "--threads", str(threads), "--overwrite", "-q", *extra]
        best = {k: float("inf") for k in runs}
        for _ in range(repeat):
            for label, cmd in runs.items():
                t = time.perf_counter()
                subprocess.run(cmd, check=True, env=env, capture_output=True)
                best[label] = min(best[label], time.perf_counter() - t)
    return best


# --- report ------------------------------------------------------------------------------------


def markdown(res: dict) -> str:
    t, rss = res["seconds"], res.get("peak_rss_mib", {})
    telea = t["telea"]
    head = (f"Scratch benchmark, {res['when']}: {res['machine']}, {res['threads']} thread(s), best of "
            f"{res['repeat']} ({', '.join(ONCE)} once).")
    scratch = (f"Scratch: 25 x 2500 px diagonal on 6000 x 4000, {res['hole_pixels']:,} hole pixels; ideal counts "
               f"{res['ideal_pixels']:,} pixels (hole + {CONTEXT_RING} px ring) at "
               f"{res['conv_gmacs']:.1f} G MAC/s (measured 3x3 convolution).")
    lines = [head, "", scratch, "",
             "| model | fill / Telea | seconds | MAC per pixel | ideal (s) | measured / ideal | peak RSS / Telea | peak RSS (MiB) |",
             "|---|---|---|---|---|---|---|---|"]
    for name, secs in t.items():
        macs = res["macs_per_pixel"].get(name)
        ideal = macs * res["ideal_pixels"] / (res["conv_gmacs"] * 1e9) if macs else None
        r = rss.get(name)
        lines.append(f"| {name} | {secs / telea:.2f} | {secs:.2f} | {f'{macs:,.0f}' if macs else '-'} | "
                     f"{f'{ideal:.3f}' if ideal else '-'} | {f'{secs / ideal:.0f}' if ideal else '-'} | "
                     f"{f'{r / rss[TIMED[0]]:.2f}' if r and TIMED[0] in rss else '-'} | {f'{r:.0f}' if r else '-'} |")
    if res.get("e2e_seconds"):
        e2e = res["e2e_seconds"]
        floor = next(v for k, v in e2e.items() if "floor" in k)
        title = f"End to end, 30 x 600 px stroke on a 24 MP PNG, a fresh process each (best of {res['repeat']}):"
        lines += ["", title, "", "| process | seconds | / floor |", "|---|---|---|"]
        lines += [f"| {k} | {v:.2f} | {v / floor:.2f} |" for k, v in e2e.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child, args.threads, args.rss_folder)
        return 0
    mask = scratch_mask()
    res: dict = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": args.threads,
                 "repeat": args.repeat, "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                 "hole_pixels": int(mask.sum()), "ideal_pixels": ideal_pixels(mask)}
    print("fills ...", file=sys.stderr, flush=True)
    res["seconds"] = fill_times(args.threads, args.repeat)
    res["macs_per_pixel"] = {name: macs_per_pixel(name) for name in TIMED[1:]}
    res["conv_gmacs"] = conv_throughput(args.threads) / 1e9
    if not args.skip_rss:
        print("peak memory ...", file=sys.stderr, flush=True)
        res["peak_rss_mib"] = peak_rss(TIMED, args.threads)
    if not args.skip_e2e:
        print("end to end ...", file=sys.stderr, flush=True)
        res["e2e_seconds"] = end_to_end(args.threads, args.repeat)
    table = markdown(res)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scratch.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    (args.out / "scratch.md").write_text(table, encoding="utf-8")
    print(f"wrote {args.out}/scratch.md and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
