"""The faster CPU runtime (restorer/models/runtime.py, the `fast` extra): the same fills as eager PyTorch
within 1/255 on the shipped weights, conversions cached, and PyTorch whenever it is missing, off or failing.

Without openvino installed these tests do not skip: they check the fallback (PyTorch, no note) and
warn that the comparison with OpenVINO was not made."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from restorer.inference import runner
from restorer.inference.engine import inpaint
from restorer.inference.job import EngineOptions
from restorer.models import runtime

SHIPPED = ["partialconv-compact", "edgeconnect-compact"]
TOL = 1.0 / 255.0


def _model(name: str):
    """The engine's own cached CPU instance, so the engine fills below reuse its conversions."""
    return runner.get_model(name, "cpu", False, None)


def _tile(n: int = 2, size: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([np.sin(6 * xx + c) * 0.3 + 0.5 + 0.2 * yy for c in range(3)]).astype(np.float32)
    img = np.clip(base[None] + rng.normal(0, 0.05, (n, 3, size, size)), 0, 1).astype(np.float32)
    mask = np.zeros((n, 1, size, size), np.float32)
    mask[:, :, size // 2 - 12 : size // 2 + 12, 20 : size - 20] = 1.0  # a scratch
    mask[1:, :, 30:90, 40:70] = 1.0  # and a blob on the second item
    return img, mask


def _eager(model, *args, method: str | None = None):
    model.set_runtime("torch")
    try:
        return (getattr(model, method) if method else model)(*args)
    finally:
        model.set_runtime("auto")


@pytest.mark.parametrize("name", SHIPPED)
def test_runtime_matches_eager_on_a_tile_or_falls_back(name):
    model = _model(name)
    img, mask = _tile()
    expected = _eager(model, img, mask)
    got = model(img, mask)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.abs(got - expected).max() <= TOL
    if not runtime.available():
        assert model.runtime.converted == 0 and model.runtime.note is None
        warnings.warn("openvino is not installed: checked the PyTorch fallback only", stacklevel=1)
        return
    assert model.runtime.note is None
    assert sys.modules.get("openvino_telemetry") is None  # OpenVINO's usage telemetry never loads
    assert model.runtime.converted == 2  # both stages (U-Net + head, or both generators) went through it
    # The hole actually differs from the input, so the comparison above is not of two copies of it.
    hole = np.broadcast_to(mask > 0.5, img.shape)
    assert np.abs(got - img)[hole].mean() > 0.01


def test_two_stage_and_edges_match_eager():
    pconv, edge = _model("partialconv-compact"), _model("edgeconnect-compact")
    img, mask = _tile(n=1, size=128, seed=1)
    coarse = pconv.coarse(img, mask)
    assert np.abs(coarse - _eager(pconv, img, mask, method="coarse")).max() <= TOL
    refined = pconv.refine(coarse, img, mask)
    assert np.abs(refined - _eager(pconv, coarse, img, mask, method="refine")).max() <= TOL
    edges = edge.predict_edges(img, mask)
    expected = _eager(edge, img, mask, method="predict_edges")
    assert np.mean((edges > 0.5) != (expected > 0.5)) < 1e-3


def test_dynamic_shapes_convert_once():
    model = _model("partialconv-compact")
    model(*_tile(n=1, size=256))
    before = model.runtime.converted
    for size in (128, 384):  # other tile sizes and batch sizes reuse the converted models
        img, mask = _tile(n=1, size=size)
        assert np.abs(model(img, mask) - _eager(model, img, mask)).max() <= TOL
    assert model.runtime.converted == before


def test_off_switches(monkeypatch):
    model = _model("edgeconnect-compact")
    assert not model.runtime.active("cuda")  # OpenVINO only ever runs CPU tensors
    monkeypatch.setenv("RESTORER_RUNTIME", "torch")
    assert not model.runtime.active("cpu")
    monkeypatch.delenv("RESTORER_RUNTIME")
    assert model.runtime.active("cpu") == runtime.available()
    model.set_runtime("torch")
    assert not model.runtime.active("cpu")
    model.set_runtime("auto")
    with pytest.raises(ValueError, match="unknown runtime"):
        model.set_runtime("tensorrt")


def test_missing_runtime_falls_back_silently(monkeypatch):
    monkeypatch.setattr(runtime, "available", lambda: False)
    fresh = runner.registry.load("partialconv-compact", device="cpu")
    img, mask = _tile(n=1, size=128)
    out = fresh(img, mask)
    assert fresh.runtime.converted == 0 and fresh.runtime.note is None
    assert np.abs(out - _eager(fresh, img, mask)).max() == 0.0


def _photo(size: int = 320) -> tuple[np.ndarray, np.ndarray]:
    img, _ = _tile(n=1, size=size, seed=3)
    photo = (img[0].transpose(1, 2, 0) * 255).round().astype(np.uint8)
    mask = np.zeros((size, size), bool)
    mask[150:170, 30:290] = True
    return photo, mask


@pytest.mark.parametrize("name", SHIPPED)
def test_engine_fill_matches_the_torch_fill(name):
    photo, mask = _photo()
    torch_fill, torch_result = inpaint(photo, mask, name, EngineOptions(device="cpu", runtime="torch"))
    fast_fill, result = inpaint(photo, mask, name, EngineOptions(device="cpu"))
    assert np.abs(fast_fill.astype(int) - torch_fill.astype(int)).max() <= 1  # 1/255
    assert np.abs(fast_fill.astype(int) - photo.astype(int))[mask].mean() > 1.0  # it did fill
    assert not any("runtime" in n for n in result.notes + torch_result.notes)
    assert _model(name).runtime.converted == (2 if runtime.available() else 0)


def test_engine_notes_a_failed_conversion_and_fills_with_torch(monkeypatch):
    runner.clear_models()  # a fresh instance, whose runtime has converted nothing yet
    try:
        monkeypatch.setattr(runtime, "available", lambda: True)
        monkeypatch.setenv("RESTORER_CACHE_DIR", "off")  # no converted model on disk to fall back on

        def broken(*_args):
            raise RuntimeError("conversion exploded\nsecond line")

        monkeypatch.setattr(runtime, "_convert", broken)
        photo, mask = _photo(256)
        torch_fill, _ = inpaint(photo, mask, "partialconv-compact", EngineOptions(device="cpu", runtime="torch"))
        filled, result = inpaint(photo, mask, "partialconv-compact", EngineOptions(device="cpu"))
        assert np.array_equal(filled, torch_fill)
        notes = [n for n in result.notes if "OpenVINO" in n]
        assert notes == [runtime.NOTE_FALLBACK.format(error="conversion exploded")]
    finally:
        runner.clear_models()


def _fresh(name: str = "partialconv-compact"):
    return runner.registry.load(name, device="cpu")  # its own Runtime: nothing converted in memory yet


@pytest.mark.skipif(not runtime.available(), reason="the disk cache holds OpenVINO models: needs the fast extra")
def test_a_converted_model_is_kept_on_disk_and_a_new_process_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_CACHE_DIR", str(tmp_path))
    img, mask = _tile(n=1, size=128)
    first = _fresh()
    expected = _eager(first, img, mask)
    first(img, mask)
    files = sorted(p.name for p in (tmp_path / "openvino").iterdir() if p.is_file())  # compiled/: OpenVINO's own
    assert len([f for f in files if f.endswith(".xml")]) == 2 and len(files) == 4  # U-Net and head, .xml + .bin
    assert not [f for f in files if f.startswith(".")]  # no temporary left

    def no_conversion(*_args):
        raise AssertionError("converted again although the cache holds the model")

    monkeypatch.setattr(runtime, "_convert", no_conversion)
    second = _fresh()
    got = second(img, mask)
    assert second.runtime.note is None and second.runtime.converted == 2
    assert np.abs(got - expected).max() <= TOL


@pytest.mark.skipif(not runtime.available(), reason="the disk cache holds OpenVINO models: needs the fast extra")
def test_a_damaged_or_stale_cache_entry_is_never_used(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_CACHE_DIR", str(tmp_path))
    img, mask = _tile(n=1, size=128)
    _fresh()(img, mask)
    for xml in (tmp_path / "openvino").glob("*.xml"):
        xml.write_text("<not a model")
    model = _fresh()
    got = model(img, mask)
    assert model.runtime.note is None  # converted again, not failed over to PyTorch
    assert np.abs(got - _eager(model, img, mask)).max() <= TOL
    # other weights are another entry: a changed network never reads the old one
    changed = _fresh()
    with runtime.torch.no_grad():
        next(changed.network.parameters()).add_(0.01)
    changed(img, mask)
    assert len(list((tmp_path / "openvino").glob("unet-*.xml"))) == 2


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_CACHE_DIR", "off")
    assert runtime.cache_dir() is None
    monkeypatch.setenv("RESTORER_CACHE_DIR", str(tmp_path / "c"))
    assert runtime.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("RESTORER_CACHE_DIR")
    assert runtime.cache_dir() is not None and runtime.cache_dir().name == "restorer"
