"""Training the learned damage detector through the training pipeline: samples, steps, exact resume, export."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restorer.detection import registry
from restorer.errors import EXIT_ERROR  # a refused option is a RestorerError: exit 1, as in restorer-cli
from restorer.training import commands
from restorer.training.data import DamageDataset


def _photos(folder: Path, n: int = 4) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = cv2.GaussianBlur((rng.random((80, 96, 3)) * 255).astype(np.uint8), (0, 0), 4)
        cv2.rectangle(img, (10, 10), (40 + i, 50), (200, 90, 30), -1)
        cv2.imwrite(str(folder / f"p{i}.jpg"), img)
    return folder


def _train(tmp: Path, run: str, *extra: str) -> Path:
    args = ["train", "--model", "damage-unet", "--run-dir", str(tmp / run), "--data", str(tmp / "photos"),
            "--crop", "32", "--batch", "2", "--width", "4", "--workers", "0", "--threads", "1", "--quiet", *extra]
    assert commands.main(args) == 0
    return tmp / run / "latest.pt"


def test_samples_are_keyed_hold_damage_truth_and_clean_crops(tmp_path: Path) -> None:
    data = DamageDataset(_photos(tmp_path / "photos"), 64, seed=3)
    a, b = data[(5, 1, 2)], data[(5, 1, 2)]
    assert torch.equal(a["gray"], b["gray"]) and torch.equal(a["damage"], b["damage"])
    assert a["gray"].shape == (1, 64, 64) and a["damage"].shape == (3, 64, 64)
    assert 0 <= float(a["gray"].min()) and float(a["gray"].max()) <= 1
    any_damage = [float(data[(s, 0, s % 4)]["damage"].amax(0).mean()) for s in range(24)]
    assert sum(x == 0 for x in any_damage) >= 2  # some crops stay clean (negatives)
    assert sum(x > 0 for x in any_damage) >= 12
    assert max(any_damage) < 0.5  # damage is thin: most of a damaged crop is still photo


def test_train_resume_exactly_and_checkpoints_load_weights_only(tmp_path: Path) -> None:
    _photos(tmp_path / "photos")
    straight = torch.load(_train(tmp_path, "a", "--steps", "3", "--ckpt-every", "0"), weights_only=True)
    _train(tmp_path, "b", "--steps", "2", "--ckpt-every", "0")
    assert commands.main(["train", "--run-dir", str(tmp_path / "b"), "--resume", "--steps", "3", "--quiet"]) == 0
    resumed = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)
    assert resumed["step"] == straight["step"] == 3
    assert resumed["network_config"] == {"arch": "damage-unet", "width": 4, "kinds": ["scratches", "dust", "cracks"]}
    assert resumed["config"]["perceptual"] == "none" and resumed["config"]["beta1"] == 0.9
    for k, v in straight["nets"]["generator"].items():
        assert torch.equal(v, resumed["nets"]["generator"][k]), k


def test_export_gives_registry_ready_weights_with_a_card(tmp_path: Path, capsys) -> None:
    _photos(tmp_path / "photos")
    ckpt = _train(tmp_path, "a", "--steps", "1")
    out = tmp_path / "weights"
    assert commands.main(["export", str(ckpt), "--name", "damage-unet", "--out", str(out)]) == 0
    card = json.loads((out / "damage-unet.json").read_text())
    assert card["config"]["arch"] == "damage-unet" and card["iterations"] == 1
    assert "research" in card["licence"] and "render.py" in card["data"] and len(card["sha256"]) == 64
    assert registry.check(registry.get_spec("damage-unet"), out).ready
    detector = registry.load("damage-unet", out)
    probs = detector(np.full((40, 44), 0.5, np.float32))
    assert set(probs) == {"scratches", "dust", "cracks"} and probs["dust"].shape == (40, 44)


def test_fine_tune_starts_from_exported_weights_and_counts_their_steps(tmp_path: Path) -> None:
    """--init NAME.safetensors (an export with its card, a logit bias included) starts a detector run:
    the first step's weights are the export's, the card's width is taken, its steps are counted."""
    _photos(tmp_path / "photos")
    out = tmp_path / "weights"
    ckpt = _train(tmp_path, "a", "--steps", "2", "--ckpt-every", "0")
    assert commands.main(["export", str(ckpt), "--name", "damage-unet", "--out", str(out),
                          "--logit-bias", "scratches=1,dust=2,cracks=0"]) == 0
    args = ["train", "--model", "damage-unet", "--run-dir", str(tmp_path / "b"), "--data", str(tmp_path / "photos"),
            "--crop", "32", "--batch", "2", "--workers", "0", "--threads", "1", "--quiet", "--lr", "0",
            "--steps", "1", "--init", str(out / "damage-unet.safetensors")]
    assert commands.main(args) == 0
    tuned = torch.load(tmp_path / "b" / "latest.pt", weights_only=True)
    assert tuned["network_config"]["width"] == 4 and tuned["config"]["init_steps"] == 2
    start = torch.load(ckpt, weights_only=True)["nets"]["generator"]
    assert start.keys() == tuned["nets"]["generator"].keys()
    weights = [k for k, v in start.items() if k.endswith("weight") and v.ndim == 4]
    for k in weights:  # lr 0: still the exported weights (fp16 rounding)
        assert torch.allclose(tuned["nets"]["generator"][k], start[k], atol=1e-3), k
    assert commands.main(["export", str(tmp_path / "b" / "latest.pt"), "--name", "damage-unet",
                          "--out", str(tmp_path / "w2")]) == 0
    assert json.loads((tmp_path / "w2" / "damage-unet.json").read_text())["iterations"] == 3


@pytest.mark.parametrize(("extra", "message"), [(["--val-every", "5"], "evaluate-detection"),
                                                (["--refine", "2"], "inpainting models, not --model damage-unet")])
def test_inpainting_options_are_refused_for_the_detector(extra, message, tmp_path: Path, capsys) -> None:
    _photos(tmp_path / "photos")
    args = ["train", "--model", "damage-unet", "--run-dir", str(tmp_path / "r"), "--data", str(tmp_path / "photos"),
            "--steps", "1", "--quiet", *extra]
    assert commands.main(args) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_export_logit_bias_goes_into_the_card_and_only_for_a_detector(tmp_path: Path, capsys) -> None:
    _photos(tmp_path / "photos")
    ckpt = _train(tmp_path, "a", "--steps", "1")
    out = tmp_path / "w"
    assert commands.main(["export", str(ckpt), "--name", "damage-unet", "--out", str(out), "--logit-bias", "3.5"]) == 0
    card = json.loads((out / "damage-unet.json").read_text())
    assert card["config"]["logit_bias"] == 3.5 and "sweep" in card["training"]["calibration"]
    assert registry.load("damage-unet", out).logit_bias == 3.5
    per_kind = ["export", str(ckpt), "--name", "damage-unet", "--out", str(tmp_path / "k"),
                "--logit-bias", "scratches=2.5,dust=8.4,cracks=-1.4"]
    assert commands.main(per_kind) == 0
    card = json.loads((tmp_path / "k" / "damage-unet.json").read_text())
    assert card["config"]["logit_bias"] == {"scratches": 2.5, "dust": 8.4, "cracks": -1.4}
    assert "dust 8.4" in card["training"]["calibration"]
    assert registry.load("damage-unet", tmp_path / "k").logit_bias == {"scratches": 2.5, "dust": 8.4, "cracks": -1.4}
    capsys.readouterr()
    assert commands.main([*per_kind[:-1], "scratches=1,stains=2", "--out", str(tmp_path / "bad")]) == EXIT_ERROR
    assert "one number for each" in capsys.readouterr().err and not (tmp_path / "bad" / "damage-unet.json").exists()
    pconv = ["train", "--model", "partialconv", "--run-dir", str(tmp_path / "p"), "--data", str(tmp_path / "photos"),
             "--mask-dir", "", "--crop", "32", "--depth", "5", "--width", "8", "--batch", "2", "--steps", "1",
             "--workers", "0", "--threads", "1", "--quiet"]
    assert commands.main(pconv) == 0
    capsys.readouterr()
    assert commands.main(["export", str(tmp_path / "p" / "latest.pt"), "--name", "x", "--out", str(out),
                          "--logit-bias", "1"]) == EXIT_ERROR
    assert "calibrates a detector" in capsys.readouterr().err


def test_the_dice_term_trains_each_kinds_own_map() -> None:
    """Per-kind Dice: damage of one kind pulls that kind's map up and pushes another kind's map down there.

    (The earlier Dice of the kinds' maximum sent its whole gradient to the highest map, whatever the
    kind: the first shipped weights put everything in the cracks map.)"""
    from restorer.detection.damage import KINDS
    from restorer.training.losses import kind_dice

    dust, cracks = KINDS.index("dust"), KINDS.index("cracks")
    target = torch.zeros(2, len(KINDS), 8, 8)
    target[:, dust, 2:5, 2:5] = 1
    prob = torch.full((2, len(KINDS), 8, 8), 0.2)
    prob[:, cracks] = 0.9  # the cracks map is the highest everywhere, as the old weights had it
    prob.requires_grad_(True)
    loss = kind_dice(prob, target)
    loss.backward()
    assert prob.grad is not None
    on_dust = target[:, dust] > 0
    assert (prob.grad[:, dust][on_dust] < 0).all()  # raise dust where the dust is
    assert (prob.grad[:, cracks][on_dust] > 0).all()  # lower cracks there
    perfect = kind_dice(target.clone(), target)
    assert float(perfect) < loss.item()
    # an exact map of every kind present scores near 0 (the +1 smoothing keeps it just above)
    assert float(kind_dice(target[:, dust:dust + 1], target[:, dust:dust + 1])) < 0.01
