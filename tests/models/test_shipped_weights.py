"""The weights in weights/ are what a new user gets: they must load, pass the registry's checks, and
fill better than the classical methods on photos the project can use (scikit-image's public-domain
samples; the research-only validation set stays outside the repository and outside CI)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from restorer.models import registry
from restorer.training.evaluate import BASELINES
from restorer.training.masks import MaskGenerator
from restorer.training.metrics import psnr, ssim

WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
SHIPPED = ["partialconv-compact", "edgeconnect-compact"]
# What each model must keep on the project's photos below: (PSNR lead in dB, SSIM lead) over each
# baseline. Measured (48 pairs): partialconv-compact 24.36 dB / 0.8699, edgeconnect-compact 24.75 /
# 0.8770, Telea 24.04 / 0.8700, Navier-Stokes 24.00 / 0.8736. The PConv model trails Navier-Stokes in
# SSIM here (README, Training and evaluation), so its bound only keeps the gap from growing.
MARGINS = {"partialconv-compact": (0.2, -0.005), "edgeconnect-compact": (0.5, 0.002)}


def _pairs(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Four photos x each kind of generated damage x 2 seeded masks (10-45 % holes): 48 pairs,
    N x 3 x S x S and N x 1 x S x S."""
    from skimage import data

    photos = []
    for load in (data.astronaut, data.coffee, data.chelsea, data.rocket):
        img = load()
        h, w = img.shape[:2]
        s = min(h, w)
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        photos.append(cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)
    rng = np.random.default_rng(2026)
    images, masks = [], []
    for kind in ("brush", "blotch", "scratch", "crack", "dust", "corner"):
        gen = MaskGenerator(kinds={kind: 1.0}, min_ratio=0.10, max_ratio=0.45)
        for photo in photos:
            for _ in range(2):
                images.append(photo.transpose(2, 0, 1))
                masks.append(gen((size, size), rng)[None])
    return np.stack(images), np.stack(masks)


def _scores(model: registry.Inpainter, images: np.ndarray, masks: np.ndarray) -> tuple[float, float]:
    out = np.clip(model(np.ascontiguousarray(images * (1 - masks)), masks), 0, 1) * masks + images * (1 - masks)
    pairs = [(o.transpose(1, 2, 0), g.transpose(1, 2, 0)) for o, g in zip(out, images)]
    return float(np.mean([psnr(o, g) for o, g in pairs])), float(np.mean([ssim(o, g) for o, g in pairs]))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_are_ready_with_their_card(name: str) -> None:
    spec = registry.get_spec(name)
    status = registry.check(spec, WEIGHTS)
    assert status.ready, status
    card = json.loads((WEIGHTS / f"{name}.json").read_text(encoding="utf-8"))
    assert card["iterations"] > 0 and card["licence"] and card["config"]["arch"] == spec.config["arch"]
    # The card carries the evaluation that let it ship: both baselines beaten from 10-20 % up.
    from restorer.training.evaluate import beats_baselines

    results = card["metrics"]["results"]
    assert set(BASELINES) <= set(results) and min(r["n"] for r in results[name].values()) >= 100
    assert beats_baselines(results, name) == []


def test_weights_stay_within_the_size_budget() -> None:
    total = sum(p.stat().st_size for p in WEIGHTS.glob("*.safetensors"))
    assert 0 < total <= 60 * 2**20


@pytest.mark.slow  # over a minute per model on a laptop CPU: the quick suite (-m "not slow") skips it
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_beats_telea_and_navier_stokes_on_project_photos(name: str) -> None:
    """Outside the validation set each shipped model keeps its lead over both baselines by MARGINS."""
    images, masks = _pairs()
    model = registry.load(name, device="cpu", folder=WEIGHTS)
    got_psnr, got_ssim = _scores(model, images, masks)
    min_psnr, min_ssim = MARGINS[name]
    for base in BASELINES:
        base_psnr, base_ssim = _scores(registry.load(base, device="cpu"), images, masks)
        assert got_psnr > base_psnr + min_psnr, (base, got_psnr, base_psnr)
        assert got_ssim > base_ssim + min_ssim, (base, got_ssim, base_ssim)


def test_the_default_model_is_the_best_one_installed(tmp_path: Path) -> None:
    # Both learned models ship; the fill guided by their ensemble comes first in PREFERRED (README).
    assert registry.default_model(WEIGHTS) == "guided-ensemble"
    assert registry.default_model(tmp_path) == registry.FALLBACK == "telea"  # a folder without weights
