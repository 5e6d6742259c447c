"""Quality through the engine (run by hand): the evaluation pairs filled by ``engine.inpaint``, not the bare model.

    python benchmarks/eval_engine.py partialconv-compact --photos DIR --masks DIR --size 512 --pairs 20

``restorer-cli evaluate`` calls a model on whole 256 px pairs, so how the engine plans a photo
(regions, tiles, working size, blending) never shows there. At ``--size 512`` every crop is larger
than the model's work size and is tiled; this scores exactly that path, with the same pairs, metrics
and buckets as ``evaluate``. Run it before and after a planning change (e.g. with PYTHONPATH at the
older tree) and compare the buckets. Writes OUT/eval_engine.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT))  # last: PYTHONPATH may point at another tree to compare against

from restorer.inference import engine
from restorer.inference.engine import EngineOptions
from restorer.training.evaluate import make_pairs, score_models


class EngineFill:
    """The evaluation harness's model call, one photo at a time through ``engine.inpaint`` (8-bit)."""

    def __init__(self, model: str, options: EngineOptions) -> None:
        self.model, self.options = model, options

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        outs = []
        for img, m in zip(image, mask):
            px = np.round(img.transpose(1, 2, 0) * 255).astype(np.uint8)
            filled, _ = engine.inpaint(px, m[0] > 0.5, self.model, self.options)
            outs.append(filled.transpose(2, 0, 1).astype(np.float32) / 255)
        return np.stack(outs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--photos", type=Path, required=True)
    parser.add_argument("--masks", type=Path, required=True)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    pairs = make_pairs(args.photos, args.masks, args.size, args.pairs, args.seed)
    # The ground truth the engine can reach is the 8-bit photo it was given.
    pairs.images = np.round(pairs.images * 255).astype(np.float32) / 255
    fill = EngineFill(args.model, EngineOptions(device="cpu", threads=args.threads))
    results = score_models(pairs, {f"engine {args.model}": fill}, batch=4)
    rows = results[f"engine {args.model}"]
    lines = [(f"Engine fill quality, {args.model}, {args.pairs} pairs per bucket at {args.size} px, seed {args.seed}, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"), "",
             "| bucket | PSNR | SSIM | L1 | detail | n |", "|---|---|---|---|---|---|"]
    for b in sorted(rows):
        r = rows[b]
        lines.append(f"| {b} | {r['psnr']:.3f} | {r['ssim']:.4f} | {r['l1']:.5f} | {r.get('detail', float('nan')):.3f} "
                     f"| {r['n']} |")
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval_engine.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                           "results": rows}, indent=1), encoding="utf-8")
    (args.out / "eval_engine.md").write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
