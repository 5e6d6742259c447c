"""Figure (run by hand): a thin scratch's fill with the copied band at 1.3 and at 1.0 (``gain_thin``), at 200 %.

    python benchmarks/figure_thin_gain.py      # -> resources/screenshots/thin-gain.png

scikit-image's camera man with added grain (sigma 7 levels) and two crossing scratches of 6 and 4 px;
the default fill (guided-ensemble; scratches this thin follow Navier-Stokes with the photo's own
patches) with ``gain_thin`` 1.3 (the default before) and 1.0 (now). Crops: the damage, 1.3, 1.0, the original.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.inference import engine, runner  # noqa: E402
from restorer.models import catalog  # noqa: E402


def main() -> int:
    rng = np.random.default_rng(0)
    gray = data.camera().astype(np.float32) + rng.normal(0, 7, (512, 512))
    img = np.repeat(np.clip(gray, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    hole = np.zeros((512, 512), np.uint8)
    cv2.line(hole, (20, 60), (500, 140), 1, 6)
    cv2.line(hole, (300, 10), (360, 500), 1, 4)
    mask = hole.astype(bool)
    outs = []
    for gain in (1.3, 1.0):
        catalog.GUIDED_CONFIG["gain_thin"] = gain
        runner.clear_models()
        outs.append(engine.inpaint(img, mask, "guided-ensemble", engine.EngineOptions(device="cpu", threads=1))[0])
        err = (outs[-1].astype(float) - img)[mask]
        print(f"gain_thin {gain}: RMSE in the scratches {np.sqrt((err ** 2).mean()):.2f} levels")
    damaged = img.copy()
    damaged[mask] = 255
    crop = (slice(70, 150), slice(240, 340))
    tiles = [cv2.resize(x[crop], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST) for x in (damaged, *outs, img)]
    out = ROOT / "resources" / "screenshots" / "thin-gain.png"
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(tiles, 1), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
