"""Running detectors: the array contract (8/16-bit, gray/RGB), tiling, progress and cancel, the registry, masks."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from restorer.detection import detect_damage, parse_kinds, registry
from restorer.detection.classical import ClassicalDetector
from restorer.detection.damage import Damage
from restorer.detection.render import render_damage
from restorer.detection.tiles import detect, detect_blocking, tile_boxes
from restorer.errors import Cancelled, ImageError, ModelUnavailable, RestorerError


@pytest.fixture
def damaged(make_smooth_photo) -> np.ndarray:
    return render_damage(make_smooth_photo(2, 400, 560), 2).pixels


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_probability_is_float32_in_unit_range_of_the_photos_size(damaged: np.ndarray) -> None:
    damage = detect_damage(damaged, "classical")
    p = damage.probability()
    assert p.dtype == np.float32 and p.shape == damaged.shape[:2]
    assert 0.0 <= p.min() and p.max() <= 1.0 and p.max() > 0.5


def test_16_bit_and_rgb_find_what_8_bit_gray_finds(damaged: np.ndarray) -> None:
    base = detect_damage(damaged, "classical").mask()
    deep = detect_damage(damaged.astype(np.uint16) * 257, "classical").mask()
    rgb = detect_damage(np.repeat(damaged[..., None], 3, axis=2), "classical").mask()
    one_channel = detect_damage(damaged[..., None], "classical").mask()
    assert base.sum() > 100
    assert _iou(base, deep) >= 0.98
    assert _iou(base, rgb) >= 0.98
    assert np.array_equal(base, one_channel)


def test_tiles_agree_with_one_whole_photo_run(damaged: np.ndarray) -> None:
    whole = detect_blocking(damaged, ClassicalDetector(), tile=4096).mask()
    tiled = detect_blocking(damaged, ClassicalDetector(), tile=160).mask()
    assert len(tile_boxes(*damaged.shape, tile=160)) == 12
    # long lines crossing many small tiles are judged on their piece in each tile: nearly the same
    assert _iou(whole, tiled) >= 0.9


def test_tile_boxes_cover_the_photo_exactly_once() -> None:
    cover = np.zeros((1000, 2500), np.int32)
    for y0, x0, y1, x1 in tile_boxes(1000, 2500, 1024):
        cover[y0:y1, x0:x1] += 1
    assert (cover == 1).all()


def test_progress_per_tile_and_cancel_between_tiles(damaged: np.ndarray) -> None:
    seen = []
    detect_blocking(damaged, ClassicalDetector(), on_progress=seen.append, tile=200)
    assert [p.done for p in seen] == list(range(1, len(seen) + 1)) and seen[-1].total == len(seen) > 1
    cancel = threading.Event()
    gen = detect(damaged, ClassicalDetector(), cancel, tile=200)
    next(gen)
    cancel.set()
    with pytest.raises(Cancelled):
        next(gen)


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.float32), np.zeros((8, 8, 4), np.uint8), np.zeros((0, 5), np.uint8)])
def test_bad_arrays_are_refused_with_a_message(bad: np.ndarray) -> None:
    with pytest.raises(ImageError):
        detect_damage(bad)


def test_masks_grow_and_thresholds_are_checked() -> None:
    levels = np.zeros((20, 20), np.uint8)
    levels[10, 10] = 200
    damage = Damage({"dust": levels, "scratches": np.zeros_like(levels), "cracks": np.zeros_like(levels)})
    assert damage.mask(0.5).sum() == 1
    assert damage.mask(0.9).sum() == 0
    grown = damage.mask(0.5, grow=2)
    assert grown.sum() == 13 and grown[10, 8] and not grown[10, 7]
    assert damage.mask(0.5, ["scratches"]).sum() == 0
    with pytest.raises(RestorerError):
        damage.mask(1.5)
    with pytest.raises(RestorerError):
        damage.mask(0.5, ["mould"])
    assert parse_kinds("dust, cracks") == ["dust", "cracks"] and parse_kinds("all") is None
    with pytest.raises(RestorerError):
        parse_kinds("dust,mould")


def test_a_confirming_detector_proposes_only_regions_that_are_sure_somewhere() -> None:
    from restorer.detection.damage import confirm_level, proposals

    levels = np.zeros((30, 40), np.uint8)
    levels[2:6, 2:20] = 140  # a faint streak, 0.55 at most
    levels[10:14, 5:30] = 150
    levels[12, 17] = 240  # a streak sure at one pixel (0.94)
    levels[20:25, 30:35] = 250  # a sure speck
    assert confirm_level(0.5, 0.8) == round(0.9 * 255)
    n, labels = proposals(levels, 0.5)  # no confirming: every region at the threshold
    assert n == 4
    n, labels = proposals(levels, 0.5, 0.8)
    assert n == 3 and sorted(np.unique(labels)) == [0, 1, 2]  # labels stay 1..count
    assert not labels[2:6, 2:20].any()  # the faint streak is gone
    assert (labels[10:14, 5:30] > 0).all() and (labels[20:25, 30:35] > 0).all()  # the others whole
    damage = Damage({"dust": levels, "scratches": np.zeros_like(levels), "cracks": np.zeros_like(levels)}, confirm=0.8)
    assert damage.mask(0.5).sum() == 4 * 25 + 25
    assert damage.mask(0.5, grow=1)[1, 2] == 0  # grown from the proposals only
    assert Damage(damage.maps).mask(0.5).sum() == 4 * 18 + 4 * 25 + 25


def test_the_learned_detector_confirms_and_the_classical_one_does_not(damaged: np.ndarray) -> None:
    assert detect_damage(damaged, "classical").confirm == 0.0
    learned = registry.load("damage-unet")
    assert detect_blocking(damaged, learned).confirm == 0.8


def test_registry_lists_classical_ready_and_explains_what_cannot_run(tmp_path) -> None:
    names = [s.name for s in registry.all_specs()]
    assert "classical" in names and registry.check(registry.get_spec("classical")).ready
    with pytest.raises(ModelUnavailable, match="unknown detector"):
        registry.load("nope")
    spec = registry.register(registry.DetectorSpec(
        name="test-learned", description="", factory="restorer.detection.classical:build",
        licence="test", weights="test-learned.safetensors"))
    try:
        assert "not in" in registry.check(spec, tmp_path).reason
        (tmp_path / "test-learned.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
        assert "model card" in registry.check(spec, tmp_path).reason
        (tmp_path / "test-learned.json").write_text(json.dumps({"sha256": "0" * 64}))
        assert "corrupt" in registry.check(spec, tmp_path).reason
        header = b"{}      "
        (tmp_path / "test-learned.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
        assert "sha256" in registry.check(spec, tmp_path).reason
        with pytest.raises(ModelUnavailable, match="unavailable"):
            registry.load("test-learned", tmp_path)
    finally:
        registry.unregister("test-learned")
