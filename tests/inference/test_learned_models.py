"""The engine with the real learned networks (tiny, random-init weights in a temporary folder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from restorer.inference import engine
from restorer.inference.engine import EngineOptions
from restorer.models import registry

TINY = {
    "edgeconnect-compact": {"arch": "edgeconnect", "width": 8, "blocks": 1, "sigma": 2.0},
    "partialconv-compact": {"arch": "partialconv", "width": 8, "depth": 7},
}


def _write_random_weights(name: str, folder: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from restorer.models import edgeconnect, partialconv

    config = TINY[name]
    torch.manual_seed(0)
    build = edgeconnect.build_network if config["arch"] == "edgeconnect" else partialconv.build_network
    spec = registry.get_spec(name)
    path = folder / spec.weights
    save_file({k: v.contiguous() for k, v in build(config).state_dict().items()}, str(path))
    card = {"config": config, "sha256": registry.file_sha256(path), "note": "random init for tests"}
    (folder / spec.card_name).write_text(json.dumps(card), encoding="utf-8")


@pytest.fixture()
def weights(tmp_path: Path):
    for name in TINY:
        _write_random_weights(name, tmp_path)
    yield tmp_path
    engine.clear_cache()


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("shape,dtype", [((180, 260, 3), np.uint8), ((180, 260), np.uint16)])
def test_learned_model_fills_only_the_hole(weights: Path, name: str, shape: tuple[int, ...], dtype: type) -> None:
    rng = np.random.default_rng(0)
    pixels = (rng.random(shape) * np.iinfo(dtype).max).astype(dtype)
    mask = np.zeros(shape[:2], bool)
    mask[60:100, 40:200] = True
    mask[150:154, 240:244] = True
    options = EngineOptions(device="cpu", weights_folder=weights)
    out, result = engine.inpaint(pixels, mask, name, options)
    assert out.shape == pixels.shape and out.dtype == pixels.dtype
    assert np.array_equal(out[~mask], pixels[~mask])
    assert result.device == "cpu"
    assert (len(result.edges) > 0) == name.startswith("edgeconnect")


def test_edgeconnect_guide_lines_change_the_fill_and_show_in_the_edges(weights: Path) -> None:
    rng = np.random.default_rng(1)
    pixels = (rng.random((160, 160, 3)) * 255).astype(np.uint8)
    mask = np.zeros((160, 160), bool)
    mask[50:110, 50:110] = True
    guide = np.zeros_like(mask)
    guide[80, 50:110] = True
    plain = EngineOptions(device="cpu", weights_folder=weights)
    guided = EngineOptions(device="cpu", weights_folder=weights, guide_edges=guide)
    out_plain, _ = engine.inpaint(pixels, mask, "edgeconnect-compact", plain)
    out_guided, result = engine.inpaint(pixels, mask, "edgeconnect-compact", guided)
    assert not np.array_equal(out_plain, out_guided)
    (box, edges), = result.edges
    full = np.zeros(mask.shape, np.float32)
    full[box.slices] = edges
    assert np.all(full[80, 50:110] == 1.0)
    shown = engine.predict_edges(pixels, mask, "edgeconnect-compact", guided)
    assert len(shown) == 1 and np.array_equal(shown[0][1], edges)
