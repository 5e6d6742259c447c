"""The ensemble model: the mean of its members' fills, ready only when every member is."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from restorer.models import registry
from restorer.models.ensemble import EnsembleInpainter

WEIGHTS = registry.weights_dir()


class _Const:
    device = "cpu"

    def __init__(self, value: float) -> None:
        self.name = f"const-{value}"
        self.value = value

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.full_like(image, self.value)


def test_ensemble_is_the_mean_of_its_members() -> None:
    image = np.zeros((2, 3, 8, 8), np.float32)
    out = EnsembleInpainter("e", [_Const(0.2), _Const(0.6), _Const(0.7)])(image, image[:, :1])
    assert out.shape == image.shape
    np.testing.assert_allclose(out, 0.5, atol=1e-6)


def test_shipped_ensemble_averages_the_compact_networks() -> None:
    spec = registry.get_spec("ensemble-compact")
    assert spec.members == ("partialconv-compact", "edgeconnect-compact")
    rng = np.random.default_rng(0)
    image = rng.random((1, 3, 128, 128), dtype=np.float32)
    mask = np.zeros((1, 1, 128, 128), np.float32)
    mask[..., 40:80, 30:100] = 1
    members = [registry.load(m, device="cpu") for m in spec.members]
    expected = (members[0](image, mask) + members[1](image, mask)) / 2
    np.testing.assert_allclose(registry.load("ensemble-compact", device="cpu")(image, mask), expected, atol=1e-5)


def test_ensemble_is_unavailable_when_a_member_is(tmp_path: Path) -> None:
    for f in WEIGHTS.glob("partialconv-compact.*"):
        shutil.copy(f, tmp_path / f.name)  # edgeconnect-compact is missing from this folder
    state = registry.check(registry.get_spec("ensemble-compact"), tmp_path)
    assert not state.ready
    assert "edgeconnect-compact" in state.reason
    with pytest.raises(registry.ModelUnavailable, match="edgeconnect-compact"):
        registry.load("ensemble-compact", device="cpu", folder=tmp_path)


def test_ensemble_digest_is_the_same_for_the_same_member_weights(tmp_path: Path) -> None:
    for f in WEIGHTS.glob("*-compact.*"):
        shutil.copy(f, tmp_path / f.name)
    before = registry.check(registry.get_spec("ensemble-compact"), tmp_path).sha256
    assert before == registry.check(registry.get_spec("ensemble-compact")).sha256
    assert before is not None and len(before) == 64


def test_ensemble_and_its_guided_fill_carry_the_members_terms() -> None:
    from restorer.models.terms import model_terms

    for name in ("ensemble-compact", "guided-ensemble"):
        terms = model_terms(registry.get_spec(name))
        assert terms.restricted, name  # the members' weights are research and non-commercial only
        assert "partialconv-compact.json" in terms.card and "edgeconnect-compact.json" in terms.card
        assert terms.data
