"""Detection benchmark (run by hand, not a test): seconds and peak memory to find damage in a 24-megapixel scan.

    python benchmarks/bench_detect.py                  # 6000 x 4000, 8-bit RGB and 16-bit gray
    python benchmarks/bench_detect.py --width 3000 --height 2000
    python benchmarks/bench_detect.py --detector damage-unet --repeat 1   # -> detect-damage-unet.json/.md
    python benchmarks/bench_detect.py --detector damage-unet --compare-plain   # also the unfolded NCHW network
    python benchmarks/bench_detect.py --detector damage-unet --compare-torch   # also eager PyTorch (no OpenVINO)

With --compare-plain (learned detectors) the same photo also goes through the plain network (BatchNorm
not folded, NCHW, 512 px tiles: the detector before the speed-up) in the same run: its seconds, the ratio,
and the largest difference between the two probability maps (uint8 levels). --compare-torch does the same for
the same fast network run by eager PyTorch instead of OpenVINO (what runs without the ``fast`` extra).

The photo is generated (soft tones, grain, rendered scratches and dust); nothing is read from disk.
Beside each time it prints the ratio to one cv2.GaussianBlur (sigma 2) of the same photo, timed in the
same run, so numbers from a busy or a faster machine can be compared. Peak memory is tracemalloc's peak
of numpy allocations during the detection, photo excluded (torch's own tensors are not seen by it: for a
learned detector the growth of the process's peak RSS is given too). Results go to
benchmarks/results/detect.json and .md (detect-NAME.* for another detector than classical).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.detection import registry
from restorer.detection.tiles import detect_blocking
from restorer.detection.render import DamageCounts, render_damage

RESULTS = ROOT / "benchmarks" / "results"
PLAIN_TILE = 512  # the learned detector's tile before the speed-up
sys.path.insert(0, str(ROOT / "benchmarks"))
from timing import best_of  # noqa: E402


def make_scan(h: int, w: int, channels: int, dtype: type, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    tones = cv2.resize(rng.random((8, 12, channels), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tones = tones.reshape(h, w, channels)
    tones *= 0.6
    tones += 0.2
    grain = rng.standard_normal((h, w), dtype=np.float32)
    tones += 0.012 * grain[..., None]
    np.clip(tones, 0, 1, out=tones)
    photo = (tones * top).astype(dtype)
    if channels == 1:
        photo = photo[..., 0]
    # damage drawn on a crop's worth of area per item: enough items to exercise the component stages
    return render_damage(photo, seed, DamageCounts(scratches=0.6, dust=10, hairs=0.5, cracks=0.3)).pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--detector", default="classical")
    parser.add_argument("--compare-plain", action="store_true", help="learned detectors: time the plain network too")
    parser.add_argument("--compare-torch", action="store_true",
                        help="learned detectors: time the same network through eager PyTorch too")
    parser.add_argument("--threads", type=int, default=0, help="torch / OpenVINO threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = []
    name = args.detector
    detector = registry.load(name)
    plain = None
    if args.compare_plain or args.compare_torch:
        from restorer.detection.learned import LearnedDetector

        if not isinstance(detector, LearnedDetector):
            parser.error("--compare-plain/--compare-torch are for a learned detector (e.g. --detector damage-unet)")
        if args.compare_plain:
            plain = LearnedDetector(detector.net, detector.name, detector.logit_bias, fast=False)
            plain.tile = PLAIN_TILE  # type: ignore[misc]
        else:
            plain = LearnedDetector(detector.net, detector.name, detector.logit_bias, runtime="torch")
    for label, channels, dtype in (("8-bit RGB", 3, np.uint8), ("16-bit gray", 1, np.uint16)):
        photo = make_scan(args.height, args.width, channels, dtype)
        blur = best_of(lambda p=photo: cv2.GaussianBlur(p, (0, 0), 2), args.repeat)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seconds = best_of(lambda p=photo: detect_blocking(p, detector), args.repeat)
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
        tracemalloc.start()
        damage = detect_blocking(photo, detector)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row = {"photo": f"{args.width} x {args.height} {label}", "megapixels": args.width * args.height / 1e6,
               "seconds": round(seconds, 2), "gaussian_blur_seconds": round(blur, 3),
               "ratio_to_blur": round(seconds / blur, 1), "peak_mb": round(peak / 2**20),
               "photo_mb": round(photo.nbytes / 2**20), "peak_rss_growth_mb": round(rss / 2**20),
               "flagged_share": round(float(damage.mask().mean()), 5)}
        if plain is not None:
            row["plain_seconds"] = round(best_of(lambda p=photo, d=plain: detect_blocking(p, d), args.repeat), 2)
            row["speedup_over_plain"] = round(row["plain_seconds"] / seconds, 2)
            before = detect_blocking(photo, plain)
            row["max_level_difference"] = max(int(np.abs(before.maps[k].astype(int) - damage.maps[k]).max())
                                              for k in damage.maps)
        rows.append(row)
        print(json.dumps(row))
    meta = {"detector": name, "machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "opencv": cv2.__version__, "cv2_threads": cv2.getNumThreads(),
            "load_average_after": [round(x, 1) for x in os.getloadavg()]}
    if "torch" in sys.modules:
        meta["torch_threads"] = sys.modules["torch"].get_num_threads()
    runtime = getattr(detector, "runtime", None)
    if runtime is not None:
        meta["runtime"] = "openvino" if runtime.active("cpu") else "torch"
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "detect" if name == "classical" else f"detect-{name}"
    (RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = ["| photo | seconds | 1 GaussianBlur | ratio | peak memory (MB) | peak RSS growth (MB) | photo (MB) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['photo']} | {r['seconds']} | {r['gaussian_blur_seconds']} | {r['ratio_to_blur']}x | "
              f"{r['peak_mb']} | {r['peak_rss_growth_mb']} | {r['photo_mb']} |" for r in rows]
    if plain is not None:
        what = "plain network" if args.compare_plain else "eager PyTorch"
        lines += ["", f"| photo | {what} (s) | speed-up | largest map difference (uint8 levels) |", "|---|---|---|---|"]
        lines += [f"| {r['photo']} | {r['plain_seconds']} | {r['speedup_over_plain']}x | {r['max_level_difference']} |"
                  for r in rows]
    (RESULTS / f"{stem}.md").write_text(f"Machine: {meta}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
