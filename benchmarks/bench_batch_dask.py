"""Batch throughput on a local Dask cluster against the sequential batch (run by hand, not a test).

    python benchmarks/bench_batch_dask.py                 # 100 photos of 640 x 480, Telea, --dask local:2
    python benchmarks/bench_batch_dask.py --photos 12     # checks the script quickly
    python benchmarks/bench_batch_dask.py --photos 30 --size 2000x1500   # larger photos: less overhead per photo

Makes the photos (smooth gradients with grain, a few thin scratches as the mask) in a temporary
folder, then runs ``restorer-cli batch`` in this process, sequential and ``--dask local:N`` in
turn, ``--repeat`` times each, and keeps each one's fastest run (the least disturbed by other load
on the machine). Reported: the sequential wall time; the cluster run's wall time with the start and
stop of its LocalCluster (what a user waits for) and without them (the batch itself: what a
long batch approaches); the ratios of the sequential time to each; the load average before the
runs (other work on the machine takes cores from both). Outputs of the two runs are compared byte
for byte. Results go to benchmarks/results/batch_dask.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer import cli_batch_dask
from restorer.cli import main as cli_main


def make_photos(folder: Path, n: int, h: int, w: int) -> tuple[Path, Path]:
    src, masks = folder / "in", folder / "masks"
    src.mkdir(), masks.mkdir()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i in range(n):
        rng = np.random.default_rng(i)
        base = np.stack([xx / w * 200 + 20, yy / h * 180 + 30, (xx + yy) / (w + h) * 150 + 50], -1)
        px = base + rng.normal(0, 6, (h, w, 3))
        Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(src / f"scan{i:04d}.png")
        mask = np.zeros((h, w), np.uint8)
        for _ in range(4):  # thin scratches, ~1-2 % of the photo
            x0, x1 = sorted(rng.integers(0, w, 2))
            y = int(rng.integers(10, h - 10))
            mask[y - 1 : y + 2, x0:x1] = 255
            mask[:, int(rng.integers(0, w))] = 255
        Image.fromarray(mask).save(masks / f"scan{i:04d}_mask.png")
    return src, masks


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (a LocalCluster's workers, once closed)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def batch(src: Path, masks: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one batch."""
    shutil.rmtree(out, ignore_errors=True)
    t0, c0 = time.perf_counter(), _cpu()
    code = cli_main(["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q", *extra])
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    if code != 0:
        raise SystemExit(f"batch failed with exit {code}")
    return seconds, cpu


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))}


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")  # both runs' outputs comparable byte for byte
    inner: list[float] = []
    real_go = cli_batch_dask._Run.go

    def timed_go(self, *a):  # the batch on the cluster, without starting and stopping it
        t0 = time.perf_counter()
        try:
            return real_go(self, *a)
        finally:
            inner.append(time.perf_counter() - t0)

    cli_batch_dask._Run.go = timed_go  # type: ignore[method-assign]
    load = os.getloadavg()
    seq, total, seq_cpu, dask_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src, masks = make_photos(folder, args.photos, args.height, args.width)
        for _ in range(args.repeat):
            for times, cpus, extra in ((seq, seq_cpu, ()), (total, dask_cpu, ("--dask", f"local:{args.workers}"))):
                wall, cpu = batch(src, masks, folder / ("dask" if extra else "seq"), *extra)
                times.append(wall)
                cpus.append(cpu)
        same = outputs(folder / "seq") == outputs(folder / "dask") and len(outputs(folder / "seq")) == args.photos
    best_seq, best_total, best_inner = min(seq), min(total), min(inner)
    return {
        "photos": args.photos, "size": f"{args.width} x {args.height}", "model": "telea", "workers": args.workers,
        "cpus": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(), "repeat": args.repeat,
        "sequential_s": round(best_seq, 2), "sequential_per_photo_s": round(best_seq / args.photos, 4),
        "dask_with_cluster_start_s": round(best_total, 2), "dask_batch_only_s": round(best_inner, 2),
        "cluster_start_and_stop_s": round(best_total - best_inner, 2),
        "speedup_with_cluster_start": round(best_seq / best_total, 2),
        "speedup_batch_only": round(best_seq / best_inner, 2),
        "all_runs_s": {"sequential": [round(x, 2) for x in seq], "dask": [round(x, 2) for x in total],
                       "dask_batch_only": [round(x, 2) for x in inner]},
        "cpu_s": {"sequential": [round(x, 2) for x in seq_cpu], "dask_client_and_workers": [round(x, 2) for x in dask_cpu]},
        "cpu_per_photo_s": {"sequential": round(min(seq_cpu) / args.photos, 4),
                            "dask_client_and_workers": round(min(dask_cpu) / args.photos, 4)},
        "autogroup_scheduling": _autogroup(),
        "outputs_identical": same,
    }


def _autogroup() -> bool | None:
    """Whether Linux shares CPU time between sessions rather than processes (then a batch's workers,
    all in its session, share that session's slice of a busy machine)."""
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return None


def report(row: dict) -> str:
    return "\n".join([
        f"# Batch on a local Dask cluster ({row['photos']} photos, {row['size']}, {row['model']}, "
        f"local:{row['workers']}, {row['cpus']} CPUs)",
        "",
        f"Load average before the runs (1/5/15 min): {row['load_average_1_5_15']}; the machine is shared "
        "with other work, so both runs lose cores to it. Best of "
        f"{row['repeat']} runs each.",
        "",
        "| run | seconds | speedup over sequential |",
        "| --- | --- | --- |",
        f"| sequential | {row['sequential_s']} ({row['sequential_per_photo_s']} s/photo) | 1 |",
        f"| --dask local:{row['workers']}, with the cluster's start and stop | {row['dask_with_cluster_start_s']} | "
        f"{row['speedup_with_cluster_start']} |",
        f"| --dask local:{row['workers']}, the batch alone | {row['dask_batch_only_s']} | {row['speedup_batch_only']} |",
        "",
        f"Cluster start and stop: {row['cluster_start_and_stop_s']} s. Outputs identical: {row['outputs_identical']}.",
        f"CPU seconds per photo (best run; the cluster's counts its workers and scheduler): "
        f"{row['cpu_per_photo_s']}. Linux autogroup scheduling on: {row['autogroup_scheduling']}.",
        f"All runs: {row['all_runs_s']}; CPU: {row['cpu_s']}",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", default="640x480", help="WIDTHxHEIGHT of the photos")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    args.width, args.height = (int(x) for x in args.size.lower().split("x"))
    row = run(args)
    text = report(row)
    print(text)
    if args.photos >= 30:
        name = "batch_dask" if args.size == "640x480" else f"batch_dask-{args.width}x{args.height}"
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"{name}.json").write_text(json.dumps(row, indent=1) + "\n")
        (args.out / f"{name}.md").write_text(text)


if __name__ == "__main__":  # the cluster's worker processes are spawned: they import this file again
    main()
