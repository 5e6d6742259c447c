"""Training checkpoints load without unpickling code, and a run can start from the shipped safetensors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restorer.models import registry
from restorer.training import commands


def _photos(folder: Path, n: int = 4, size: int = 140) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = cv2.GaussianBlur((rng.random((size, size, 3)) * 255).astype(np.uint8), (9, 9), 3)
        cv2.imwrite(str(folder / f"p{i}.png"), img)
    return folder


class _Hostile:
    """Unpickling this creates a file: what a hostile .pt would do with a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _hostile_checkpoint(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": {"model": "partialconv"}, "nets": {"generator": {}}, "step": 0,
                "payload": _Hostile(marker)}, path)
    return path


@pytest.mark.parametrize("command", ["resume", "export", "evaluate", "init"])
def test_a_hostile_checkpoint_is_refused_without_running_its_code(command: str, tmp_path: Path, capsys) -> None:
    marker = tmp_path / "pwned"
    ckpt = _hostile_checkpoint(tmp_path / "run" / "latest.pt", marker)
    data = _photos(tmp_path / "photos", n=2, size=40)
    argv = {
        "resume": ["train", "--run-dir", str(tmp_path / "run"), "--resume", "--quiet"],
        "export": ["export", str(ckpt), "--name", "x", "--out", str(tmp_path / "out")],
        "evaluate": ["evaluate", str(ckpt), "--photos", str(data), "--masks", str(tmp_path / "none"),
                     "--out", str(tmp_path / "eval"), "--no-grid"],
        "init": ["train", "--run-dir", str(tmp_path / "new"), "--data", str(data), "--mask-dir", "",
                 "--init", str(ckpt), "--quiet", "--steps", "1", "--depth", "3", "--crop", "32", "--width", "4"],
    }[command]
    code = commands.main(argv)
    err = capsys.readouterr().err
    assert code != 0 and not marker.exists()
    assert "Traceback" not in err


def test_checkpoints_load_weights_only_and_resume(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos", n=2, size=40)
    run = tmp_path / "run"
    base = ["train", "--run-dir", str(run), "--data", str(data), "--mask-dir", "", "--batch", "2", "--width", "4",
            "--depth", "3", "--crop", "32", "--workers", "0", "--threads", "1", "--quiet"]
    assert commands.main([*base, "--steps", "1"]) == 0
    ckpt = torch.load(run / "latest.pt", weights_only=True)  # raises if anything in it needs unpickling code
    assert ckpt["step"] == 1 and isinstance(ckpt["config"]["data"], str)
    assert commands.main(["train", "--run-dir", str(run), "--resume", "--steps", "2", "--quiet"]) == 0
    assert torch.load(run / "latest.pt", weights_only=True)["step"] == 2


def test_train_init_from_shipped_safetensors_and_its_card(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    weights = registry.weights_dir() / "partialconv-compact.safetensors"
    data = _photos(tmp_path / "photos", n=2, size=140)
    run = tmp_path / "finetune"
    assert commands.main(["train", "--run-dir", str(run), "--data", str(data), "--mask-dir", "", "--init", str(weights),
                          "--batch", "2", "--crop", "128", "--steps", "1", "--workers", "0", "--threads", "2",
                          "--perceptual", "none", "--quiet"]) == 0
    ckpt = torch.load(run / "latest.pt", weights_only=True)
    # The architecture came from the card (width 24, refine 5), not the parser's defaults (width 32, no head).
    assert ckpt["network_config"] == {"arch": "partialconv", "width": 24, "depth": 7, "refine": 5, "refine_width": 32}
    shipped = load_file(str(weights))
    trained = ckpt["nets"]["generator"]
    assert set(shipped) <= set(trained)
    # One step moved the weights a little from the shipped ones, not from a random start.
    key = next(k for k in shipped if k.endswith("weight") and shipped[k].ndim == 4)
    assert torch.allclose(trained[key].float(), shipped[key].float(), atol=0.05)
    assert ckpt["config"]["init_steps"] >= 10000  # the card's iterations count behind the fine-tune


def test_init_with_options_that_contradict_the_card_is_refused(tmp_path: Path, capsys) -> None:
    weights = registry.weights_dir() / "partialconv-compact.safetensors"
    data = _photos(tmp_path / "photos", n=2, size=40)
    code = commands.main(["train", "--run-dir", str(tmp_path / "r"), "--data", str(data), "--mask-dir", "",
                          "--init", str(weights), "--width", "48", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "--width 24" in err and len(err.strip().splitlines()) == 1
