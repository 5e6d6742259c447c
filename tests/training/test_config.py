"""TrainConfig: built from the command line in one place, frozen, and read back from checkpoints of any age."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restorer.training import commands
from restorer.training.config import DEFAULTS, TrainConfig


def _parser_defaults() -> dict:
    parser = argparse.ArgumentParser()
    commands.add_parsers(parser.add_subparsers(dest="command"))
    return vars(parser.parse_args(["train", "--run-dir", "r"]))


def test_the_options_defaults_are_the_configs_defaults() -> None:
    given = _parser_defaults()
    # Resolved per model by train_config, or taken from the shared data folder when it exists.
    resolved = {"stage", "beta1", "beta2", "data", "mask_dir", "val_photos", "val_masks", "run"}
    compared = [f.name for f in dataclasses.fields(TrainConfig) if f.name in given and f.name not in resolved]
    assert len(compared) > 30
    for name in compared:
        want = getattr(DEFAULTS, name)
        assert given[name] == (list(want) if isinstance(want, tuple) else want), name


def test_train_config_resolves_the_model_dependent_defaults() -> None:
    def config(*argv: str) -> TrainConfig:
        parser = argparse.ArgumentParser()
        commands.add_parsers(parser.add_subparsers(dest="command"))
        return commands.train_config(parser.parse_args(["train", "--run-dir", "r", "--data", "d", *argv]))

    pconv = config("--weight", "ssim=2")
    assert (pconv.stage, pconv.beta1, pconv.beta2, pconv.weights) == ("pconv", 0.9, 0.999, {"ssim": 2.0})
    assert set(pconv.explicit) == {"run", "data", "weight"}
    edge = config("--model", "edgeconnect", "--crop", "64")
    assert (edge.stage, edge.beta1, edge.beta2) == ("edge", 0.0, 0.9)
    detector = config("--model", "damage-unet", "--crop", "64")
    assert (detector.stage, detector.width, detector.perceptual, detector.mask_dir) == ("detect", 12, "none", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pconv.steps = 5  # type: ignore[misc]


def test_from_dict_ignores_unknown_keys_with_a_note_and_fills_missing_ones(caplog) -> None:
    cfg = TrainConfig(model="edgeconnect", stage="joint", init=("edge=a.pt",), weights={"hole": 6.0},
                      lineage={"/runs/a": 4}, init_steps=4, explicit=("model",))
    assert TrainConfig.from_dict(cfg.as_dict()) == cfg
    old = {k: v for k, v in cfg.as_dict().items() if k not in ("prefill", "lineage", "feature_widths")}
    old["init"] = ["edge=a.pt"]  # lists, as older runs saved them
    old["weight"] = []  # a key this version does not know
    with caplog.at_level(logging.INFO, logger="restorer.training.config"):
        back = TrainConfig.from_dict(old)
    assert "weight" in caplog.text
    assert back.prefill == "white" and back.lineage == {} and back.feature_widths == (16, 32, 64)
    assert back.init == ("edge=a.pt",) and back.stage == "joint"


def test_an_older_checkpoint_with_unknown_and_missing_keys_resumes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        cv2.imwrite(str(photos / f"p{i}.png"), (rng.random((48, 48, 3)) * 255).astype(np.uint8))
    run = tmp_path / "run"
    common = ["--run-dir", str(run), "--batch", "1", "--workers", "0", "--threads", "1", "--quiet"]
    assert commands.main(["train", *common, "--data", str(photos), "--mask-dir", "", "--depth", "3",
                          "--crop", "32", "--width", "4", "--steps", "1"]) == 0
    ckpt = torch.load(run / "latest.pt", weights_only=True)
    for key in ("lineage", "init_steps", "feature_seed", "feature_widths", "argv"):
        del ckpt["config"][key]
    ckpt["config"]["a_retired_option"] = 3
    torch.save(ckpt, run / "latest.pt")
    assert commands.main(["train", *common, "--resume", "--steps", "2"]) == 0
    resumed = torch.load(run / "latest.pt", weights_only=True)
    assert resumed["step"] == 2 and "a_retired_option" not in resumed["config"]
    assert resumed["config"]["depth"] == 3 and resumed["config"]["feature_seed"] == DEFAULTS.feature_seed
