"""Learned models through the registry: safetensors + card loading, the numpy call, broken files, OOM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from restorer.errors import ModelUnavailable
from restorer.models import edgeconnect, partialconv, registry
from restorer.models.neural import EdgeConnectInpainter, TorchInpainter

TINY = {
    "partialconv-compact": {"arch": "partialconv", "width": 4, "depth": 3},
    "edgeconnect-compact": {"arch": "edgeconnect", "width": 4, "blocks": 1, "sigma": 1.0},
}


def _state(config: dict[str, Any], fold: bool = False, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    builder = partialconv.build_network if config["arch"] == "partialconv" else edgeconnect.build_network
    net = builder(config).eval()
    if fold:
        from torch.nn.utils import parametrize

        for m in list(net.modules()):
            if parametrize.is_parametrized(m):
                parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
    # Exports are half precision; contiguous copies because safetensors refuses shared storage.
    return {k: v.detach().half().contiguous().clone() for k, v in net.state_dict().items()}


def write_model(folder: Path, name: str, config: dict[str, Any] | None = None, fold: bool = False,
                card_extra: dict[str, Any] | None = None) -> Path:
    config = TINY[name] if config is None else config
    path = folder / f"{name}.safetensors"
    save_file(_state(config, fold), str(path))
    card = {"config": config, "sha256": registry.file_sha256(path), "licence": "test"}
    card.update(card_extra or {})
    (folder / f"{name}.json").write_text(json.dumps(card), encoding="utf-8")
    return path


def _inputs(n: int = 2, h: int = 32, w: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.random((n, 3, h, w), dtype=np.float32)
    mask = np.zeros((n, 1, h, w), np.float32)
    mask[:, :, 8:20, 10:30] = 1.0
    return image, mask


def test_catalog_registers_learned_variants_next_to_classical(tmp_path: Path) -> None:
    names = {s.name for s in registry.all_specs()}
    assert {"telea", "navier-stokes", "edgeconnect", "edgeconnect-compact", "partialconv", "partialconv-compact"} <= names
    for name in ("edgeconnect", "edgeconnect-compact", "partialconv", "partialconv-compact"):
        spec = registry.get_spec(name)
        assert spec.kind == "learned" and spec.weights == f"{name}.safetensors"
        state = registry.check(spec, tmp_path)
        assert not state.ready and "not in" in state.reason
        with pytest.raises(ModelUnavailable, match=name):
            registry.load(name, device="cpu", folder=tmp_path)
    assert registry.get_spec("partialconv").pad_multiple == partialconv.pad_multiple(registry.get_spec("partialconv").config)


@pytest.mark.parametrize("name", ["partialconv-compact", "edgeconnect-compact"])
def test_load_from_card_config_and_fill(tmp_path: Path, name: str) -> None:
    write_model(tmp_path, name)
    state = registry.check(registry.get_spec(name), tmp_path)
    assert state.ready, state.reason
    model = registry.load(name, device="cpu", folder=tmp_path)
    assert isinstance(model, TorchInpainter) and model.device == "cpu" and model.precision == "fp32"
    assert model.network.width == 4  # the card's config, not the catalogue's nominal one
    image, mask = _inputs()
    out = model(image, mask)
    assert out.shape == image.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    keep = np.broadcast_to(mask == 0, image.shape)
    np.testing.assert_array_equal(out[keep], image[keep])  # known pixels bit-identical
    assert not np.allclose(out[~keep], image[~keep])
    np.testing.assert_array_equal(model(image, np.zeros_like(mask)), image)  # nothing to fill


def test_sizes_off_the_pad_multiple_are_padded_and_cropped(tmp_path: Path) -> None:
    write_model(tmp_path, "partialconv-compact")
    model = registry.load("partialconv-compact", device="cpu", folder=tmp_path)
    assert model.pad_multiple == 8
    image, mask = _inputs(1, 21, 30)
    assert model(image, mask).shape == (1, 3, 21, 30)


def test_edgeconnect_edges_and_guides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_model(tmp_path, "edgeconnect-compact")
    model = registry.load("edgeconnect-compact", device="cpu", folder=tmp_path)
    assert isinstance(model, EdgeConnectInpainter)
    image, mask = _inputs(1, 32, 32)
    edges = model.predict_edges(image, mask)
    assert edges.shape == (1, 1, 32, 32) and edges.dtype == np.float32
    assert 0.0 <= edges.min() and edges.max() <= 1.0
    plain = model(image, mask)
    # A given map is the whole map: no Canny and no first stage again, and the same fill as composing
    # the map's hole part with freshly computed known edges.
    binary = (edges > 0.5).astype(np.float32)
    calls = []
    real = edgeconnect.known_edges
    monkeypatch.setattr(edgeconnect, "known_edges", lambda *a: calls.append(1) or real(*a))
    given = model(image, mask, edges=binary)
    assert calls == []
    with torch.no_grad():
        img, hole = torch.from_numpy(image), torch.from_numpy(mask)
        known = real(edgeconnect.to_gray(img), hole, model.network.sigma)
        recomposed, _ = model.network(img, hole, known, guide=torch.from_numpy(binary))
    np.testing.assert_allclose(given, np.where(mask > 0.5, recomposed.clamp(0, 1).numpy(), image), atol=1e-5)
    guide = binary.copy()
    guide[..., 14, :] = np.maximum(guide[..., 14, :], mask[..., 14, :])  # a guide line across the hole
    guided = model(image, mask, edges=guide)
    assert plain.shape == guided.shape == image.shape
    assert not np.allclose(plain, guided)  # the guide lines reach the second stage
    keep = np.broadcast_to(mask == 0, image.shape)
    np.testing.assert_array_equal(guided[keep], image[keep])


def test_parametrised_and_folded_spectral_norm_exports_agree(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    write_model(a, "edgeconnect-compact", fold=False)
    write_model(b, "edgeconnect-compact", fold=True)
    image, mask = _inputs(1, 16, 16)
    out_a = registry.load("edgeconnect-compact", device="cpu", folder=a).predict_edges(image, mask)
    out_b = registry.load("edgeconnect-compact", device="cpu", folder=b).predict_edges(image, mask)
    np.testing.assert_allclose(out_a, out_b, atol=2e-3)  # the two exports round to fp16 at different points


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "tampered":
        flipped = bytearray(data)
        flipped[-10] ^= 0xFF  # same size, valid header: only the sha256 can tell
        path.write_bytes(bytes(flipped))
    elif how == "missing":
        path.unlink()


def test_capabilities_are_declared_on_the_spec_not_guessed_from_names() -> None:
    edges = {s.name for s in registry.all_specs() if s.predicts_edges}
    assert edges == {"edgeconnect", "edgeconnect-compact"}
    kinds = {s.name: s.kind for s in registry.all_specs()}
    assert kinds["telea"] == "classical" and kinds["patchmatch"] == kinds["guided-edgeconnect"] == "synthesis"
    # a guided model runs a network through its guide, but is no network itself
    guided = registry.get_spec("guided-partialconv")
    assert guided.runs_network and not guided.learned and not guided.predicts_edges
    assert registry.get_spec("edgeconnect").pad_multiple == 4 and registry.get_spec("telea").context == (7, 0.0)


def test_a_card_whose_network_the_engine_cannot_pad_for_is_unavailable(tmp_path: Path) -> None:
    # depth 8 halves eight times: sides must be multiples of 256, but the engine pads partialconv to 128
    write_model(tmp_path, "partialconv-compact", {"arch": "partialconv", "width": 4, "depth": 8})
    state = registry.check(registry.get_spec("partialconv-compact"), tmp_path)
    assert not state.ready and "multiple of 256" in state.reason
    with pytest.raises(ModelUnavailable, match="multiple of 256"):
        registry.load("partialconv-compact", device="cpu", folder=tmp_path)


def test_check_hands_its_parsed_card_to_load(tmp_path: Path) -> None:
    write_model(tmp_path, "partialconv-compact")
    state = registry.check(registry.get_spec("partialconv-compact"), tmp_path)
    assert state.ready and state.card is not None and state.card["config"] == TINY["partialconv-compact"]


@pytest.mark.parametrize("how, reason", [("missing", "not in"), ("truncated", "corrupt"), ("tampered", "sha256")])
def test_broken_weights_are_unavailable_not_a_crash(tmp_path: Path, how: str, reason: str) -> None:
    path = write_model(tmp_path, "partialconv-compact")
    _corrupt(path, how)
    state = registry.check(registry.get_spec("partialconv-compact"), tmp_path)
    assert not state.ready and reason in state.reason
    with pytest.raises(ModelUnavailable, match=reason):
        registry.load("partialconv-compact", device="cpu", folder=tmp_path)


@pytest.mark.parametrize(
    "card_text, reason",
    [
        ("{not json", "unreadable"),
        ("[1, 2]", "not a JSON object"),
        (None, "missing"),
        ('{"sha256": "%s"}', "architecture config"),
        ('{"sha256": "%s", "config": {"arch": "partialconv", "width": 4, "depth": 3}}', "architecture config"),
    ],
)
def test_bad_cards_are_unavailable(tmp_path: Path, card_text: str | None, reason: str) -> None:
    path = write_model(tmp_path, "edgeconnect-compact")
    card = tmp_path / "edgeconnect-compact.json"
    if card_text is None:
        card.unlink()
    else:
        card.write_text(card_text.replace("%s", registry.file_sha256(path)), encoding="utf-8")
    state = registry.check(registry.get_spec("edgeconnect-compact"), tmp_path)
    assert not state.ready and reason in state.reason
    with pytest.raises(ModelUnavailable):
        registry.load("edgeconnect-compact", device="cpu", folder=tmp_path)


@pytest.mark.parametrize(
    "config",
    [
        {"arch": "partialconv", "width": 8, "depth": 3},  # the weights were made with width 4
        {"arch": "partialconv", "width": "wide", "depth": 3},
    ],
)
def test_card_config_that_does_not_fit_the_weights(tmp_path: Path, config: dict[str, Any]) -> None:
    path = write_model(tmp_path, "partialconv-compact")
    card = tmp_path / "partialconv-compact.json"
    card.write_text(json.dumps({"config": config, "sha256": registry.file_sha256(path)}), encoding="utf-8")
    # A mistyped value is caught by the card check; a plausible width only loading can tell.
    ready = registry.check(registry.get_spec("partialconv-compact"), tmp_path).ready
    assert ready == isinstance(config["width"], int)
    with pytest.raises(ModelUnavailable, match="partialconv-compact") as info:
        registry.load("partialconv-compact", device="cpu", folder=tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "error, translated",
    [
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
        (RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"), True),
        (RuntimeError("shapes do not match"), False),
    ],
)
@pytest.mark.parametrize("name", ["partialconv-compact", "edgeconnect-compact"])
def test_out_of_memory_is_translated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                     error: RuntimeError, translated: bool) -> None:
    write_model(tmp_path, name)
    model = registry.load(name, device="cpu", folder=tmp_path)
    # no converted model from the disk cache: the network itself must run (and fail)
    monkeypatch.setenv("RESTORER_CACHE_DIR", "off")

    def boom(*args: Any, **kwargs: Any) -> torch.Tensor:
        raise error

    monkeypatch.setattr(model.network, "forward", boom)
    if isinstance(model, EdgeConnectInpainter):
        monkeypatch.setattr(model.network.edge, "forward", boom)
    image, mask = _inputs(1, 16, 16)
    expected = registry.OutOfMemory if translated else RuntimeError
    with pytest.raises(expected) as info:
        model(image, mask)
    assert isinstance(info.value, registry.OutOfMemory) == translated
    if isinstance(model, EdgeConnectInpainter):
        with pytest.raises(expected):
            model.predict_edges(image, mask)


@pytest.mark.parametrize("card_half, expected", [({"half": "bf16"}, "bf16"), ({"half": False}, "fp32"), (None, "fp16")])
def test_half_precision_only_when_asked_on_cuda_and_card_allows(tmp_path: Path, card_half: dict | None,
                                                                 expected: str) -> None:
    extra = {"inference": card_half} if card_half is not None else None  # None: the catalogue's "fp16"
    write_model(tmp_path, "partialconv-compact", card_extra=extra)
    model = registry.load("partialconv-compact", device="cpu", folder=tmp_path, half=True)
    assert model.precision == "fp32"  # CPU: never autocast
    model.device = "cuda"  # pretend, without running anything
    model.set_half(True)
    assert model.precision == expected
    model.set_half(False)
    assert model.precision == "fp32"
    assert registry.load("telea", half=True).name == "telea"  # classical models take no precision


def test_input_validation(tmp_path: Path) -> None:
    write_model(tmp_path, "partialconv-compact")
    model = registry.load("partialconv-compact", device="cpu", folder=tmp_path)
    image, mask = _inputs(1, 16, 16)
    with pytest.raises(ValueError):
        model(image[:, :1], mask)
    with pytest.raises(ValueError):
        model(image, mask[:, :, :8])
