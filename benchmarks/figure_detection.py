"""The README's detection picture (run by hand): a damaged print, each detector's proposals, and the fill.

    python benchmarks/figure_detection.py     # -> resources/screenshots/detection-example.png

The print is scikit-image's public-domain 'astronaut' (NASA) made to look old and damaged by
restorer/detection/render.py (seeded); nothing is read from the shared research data. Proposals are
drawn in amber over the print at threshold 0.5 (a 240 px part, at 200 %); the fill is the registry's default model on the
learned detector's mask grown by 2 px (what `restorer-cli inpaint --detect` does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restorer.detection import GROW_PX, detect_damage, registry
from restorer.detection.render import DamageCounts, damaged_print
from restorer.inference.engine import EngineOptions, inpaint
from restorer.models.registry import default_model

VIEW = (slice(200, 440), slice(0, 240))  # 240 px, shown at 200 % so one-pixel damage shows
ZOOM = 2


def overlay(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = pixels.astype(np.float32)
    out[mask] = out[mask] * 0.25 + np.array([255, 176, 0], np.float32) * 0.75
    return out.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    from skimage import data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default=str(REPO / "resources" / "screenshots" / "detection-example.png"))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(1969)
    pair = damaged_print(data.astronaut(), rng, DamageCounts(scratches=6, dust=80, hairs=4, cracks=3))
    names = [s.name for s in registry.all_specs() if registry.check(s).ready]
    panels, labels = [pair.pixels], ["damaged print"]
    masks = {}
    for name in names:
        masks[name] = detect_damage(pair.pixels, name).mask(0.5)
        panels.append(overlay(pair.pixels, masks[name]))
        labels.append(f"{name} proposals")
    best = "damage-unet" if "damage-unet" in masks else names[0]
    model = default_model()
    hole = detect_damage(pair.pixels, best).mask(0.5, grow=GROW_PX)
    filled, _ = inpaint(pair.pixels, hole, model, EngineOptions(device="cpu"))
    panels.append(filled)
    labels.append(f"filled ({best} + {model})")
    row = np.concatenate([np.repeat(np.repeat(p[VIEW], ZOOM, 0), ZOOM, 1) for p in panels], 1)
    head = np.full((24, row.shape[1], 3), 255, np.uint8)
    width = (VIEW[1].stop - VIEW[1].start) * ZOOM
    for j, label in enumerate(labels):
        cv2.putText(head, label, (j * width + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    out = Path(args.out)
    if not cv2.imwrite(str(out), cv2.cvtColor(np.concatenate([head, row], 0), cv2.COLOR_RGB2BGR)):
        print(f"{out}: could not write the picture", file=sys.stderr)
        return 1
    truth = pair.any
    for name, m in masks.items():
        print(f"{name}: {int(m.sum())} px proposed, {int(truth.sum())} px damaged")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
