"""The learned detector's network, tiling, weights checks and registry entry (random-initialised, small, on CPU)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from restorer.detection import registry
from restorer.detection.learned import (
    DamageUNet,
    LearnedDetector,
    build_network,
    config_problem,
    network_config,
)
from restorer.detection.tiles import detect_blocking
from restorer.errors import Cancelled, ModelUnavailable
from restorer.models.registry import file_sha256


def _detector(seed: int = 0) -> LearnedDetector:
    torch.manual_seed(seed)
    net = DamageUNet(width=4)
    with torch.no_grad():  # BatchNorm statistics away from 0 / 1, so eval mode is not the identity
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return LearnedDetector(net)


def test_any_size_gives_float_maps_of_that_size_in_unit_range() -> None:
    det = _detector()
    gray = np.random.default_rng(0).random((37, 50), dtype=np.float32)
    out = det(gray)
    assert set(out) == {"scratches", "dust", "cracks"}
    for prob in out.values():
        assert prob.shape == (37, 50) and prob.dtype == np.float32
        assert 0.0 <= prob.min() and prob.max() <= 1.0


def test_tiles_agree_with_one_whole_photo_run() -> None:
    det = _detector(1)
    photo = (np.random.default_rng(2).random((230, 301)) * 255).astype(np.uint8)
    whole = detect_blocking(photo, det, tile=512)
    tiled = detect_blocking(photo, det, tile=70)  # 4 x 5 tiles, cores not on multiples of 4
    for kind in whole.maps:
        diff = np.abs(whole.maps[kind].astype(int) - tiled.maps[kind].astype(int))
        assert diff.max() <= 1, kind  # uint8 rounding of float noise only


def test_its_own_tile_size_progress_and_cancel() -> None:
    det = _detector()
    progress: list = []
    photo = np.zeros((1600, 900, 3), np.uint16)
    detect_blocking(photo, det, on_progress=progress.append)
    assert [p.done for p in progress] == [1, 2, 3, 4, 5, 6]  # 768 px tiles (bounded memory): 3 rows x 2
    cancel = threading.Event()

    def stop_after_two(p) -> None:
        if p.done == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        detect_blocking(photo, det, cancel, stop_after_two)


def test_config_checks() -> None:
    assert config_problem(network_config(12)) is None
    assert "width" in str(config_problem({"arch": "damage-unet", "width": 1000, "kinds": ["scratches", "dust", "cracks"]}))
    assert "not a damage-unet" in str(config_problem({"arch": "partialconv"}))
    with pytest.raises(ValueError):
        build_network({"arch": "damage-unet", "width": 8, "kinds": ["dust"]})


def _export(folder: Path, det: LearnedDetector) -> Path:
    from restorer.training.export import export_generator

    st, _ = export_generator(det.net, network_config(4), "damage-unet", folder, iterations=1)
    return st


def test_registry_entry_is_unavailable_until_weights_and_card_are_right(tmp_path: Path) -> None:
    spec = registry.get_spec("damage-unet")
    state = registry.check(spec, tmp_path)
    assert not state.ready and "not trained yet" in state.reason
    det = _detector(3)
    st = _export(tmp_path, det)
    state = registry.check(spec, tmp_path)
    assert state.ready and state.sha256 == file_sha256(st)
    loaded = registry.load("damage-unet", tmp_path)
    gray = np.random.default_rng(4).random((64, 64), dtype=np.float32)
    for kind, prob in det(gray).items():  # fp16 weights: the same maps within half-precision noise
        assert np.abs(loaded(gray)[kind] - prob).max() < 0.02
    card_path = tmp_path / "damage-unet.json"
    card = json.loads(card_path.read_text())
    card["config"]["width"] = 6  # a card that does not fit its weights
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        registry.load("damage-unet", tmp_path)
    st.write_bytes(st.read_bytes()[:-10] + b"0123456789")
    assert "sha256" in registry.check(spec, tmp_path).reason


def test_cli_lists_detectors_with_state_licence_and_weights(capsys) -> None:
    from restorer.cli import main

    assert main(["detectors", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["classical"]["state"] == "ready" and rows["classical"]["weights"] is None
    learned = rows["damage-unet"]
    assert learned["weights"].endswith("damage-unet.safetensors") and "research" in learned["licence"]
    state = registry.check(registry.get_spec("damage-unet"))
    assert (learned["state"] == "ready") == state.ready and learned["sha256"] == state.sha256
    assert sum(r["default"] for r in rows.values()) == 1
    assert main(["detectors"]) == 0 and "damage-unet" in capsys.readouterr().out


def test_card_logit_bias_shifts_the_probability_it_reports(tmp_path: Path) -> None:
    from restorer.training.export import export_generator

    det = _detector(5)
    export_generator(det.net, network_config(4, logit_bias=2.0), "damage-unet", tmp_path, iterations=1)
    shifted = registry.load("damage-unet", tmp_path)
    gray = np.random.default_rng(6).random((48, 48), dtype=np.float32)
    plain, calibrated = det(gray)["dust"], shifted(gray)["dust"]
    logit = np.log(plain / (1 - plain))
    assert np.abs(calibrated - 1 / (1 + np.exp(-(logit - 2.0)))).max() < 0.02  # fp16 weights
    assert "logit_bias" in str(config_problem({**network_config(4), "logit_bias": "high"}))


def test_the_fast_path_gives_the_plain_networks_probabilities() -> None:
    """BatchNorm folded, channels-last, inference_mode: the speed-up changes no output beyond float rounding."""
    fast = _detector(3)
    plain = LearnedDetector(fast.net, fast=False)
    rng = np.random.default_rng(4)
    for shape in ((64, 64), (97, 130), (300, 211)):
        gray = rng.random(shape, dtype=np.float32)
        a, b = fast(gray), plain(gray)
        for kind in a:
            assert a[kind].shape == shape and a[kind].flags.c_contiguous
            assert np.abs(a[kind] - b[kind]).max() < 1e-4, kind
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast._run.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.net.modules())  # the network itself is untouched


def test_logit_bias_applies_on_the_fast_path_too() -> None:
    det = _detector(5)
    shifted = LearnedDetector(det.net, logit_bias=2.0)
    gray = np.random.default_rng(6).random((40, 40), dtype=np.float32)
    a, b = det(gray)["dust"], shifted(gray)["dust"]
    logit = np.log(a / (1 - a))
    expect = 1 / (1 + np.exp(-(logit - 2.0)))
    assert np.abs(b - expect).max() < 1e-4


def test_a_logit_bias_per_kind_shifts_each_kinds_map_by_its_own(tmp_path: Path) -> None:
    from restorer.training.export import export_generator

    det = _detector(7)
    bias = {"scratches": 1.0, "dust": -2.0, "cracks": 4.0}
    export_generator(det.net, network_config(4, logit_bias=bias), "damage-unet", tmp_path, iterations=1)
    shifted = registry.load("damage-unet", tmp_path)
    assert shifted.logit_bias == bias
    gray = np.random.default_rng(8).random((40, 40), dtype=np.float32)
    plain, calibrated = det(gray), shifted(gray)
    for kind, b in bias.items():
        logit = np.log(plain[kind] / (1 - plain[kind]))
        assert np.abs(calibrated[kind] - 1 / (1 + np.exp(-(logit - b)))).max() < 0.02, kind  # fp16 weights
    assert "one number for each" in str(config_problem({**network_config(4), "logit_bias": {"dust": 1.0}}))
    assert "from -20 to 20" in str(config_problem({**network_config(4), "logit_bias": {**bias, "dust": 99}}))


def test_the_detector_runs_through_openvino_when_it_is_installed_and_falls_back_to_torch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from restorer.models import runtime

    gray = np.random.default_rng(9).random((90, 70), dtype=np.float32)
    torch_only = LearnedDetector(_detector(11).net, runtime="torch")
    want = torch_only(gray)
    assert torch_only.runtime.converted == 0
    det = LearnedDetector(torch_only.net)
    got = det(gray)
    assert det.runtime.converted == (1 if runtime.available() else 0)
    for kind in want:
        assert np.abs(got[kind] - want[kind]).max() < 1e-4, kind
    monkeypatch.setenv("RESTORER_RUNTIME", "torch")
    assert not LearnedDetector(torch_only.net).runtime.active("cpu")
    monkeypatch.delenv("RESTORER_RUNTIME")
    broken = LearnedDetector(torch_only.net)

    def fail(*args: object) -> None:
        raise RuntimeError("no such plugin")

    monkeypatch.setattr(broken.runtime, "_get", fail)
    again = broken(gray)  # a failing runtime: the same maps, from PyTorch
    for kind in want:
        assert np.abs(again[kind] - want[kind]).max() < 1e-4, kind
    if runtime.available():
        assert broken.runtime.note and "no such plugin" in broken.runtime.note


def test_shared_detectors_are_built_once_per_weights(tmp_path: Path) -> None:
    from restorer.training.export import export_generator

    a, b = registry.shared("damage-unet"), registry.shared("damage-unet")
    assert a is b and a is not registry.load("damage-unet")
    export_generator(_detector(13).net, network_config(4), "damage-unet", tmp_path, iterations=1)
    other = registry.shared("damage-unet", tmp_path)
    assert other is not a and registry.shared("damage-unet", tmp_path) is other
    (tmp_path / "damage-unet.safetensors").write_bytes(b"changed")  # modified weights are refused, not reused
    with pytest.raises(ModelUnavailable):
        registry.shared("damage-unet", tmp_path)
