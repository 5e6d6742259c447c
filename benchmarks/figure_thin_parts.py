"""Figure for the README (run by hand): a hole's thin parts follow Navier-Stokes, its thick parts the networks.

    python benchmarks/figure_thin_parts.py      # -> resources/screenshots/thin-parts.png

scikit-image's astronaut (public domain, NASA) as an old print, upscaled to 1024 px so that its
crops take several network tiles, with two crossing 8-px scratches and a 36-px-radius blob. Filled
by the default as shipped and by the same fill with the networks over every tile of the hole (the
engine before this change), both warm in this process; the time of each is printed. Rows: crops at
200 % around the blob, the crossing and a stretch of plain scratch. Columns: the damage, networks
everywhere, the shipped default, the original.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restorer.inference import engine  # noqa: E402

OUT = ROOT / "resources" / "screenshots" / "thin-parts.png"


def photo_and_hole() -> tuple[np.ndarray, np.ndarray]:
    from skimage import data

    gray = data.astronaut().astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0
    sepia = np.clip(np.stack([gray * 1.07, gray * 0.95, gray * 0.78], axis=-1) * 0.9 + 0.06, 0, 1)
    big = cv2.resize(sepia, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    big += np.random.default_rng(0).normal(0, 0.02, big.shape[:2])[..., None].astype(np.float32)
    img = (np.clip(big, 0, 1) * 255).astype(np.uint8)
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.line(m, (40, 120), (990, 900), 1, 8)
    cv2.line(m, (60, 880), (980, 160), 1, 8)
    cv2.circle(m, (300, 560), 36, 1, -1)
    return img, m.astype(bool)


def fill(img: np.ndarray, hole: np.ndarray, everywhere: bool) -> tuple[np.ndarray, float]:
    opts = engine.EngineOptions(device="cpu", threads=1)
    real = engine.plan_regions
    if everywhere:
        engine.plan_regions = lambda *a, **k: real(*a, **{**k, "thin": None})  # type: ignore[assignment]
    try:
        engine.inpaint(img, hole, "guided-ensemble", opts)  # warm
        t = time.perf_counter()
        out, _ = engine.inpaint(img, hole, "guided-ensemble", opts)
        return out, time.perf_counter() - t
    finally:
        engine.plan_regions = real  # type: ignore[assignment]


def main() -> int:
    img, hole = photo_and_hole()
    old, t_old = fill(img, hole, everywhere=True)
    new, t_new = fill(img, hole, everywhere=False)
    print(f"networks over every tile: {t_old:.1f} s; shipped default: {t_new:.1f} s ({t_old / t_new:.1f}x faster)")
    shown = img.copy()
    shown[hole] = (255, 0, 255)
    rows = []
    for cy, cx in ((560, 300), (520, 520), (240, 180)):
        y0, x0 = cy - 80, cx - 80
        tiles = [t[y0:y0 + 160, x0:x0 + 160] for t in (shown, old, new, img)]
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1))
    pic = cv2.resize(np.concatenate(rows, 0), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(OUT), pic[..., ::-1])
    print(OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
