"""The combined detector: each kind from its routed source, thresholds remapped onto 0.5, and its registry entry."""

from __future__ import annotations

import numpy as np
import pytest

from restorer.detection import registry
from restorer.detection.combined import ROUTES, CombinedDetector, remap
from restorer.detection.render import DamageCounts, render_damage
from restorer.detection.tiles import detect_blocking


class Constant:
    """A stand-in detector: every kind's map is a fixed value, different per kind, so the source is visible."""

    def __init__(self, name: str, values: dict[str, float], margin: int = 8, align: int = 1) -> None:
        self.name, self.values, self.margin, self.align = name, values, margin, align
        self.kinds = tuple(values)
        self.calls = 0

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        self.calls += 1
        return {k: np.full(gray.shape, v, np.float32) for k, v in self.values.items()}


def test_remap_takes_the_threshold_to_one_half_and_keeps_order() -> None:
    p = np.linspace(0, 1, 101, dtype=np.float32)
    for t in (0.05, 0.3, 0.9, 0.99):
        out = remap(p, t)
        assert out[0] == 0 and abs(out[-1] - 1) < 1e-6
        assert np.all(np.diff(out) >= 0)
        assert abs(float(remap(np.float32([t]), t)[0]) - 0.5) < 1e-6
        # at 0.5 the remapped map flags exactly what the source flags at its own threshold
        assert np.array_equal(out >= 0.5, p >= t)


def test_each_kind_comes_from_its_routed_source_only() -> None:
    a = Constant("a", {"scratches": 0.2, "dust": 0.9, "cracks": 0.1}, margin=8)
    b = Constant("b", {"scratches": 0.7, "dust": 0.3, "cracks": 0.6}, margin=20, align=4)
    det = CombinedDetector({"a": a, "b": b}, {"scratches": (("b", 0.5),), "dust": (("a", 0.9),),
                                              "cracks": (("a", 0.2), ("b", 0.6))})
    out = det(np.zeros((16, 12), np.float32))
    assert det.sources("scratches") == ("b",) and det.sources("dust") == ("a",)
    assert det.margin == 20 and det.align == 4
    assert np.allclose(out["scratches"], remap(np.float32(0.7), 0.5))  # b's, not a's 0.2
    assert np.allclose(out["dust"], 0.5)  # a's 0.9 at its threshold 0.9
    # cracks: the higher of a's 0.1 (below its 0.2: 0.25) and b's 0.6 at its own threshold (0.5)
    assert np.allclose(out["cracks"], 0.5)
    assert a.calls == b.calls == 1


def test_a_kind_without_a_route_is_empty_and_unused_detectors_never_run() -> None:
    a = Constant("a", {"scratches": 0.9, "dust": 0.9, "cracks": 0.9})
    unused = Constant("unused", {"scratches": 1.0, "dust": 1.0, "cracks": 1.0})
    det = CombinedDetector({"a": a, "unused": unused}, {"dust": (("a", 0.5),)})
    out = det(np.zeros((8, 8), np.float32))
    assert out["scratches"].max() == 0 and out["cracks"].max() == 0 and out["dust"].min() > 0.5
    assert unused.calls == 0


def test_routes_naming_a_missing_detector_or_kind_are_refused() -> None:
    a = Constant("a", {"dust": 0.5})
    with pytest.raises(ValueError, match="not given"):
        CombinedDetector({"a": a}, {"dust": (("b", 0.5),)})
    with pytest.raises(ValueError, match="unknown kinds"):
        CombinedDetector({"a": a}, {"stains": (("a", 0.5),)})


def test_the_shipped_routes_only_name_registered_detectors() -> None:
    names = {s.name for s in registry.all_specs()}
    for kind, chosen in ROUTES.items():
        for source, threshold in chosen:
            assert source in names and 0 < threshold < 1, (kind, source)


SPEC = registry.DetectorSpec(name="combined-test", description="test", factory="restorer.detection.combined:build",
                             licence="test", weights=registry.LEARNED.weights)


def test_it_registers_with_the_learned_weights_state(tmp_path) -> None:
    registry.register(SPEC)
    try:
        state = registry.check(registry.get_spec("combined-test"), tmp_path)  # an empty folder: no U-Net weights
        assert not state.ready and "damage-unet.safetensors" in str(state.reason)
        assert registry.check(SPEC).ready == registry.check(registry.LEARNED).ready
    finally:
        registry.unregister("combined-test")
    assert "combined-test" not in {s.name for s in registry.all_specs()}


def test_the_first_unet_routes_take_dust_from_both_and_the_rest_from_the_unet(make_smooth_photo) -> None:
    """With the shipped U-Net and the classical detector: each kind's map is its routed sources' only."""
    from restorer.detection import combined

    det = combined.build(SPEC, registry.weights_dir() / "damage-unet.safetensors", combined.FIRST_UNET_ROUTES)
    assert det.sources("dust") == ("classical", "damage-unet") and det.sources("cracks") == ("damage-unet",)
    photo = make_smooth_photo(3)
    damaged = render_damage(photo, 3, DamageCounts(scratches=3, dust=40, hairs=0, cracks=0))
    gray = damaged.pixels.astype(np.float32) / 255
    parts = {name: part(gray) for name, part in det.parts.items()}
    out = det(gray)
    assert np.allclose(out["scratches"], remap(parts["damage-unet"]["scratches"], 0.5))
    expect = np.maximum(remap(parts["classical"]["dust"], 0.99), remap(parts["damage-unet"]["dust"], 0.5))
    assert np.allclose(out["dust"], expect)
    assert np.allclose(out["cracks"], remap(parts["damage-unet"]["cracks"], 0.4))
    found = detect_blocking(damaged.pixels, det).mask(0.5)
    truth = damaged.any
    assert (found & truth).sum() >= 0.3 * truth.sum()  # recall on smooth tones
    assert (found & ~truth).sum() <= 2 * truth.sum()
