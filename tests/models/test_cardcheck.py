"""A tampered model card is 'unavailable, because ...', never 'ready' with a config that allocates gigabytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from restorer.models import registry
from restorer.models.cardcheck import config_problem

WEIGHTS = registry.weights_dir()
MODELS = {"partialconv-compact": "partialconv", "edgeconnect-compact": "edgeconnect"}


def _copy(tmp_path: Path, name: str) -> Path:
    for suffix in (".safetensors", ".json"):
        shutil.copy(WEIGHTS / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.json"


def _tamper(card_path: Path, **config) -> None:
    card = json.loads(card_path.read_text())
    card["config"].update(config)
    card_path.write_text(json.dumps(card))


@pytest.mark.parametrize("name", list(MODELS))
def test_shipped_cards_pass(name: str, tmp_path: Path) -> None:
    _copy(tmp_path, name)
    assert registry.check(registry.get_spec(name), tmp_path).ready


@pytest.mark.parametrize(
    ("name", "change", "words"),
    [
        ("partialconv-compact", {"width": 100000}, "width"),
        ("partialconv-compact", {"width": 2**40}, "width"),
        ("partialconv-compact", {"depth": 1000}, "depth"),
        ("partialconv-compact", {"width": "24"}, "width"),
        ("partialconv-compact", {"width": True}, "width"),
        ("partialconv-compact", {"refine": -1}, "refine"),
        ("partialconv-compact", {"evil": 1}, "evil"),
        ("edgeconnect-compact", {"blocks": 100000}, "blocks"),
        ("edgeconnect-compact", {"sigma": float("nan")}, "sigma"),
        ("edgeconnect-compact", {"prefill": "exec"}, "prefill"),
        ("edgeconnect-compact", {"arch": "partialconv"}, "architecture"),
    ],
)
def test_out_of_bounds_or_mistyped_config_is_unavailable(name: str, change: dict, words: str, tmp_path: Path) -> None:
    _tamper(_copy(tmp_path, name), **change)
    state = registry.check(registry.get_spec(name), tmp_path)
    assert not state.ready and words in state.reason and f"{name}.json" in state.reason


@pytest.mark.parametrize("name", list(MODELS))
def test_in_bounds_config_that_is_not_the_weights_own_is_unavailable(name: str, tmp_path: Path) -> None:
    # A plausible edit (the width of another variant) passes the bounds; the weights' stored config catches it.
    _tamper(_copy(tmp_path, name), width=32)
    state = registry.check(registry.get_spec(name), tmp_path)
    assert not state.ready and "differs" in state.reason


def test_tampered_card_makes_the_cli_refuse_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import numpy as np
    from PIL import Image

    from restorer.cli import main

    _tamper(_copy(tmp_path, "partialconv-compact"), depth=1000)
    monkeypatch.setenv("RESTORER_WEIGHTS", str(tmp_path))
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(np.full((16, 16), 255, np.uint8)).save(tmp_path / "m.png")
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["partialconv-compact"]["state"] == "unavailable"
    code = main(["inpaint", str(tmp_path / "p.png"), "-m", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.png"),
                 "--model", "partialconv-compact"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "depth" in err
    assert not (tmp_path / "o.png").exists()


def test_config_problem_names_the_missing_architecture() -> None:
    assert config_problem({"arch": "partialconv", "width": 24, "depth": 7}) is None
    assert "architecture" in (config_problem(None) or "")
    assert "architecture" in (config_problem({"arch": "lama"}) or "")
