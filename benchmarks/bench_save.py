"""Save benchmark (run by hand, not a test): PNG encode time and size per zlib level, and load time, against OpenCV.

    python benchmarks/bench_save.py              # a 24 MP (6000 x 4000) 8-bit RGB photo
    python benchmarks/bench_save.py --small      # sides / 4, checks the script quickly

Every number is a ratio to ``cv2.imwrite`` of the same array (OpenCV's defaults: level 1 with
zlib's run-length strategy) in the same run, so the machine's load cancels out: the floor a
process that only writes the PNG would reach. Rows: ``save_photo`` at levels 1, 3 (the default)
and 6, and Pillow's encoder at 6 (what ``save_photo`` did before). Each time is the best of
``--repeat`` writes to a temporary folder after one warm-up write. Loads: ``load_photo`` of the
level-1 file (pixels and metadata) as a ratio to ``cv2.imread`` of it (pixels only). Results go to benchmarks/results/save.md and .json.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import make_photo, timed

from restorer.core.image import (
    DEFAULT_PNG_LEVEL,
    Photo,
    PhotoMeta,
    load_photo,
    save_photo,
)

RESULTS = ROOT / "benchmarks" / "results"


def grainy_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """The engine benchmark's photo plus film/sensor grain (sigma 3), which every real scan has."""
    px = make_photo(h, w, seed=seed)
    grain = np.random.default_rng(seed).normal(0, 3, (h, w, 1)).astype(np.float32)
    return np.clip(px + grain, 0, 255).astype(np.uint8)


def run(h: int, w: int, repeat: int) -> dict:
    px = grainy_photo(h, w)
    photo = Photo(px, None, PhotoMeta(format=""))
    rows = []
    with tempfile.TemporaryDirectory(prefix="restorer-bench-save-") as tmp:
        floor_path = Path(tmp) / "floor.png"
        bgr = cv2.cvtColor(px, cv2.COLOR_RGB2BGR)  # outside the timing: imwrite takes BGR
        floor_s = timed(lambda: cv2.imwrite(str(floor_path), bgr), repeat)
        floor_bytes = floor_path.stat().st_size
        for level in (1, 3, 6):
            path = Path(tmp) / f"level{level}.png"
            secs = timed(lambda path=path, level=level: save_photo(photo, path, png_level=level), repeat)
            assert np.array_equal(load_photo(path).pixels, px)  # lossless at every level
            rows.append({"encoder": f"save_photo level {level}" + (" (default)" if level == DEFAULT_PNG_LEVEL else ""),
                         "seconds": secs, "bytes": path.stat().st_size})

        def pillow6() -> None:
            buf = io.BytesIO()
            Image.fromarray(px).save(buf, "PNG", compress_level=6)
            (Path(tmp) / "pillow6.png").write_bytes(buf.getvalue())

        secs = timed(pillow6, repeat)
        rows.append({"encoder": "Pillow level 6 (before)", "seconds": secs,
                     "bytes": (Path(tmp) / "pillow6.png").stat().st_size})
        one = Path(tmp) / "level1.png"

        imread_s = timed(lambda: cv2.imread(str(one), cv2.IMREAD_UNCHANGED), repeat)
        loads = [{"reader": "load_photo", "seconds": timed(lambda: load_photo(one), repeat)}]
        for r in loads:
            r["time_vs_imread"] = r["seconds"] / imread_s
    for r in rows:
        r["time_vs_imwrite"] = r["seconds"] / floor_s
        r["size_vs_imwrite"] = r["bytes"] / floor_bytes
    return {"photo": f"{w} x {h} 8-bit RGB, generated", "imwrite_seconds": floor_s, "imwrite_bytes": floor_bytes,
            "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}", "repeat": repeat, "rows": rows,
            "imread_seconds": imread_s, "loads": loads,
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def markdown(res: dict) -> str:
    lines = [f"PNG save benchmark, {res['photo']}, {res['when']} (best of {res['repeat']} after a warm-up).", "",
             (f"Floor: cv2.imwrite of the same array, {res['imwrite_seconds']:.2f} s, "
              f"{res['imwrite_bytes'] / 2**20:.1f} MiB (absolute numbers depend on the machine's load; "
              "the ratios are of one run)."), "",
             "| encoder | time / imwrite | size / imwrite | seconds | MiB |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['encoder']} | {r['time_vs_imwrite']:.2f} | {r['size_vs_imwrite']:.3f} | "
                     f"{r['seconds']:.2f} | {r['bytes'] / 2**20:.1f} |")
    lines += ["", f"Loads of the level-1 file; floor: cv2.imread, {res['imread_seconds']:.2f} s.", "",
              "| reader | time / imread | seconds |", "|---|---|---|"]
    lines += [f"| {r['reader']} | {r['time_vs_imread']:.2f} | {r['seconds']:.2f} |" for r in res["loads"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="sides / 4: checks the script quickly")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    h, w = (1000, 1500) if args.small else (4000, 6000)
    res = run(h, w, args.repeat)
    table = markdown(res)
    print(table)
    stem = "save-small" if args.small else "save"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    (args.out / f"{stem}.md").write_text(table, encoding="utf-8")
    print(f"wrote {args.out / stem}.md and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
