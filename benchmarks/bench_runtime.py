"""Runtime benchmark (run by hand, not a test): eager PyTorch vs OpenVINO on the shipped weights.

    python benchmarks/bench_runtime.py [--threads 1] [--tiles 4] [--repeat 5]

Per shipped model, one thread, batches of 256 px tiles with a scratch across each: seconds per call
of the inpainter (TorchInpainter.__call__: for partialconv the U-Net and the head on strips, for
EdgeConnect Canny, both generators and the push-pull prefill), eager and through OpenVINO, in
alternating runs of the same process; the best of ``--repeat``. Also the one-off conversion time and
the largest difference of the outputs. Results are printed and written to
benchmarks/results/runtime.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import best_of  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHIPPED = ["partialconv-compact", "edgeconnect-compact"]


def _tiles(n: int, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2026)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(9 * xx + 3 * c) * 0.3 + 0.5 + 0.2 * yy for c in range(3)]).astype(np.float32)
    img = np.clip(base[None] + rng.normal(0, 0.04, (n, 3, size, size)), 0, 1).astype(np.float32)
    mask = np.zeros((n, 1, size, size), np.float32)
    for k in range(n):
        y = 40 + 45 * k % (size - 80)
        mask[k, :, y : y + 25, 10 : size - 10] = 1.0  # a 25 px scratch across the tile
    return img, mask


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tiles", type=int, default=4, help="256 px tiles per call (the CPU batch: 4)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    import torch

    from restorer.models import registry, runtime

    if not runtime.available():
        print("openvino is not installed (pip install '.[fast]'); nothing to compare", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    img, mask = _tiles(args.tiles)
    rows = []
    for name in SHIPPED:
        model = registry.load(name, device="cpu")
        model.set_runtime("torch")
        eager_out = model(img, mask)
        model.set_runtime("openvino")
        t0 = time.perf_counter()
        fast_out = model(img, mask)  # converts (once) and runs
        convert = time.perf_counter() - t0
        if model.runtime.note:
            print(f"{name}: {model.runtime.note}", file=sys.stderr)
            return 1
        times: dict[str, list[float]] = {"torch": [], "openvino": []}
        for _ in range(args.repeat):  # alternate, so both see the same load
            for setting in times:
                model.set_runtime(setting)
                times[setting].append(best_of(lambda m=model: m(img, mask), 1))
        eager, fast = min(times["torch"]), min(times["openvino"])
        row = {"model": name, "eager_s": round(eager, 4), "openvino_s": round(fast, 4),
               "speedup": round(eager / fast, 2), "first_call_s": round(convert, 2),
               "max_abs_diff": float(np.abs(eager_out - fast_out).max())}
        rows.append(row)
        print(json.dumps(row))
    meta = {"threads": args.threads, "tiles": args.tiles, "tile": 256, "repeat": args.repeat,
            "torch": torch.__version__, "openvino": __import__("openvino").__version__,
            "cpu": platform.processor() or platform.machine()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "runtime.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [f"# Eager PyTorch vs OpenVINO ({args.threads} thread(s), {args.tiles} x 256 px tiles per call, "
             f"best of {args.repeat})", "",
             "| model | eager s | OpenVINO s | speedup | first call (convert) s | max abs diff |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['eager_s']} | {r['openvino_s']} | {r['speedup']}x | {r['first_call_s']} | "
              f"{r['max_abs_diff']:.1e} |" for r in rows]
    lines += ["", f"torch {meta['torch']}, openvino {meta['openvino']}"]
    (RESULTS / "runtime.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
