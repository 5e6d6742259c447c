"""Threads by measured load (run by hand, not a test): a fill with as many threads as cores against
one with the engine's choice (``threads=None``: ``device.idle_cores()``), beside busy processes.

    python benchmarks/bench_threads.py                 # 0 and cores-1 busy processes
    python benchmarks/bench_threads.py --busy 1 --repeat 3

Each busy process spins a pure-Python loop on one core (like another job on the machine). The fill
is the default model on a 10 % hole of a generated 1000 x 750 photo, warm, through the engine's
Python API; times are the best of ``--repeat``, both settings alternating in one run, so the ratio
compares like with like. Results: benchmarks/results/threads.md and .json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_texture import ellipse, make_photo  # noqa: E402

from restorer.inference import engine  # noqa: E402
from restorer.models import device, registry  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _spin(stop) -> None:  # one busy core
    while not stop.is_set():
        sum(range(10_000))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busy", type=int, nargs="*", default=None, help="busy processes per run (default: 0 and cores-1)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default=registry.default_model())
    args = ap.parse_args()
    cores = device.usable_cores()
    busy_runs = args.busy if args.busy is not None else sorted({0, max(1, cores - 1)})
    photo = make_photo(750, 1000)
    hole = ellipse(750, 1000, 0.10)

    def fill(threads: int | None) -> float:
        t = time.perf_counter()
        engine.inpaint(photo, hole, args.model, engine.EngineOptions(device="cpu", threads=threads))
        return time.perf_counter() - t

    fill(cores)  # warm: load the model, compile numba
    rows = []
    for busy in busy_runs:
        stop = mp.Event()
        procs = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(busy)]
        for p in procs:
            p.start()
        time.sleep(5.0 if busy else 0.0)  # let the load average see them
        times: dict[str, list[float]] = {"all cores": [], "idle cores (auto)": []}
        chosen = []
        for _ in range(args.repeat):
            times["all cores"].append(fill(cores))
            chosen.append(device.idle_cores())
            times["idle cores (auto)"].append(fill(None))
        stop.set()
        for p in procs:
            p.join()
        best = {k: min(v) for k, v in times.items()}
        rows.append({"busy": busy, "cores": cores, "auto_threads": chosen, **best,
                     "all_over_auto": best["all cores"] / best["idle cores (auto)"]})
        print(f"{busy} busy: all {cores} threads {best['all cores']:.2f} s, auto ({chosen}) "
              f"{best['idle cores (auto)']:.2f} s: all / auto = {rows[-1]['all_over_auto']:.2f}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "threads.json").write_text(json.dumps({"model": args.model, "rows": rows}, indent=2))
    lines = [f"{args.model}, 10 % hole, 1000 x 750, best of {args.repeat}; {cores} usable cores", "",
             "| busy processes | all cores (s) | auto threads | auto (s) | all / auto |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r['busy']} | {r['all cores']:.2f} | {', '.join(map(str, r['auto_threads']))} | "
              f"{r['idle cores (auto)']:.2f} | {r['all_over_auto']:.2f} |" for r in rows]
    (RESULTS / "threads.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
