"""A/B of the default fill's synthesis settings on the validation pairs (run by hand, not a test).

    python benchmarks/ab_synthesis.py --pairs 15 --size 512 '{}' '{"large_hole": 0}'
    python benchmarks/ab_synthesis.py --pairs 100 --thin-only '{}' '{"em_single": 2}'

Each positional argument is a JSON object of ``Settings`` fields that replace the default's
(``models.catalog.GUIDED_CONFIG``); ``{}`` is the default itself. The guide (ensemble-compact's fill,
for the holes the default guides) is computed once per run and shared by every variant, so the
variants differ only in synthesis. Pairs and scores are the evaluation's own (``make_pairs`` and
``score`` of restorer/training/evaluate.py: PSNR / SSIM over the whole image, detail and patch
distance in the hole). ``--thin-only`` keeps the holes the default fills without its networks
(scratches and specks) and adds Navier-Stokes on them. The photos are research-only and read in place.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.models import registry  # noqa: E402
from restorer.models.catalog import GUIDED_CONFIG  # noqa: E402
from restorer.synthesis.completion import NothingToCopy  # noqa: E402
from restorer.synthesis.model import PatchInpainter, settings_from, wants_guide  # noqa: E402
from restorer.training.evaluate import make_pairs, score  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "val"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help="JSON objects of Settings fields")
    ap.add_argument("--pairs", type=int, default=30, help="pairs per bucket")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--photos", type=Path, default=DATA / "photos" / "cbsd68")
    ap.add_argument("--masks", type=Path, default=DATA / "masks")
    ap.add_argument("--thin-only", action="store_true")
    args = ap.parse_args()
    pairs = make_pairs(args.photos, args.masks, args.size, args.pairs, 0)
    base = settings_from(GUIDED_CONFIG)
    variants = [dataclasses.replace(base, **json.loads(text)) for text in args.variants]
    # a variant's own unguided_below decides which holes it guides; guides are made for any that does
    wants = np.array([[wants_guide(m[0] > 0.5, v) for v in [base, *variants]] for m in pairs.masks])
    guided = wants[:, 0]
    needs = wants.any(axis=1)
    keep = np.flatnonzero(~guided) if args.thin_only else np.arange(len(guided))
    sub = SimpleNamespace(images=pairs.images[keep], masks=pairs.masks[keep], buckets=[pairs.buckets[i] for i in keep])
    guides = np.zeros_like(sub.images)
    todo = np.flatnonzero(needs[keep])
    if todo.size:
        net = registry.load("ensemble-compact", device="cpu")
        for i in range(0, todo.size, 16):
            j = todo[i:i + 16]
            img, m = sub.images[j], sub.masks[j]
            guides[j] = np.asarray(net(np.ascontiguousarray(img * (1 - m)), np.ascontiguousarray(m)), np.float32)
    print(f"{len(keep)} pairs ({args.size} px):", {b: sub.buckets.count(b) for b in sorted(set(sub.buckets))})

    def report(name: str, outputs: np.ndarray, seconds: float) -> None:
        res = score(outputs, sub)
        print(f"{name}  ({seconds:.1f} s)")
        for b, r in res.items():
            print(f"  {b:12s} PSNR {r['psnr']:.3f}  SSIM {r['ssim']:.4f}  detail {r['detail']:.3f}  patch {r['patch']:.3f}")

    if args.thin_only:
        ns = registry.load("navier-stokes", device="cpu")
        out = ns(np.ascontiguousarray(sub.images * (1 - sub.masks)), sub.masks)
        report("navier-stokes", np.clip(out, 0, 1) * sub.masks + sub.images * (1 - sub.masks), 0.0)
    for v, (text, settings) in enumerate(zip(args.variants, variants)):
        synth = PatchInpainter("variant", settings)
        outs = []
        t = time.perf_counter()
        for i in range(len(sub.images)):
            img, m = sub.images[i:i + 1], sub.masks[i:i + 1]
            try:
                o = synth(np.ascontiguousarray(img * (1 - m)), m, guides[i:i + 1] if wants[keep[i], v + 1] else None)
            except NothingToCopy:  # a hole that leaves no patch: the guide, as the registry model does
                o = guides[i:i + 1]
            outs.append(np.clip(o, 0, 1) * m + img * (1 - m))
        report(text, np.concatenate(outs), time.perf_counter() - t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
