"""Batch throughput on a local Dask cluster against the sequential batch (run by hand, not a test).

    python benchmarks/bench_batch_dask.py                 # 100 photos of 640 x 480, Telea, --dask local:2
    python benchmarks/bench_batch_dask.py --photos 12     # checks the script quickly
    python benchmarks/bench_batch_dask.py --photos 30 --size 2000x1500   # larger photos: less overhead per photo

Makes the photos (smooth gradients with grain, a few thin scratches as the mask) in a temporary
folder, then runs ``restorer-cli batch`` four ways, ``--repeat`` times each, keeping each one's
fastest run (the least disturbed by other load on the machine): sequential and ``--dask local:N``
each in a new process (what a user waits for: imports, and the cluster's start, its workers'
imports and its stop), then sequential in this process after a warm-up batch and ``--dask`` on a
running LocalCluster (started as ``--dask local:N`` starts it) whose workers have run one: the
steady state a long batch, or a batch on a running cluster, approaches. CPU time counts the
workers and the scheduler. The load average before the runs and whether Linux's autogroup
scheduling is on (it shares CPU time between sessions, not processes: a batch's workers then
share its session's slice of a busy machine) say how far the machine was the batch's own.
Outputs of all four are compared byte for byte. Results: benchmarks/results/batch_dask.md, .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    """CPU seconds of this process and of the children it has waited for (and theirs: a CLI process's
    LocalCluster workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _argv(src: Path, masks: Path, out: Path, *extra: str) -> list[str]:
    return ["batch", str(src), "-m", str(masks), "-o", str(out), "--model", "telea", "-q", *extra]


def fresh(src: Path, masks: Path, out: Path, *extra: str) -> tuple[float, float]:
    """(wall, CPU seconds) of ``restorer-cli batch`` in a new process: imports, cluster start and stop included."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0, c0 = time.perf_counter(), _cpu()
    subprocess.run([sys.executable, "-m", "restorer.cli", *_argv(src, masks, out, *extra)], env=env, check=True)
    return time.perf_counter() - t0, _cpu() - c0


def warm(src: Path, masks: Path, out: Path, client: Any = None, *extra: str) -> tuple[float, float]:
    """(wall, CPU seconds) of a batch in this process after imports, or on a running cluster (``client``'s
    workers' CPU counted)."""
    shutil.rmtree(out, ignore_errors=True)

    def cpu() -> float:
        return _cpu() + (sum(client.run(_cpu).values()) if client is not None else 0.0)

    t0, c0 = time.perf_counter(), cpu()
    if cli_main(_argv(src, masks, out, *extra)) != 0:
        raise SystemExit("batch failed")
    seconds = time.perf_counter() - t0
    return seconds, cpu() - c0


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))}


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")  # both runs' outputs comparable byte for byte
    load = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("sequential", "dask", "sequential_warm", "dask_warm")}
    local = f"local:{args.workers}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src, masks = make_photos(folder, args.photos, args.height, args.width)
        client, cluster = cli_batch_dask.connect(local)  # as --dask local:N starts it
        try:
            cli_batch_dask.prepare(argparse.Namespace(dask=local, threads=None))
            warm(src, masks, folder / "warm-up")  # imports here, the model loaded on each worker
            warm(src, masks, folder / "warm-up", client, "--dask", cluster.scheduler_address)
            for _ in range(args.repeat):
                runs["sequential"].append(fresh(src, masks, folder / "seq"))
                runs["dask"].append(fresh(src, masks, folder / "dask", "--dask", local))
                runs["sequential_warm"].append(warm(src, masks, folder / "seq-warm"))
                runs["dask_warm"].append(warm(src, masks, folder / "dask-warm", client, "--dask", cluster.scheduler_address))
        finally:
            client.close()
            cluster.close()
        ref = outputs(folder / "seq")
        same = len(ref) == args.photos and all(outputs(folder / k) == ref for k in ("dask", "seq-warm", "dask-warm"))
    best = {k: min(v) for k, v in runs.items()}  # the fastest wall time, with its CPU time
    return {
        "photos": args.photos, "size": f"{args.width} x {args.height}", "model": "telea", "workers": args.workers,
        "cpus": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(), "repeat": args.repeat,
        "wall_s": {k: round(v[0], 2) for k, v in best.items()},
        "cpu_per_photo_s": {k: round(v[1] / args.photos, 4) for k, v in best.items()},
        "speedup_new_processes": round(best["sequential"][0] / best["dask"][0], 2),
        "speedup_warm": round(best["sequential_warm"][0] / best["dask_warm"][0], 2),
        "all_runs_wall_cpu_s": {k: [[round(w, 2), round(c, 2)] for w, c in v] for k, v in runs.items()},
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
    w, c, n = row["wall_s"], row["cpu_per_photo_s"], row["workers"]
    return "\n".join([
        f"# Batch on a local Dask cluster ({row['photos']} photos, {row['size']}, {row['model']}, "
        f"local:{n}, {row['cpus']} CPUs)",
        "",
        f"Load average before the runs (1/5/15 min): {row['load_average_1_5_15']}; the machine is shared "
        f"with other work. Linux autogroup scheduling on: {row['autogroup_scheduling']}. Best of {row['repeat']} "
        "runs each (wall time; CPU time counts the workers and the scheduler).",
        "",
        "| run | seconds | CPU s per photo | speedup |",
        "| --- | --- | --- | --- |",
        f"| sequential, a new process | {w['sequential']} | {c['sequential']} | 1 |",
        f"| --dask local:{n}, a new process (cluster start and stop included) | {w['dask']} | {c['dask']} | "
        f"{row['speedup_new_processes']} |",
        f"| sequential, in a process that has run a batch | {w['sequential_warm']} | {c['sequential_warm']} | 1 |",
        f"| --dask on a running local:{n} cluster that has run a batch | {w['dask_warm']} | {c['dask_warm']} | "
        f"{row['speedup_warm']} |",
        "",
        f"Outputs of all four identical: {row['outputs_identical']}. All runs (wall, CPU s): {row['all_runs_wall_cpu_s']}",
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
