"""The pypatchmatch baseline: the Inpainter call, untouched known pixels, determinism, and no import unless used."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from restorer.errors import RestorerError
from restorer.training import peers
from restorer.training.texture import detail_ratio

needs_pypatchmatch = pytest.mark.skipif(not peers.pypatchmatch_available(), reason="pypatchmatch not installed")


def _stripes(n: int = 2, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Periodic colour stripes with grain (floats off the 8-bit grid), and a square hole in each."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    base = 0.5 + 0.3 * np.sin(2 * np.pi * (xx + 0.5 * yy) / 8.0)
    img = np.stack([base, 1 - base, 0.5 * base + 0.2])[None].repeat(n, 0)
    img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)
    mask = np.zeros((n, 1, size, size), np.float32)
    mask[:, :, 20:40, 24:44] = 1
    return img, mask


@needs_pypatchmatch
def test_pypatchmatch_is_an_inpainter_that_keeps_known_pixels() -> None:
    img, mask = _stripes()
    fill = peers.load_peer("pypatchmatch")
    out = fill(img * (1 - mask), mask)
    assert out.shape == img.shape and out.dtype == np.float32
    keep = np.broadcast_to(mask == 0, img.shape)
    assert np.array_equal(out[keep], img[keep])  # bit for bit, not through 8 bits
    hole = mask[0, 0] > 0
    # The stripes continue through the hole: close to the truth and textured, unlike a smooth fill.
    assert np.abs(out - img)[np.broadcast_to(mask > 0, img.shape)].mean() < 0.08
    assert detail_ratio(out[0].transpose(1, 2, 0), img[0].transpose(1, 2, 0), hole) > 0.6


@needs_pypatchmatch
def test_pypatchmatch_is_deterministic_per_image_and_takes_gray() -> None:
    img, mask = _stripes(2)
    fill = peers.PyPatchMatch(patch_size=3, seed=0)
    both = fill(img, mask)
    assert np.array_equal(both, fill(img, mask))
    assert np.array_equal(both[1:], fill(img[1:], mask[1:]))  # the batch does not change a result
    gray = fill(img[:, :1], mask)
    assert gray.shape == (2, 1, 64, 64)
    assert np.array_equal(gray[mask == 0], img[:, :1][mask == 0])
    with pytest.raises(ValueError):
        fill(img, mask[:, 0])


def test_missing_pypatchmatch_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peers, "_patch_match", lambda: None)
    assert not peers.pypatchmatch_available() and peers.available_peers() == {}
    with pytest.raises(RestorerError, match="pypatchmatch is not installed"):
        peers.load_peer("pypatchmatch")
    with pytest.raises(RestorerError, match="unknown peer"):
        peers.load_peer("lama")


def test_pypatchmatch_is_not_imported_by_the_package() -> None:
    code = ("import json, sys\nimport restorer.cli, restorer.training.commands, restorer.training.evaluate, "
            "restorer.training.peers\nprint(json.dumps(sorted(sys.modules)))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert "patchmatch" not in loaded and "restorer.training.peers" in loaded
