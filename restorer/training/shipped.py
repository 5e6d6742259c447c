"""Starting a run from shipped weights (NAME.safetensors + its card NAME.json) instead of a training checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from restorer.errors import RestorerError
from restorer.models.cardcheck import config_problem
from restorer.checksums import file_sha256
from restorer.training.config import TrainConfig

# Training options that set a card's architecture values (card key -> run config key).
ARCH_KEYS = {"partialconv": ("width", "depth", "refine", "refine_width"),
             "edgeconnect": ("width", "blocks", "sigma", "prefill"),
             "damage-unet": ("width",)}
_DEFAULTS = {"refine": 0, "refine_width": 32, "prefill": "white"}


def is_weights(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".safetensors"


def read_card(path: Path) -> dict[str, Any]:
    """The card beside ``path``, checked: it exists, its config is in bounds, its sha256 is the file's."""
    card_path = path.with_suffix(".json")
    if not path.is_file():
        raise RestorerError(f"{path}: weights file does not exist")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RestorerError(f"{path}: its model card {card_path.name} is missing (it holds the architecture)") from None
    except (OSError, ValueError) as exc:
        raise RestorerError(f"{card_path}: model card is unreadable ({exc})") from None
    config = card.get("config") if isinstance(card, dict) else None
    if isinstance(config, dict) and config.get("arch") == "damage-unet":  # the detector checks its own card
        from restorer.detection.learned import config_problem as detector_problem

        problem = detector_problem(config)
    else:
        problem = config_problem(config)
    if problem:
        raise RestorerError(f"{card_path}: model card {problem}")
    if str(card.get("sha256", "")).lower() != file_sha256(path):
        raise RestorerError(f"{path}: does not match the sha256 in {card_path.name} (modified?)")
    return card


def adopt_card(cfg: TrainConfig) -> TrainConfig:
    """A run config whose model and architecture are those of the whole-generator --init weights, if any.

    Options the command line set itself must agree with the card; the rest take the card's values.
    """
    whole = [spec for spec in cfg.init if "=" not in spec and is_weights(spec)]
    if not whole:
        return cfg
    card = read_card(Path(whole[-1]))["config"]
    arch = card["arch"]
    given = set(cfg.explicit)
    wanted = {"model": arch, **{k: card.get(k, _DEFAULTS.get(k)) for k in ARCH_KEYS[arch] if k in card or k in _DEFAULTS}}
    clash = [k for k, v in wanted.items() if k in given and getattr(cfg, k) != v]
    if clash:
        flags = ", ".join(f"--{k.replace('_', '-')} {wanted[k]}" for k in clash)
        raise RestorerError(f"{whole[-1]}: was trained with {flags}; leave those options out or match them")
    return cfg.replace(**wanted)


def load_state(path: Path) -> tuple[dict[str, torch.Tensor], int]:
    """The generator state (float32) and the iterations behind it, from shipped weights and their card."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    card = read_card(path)
    try:
        state = load_file(str(path), device="cpu")
    except (OSError, SafetensorError, ValueError) as exc:
        raise RestorerError(f"{path}: cannot read weights ({exc})") from None
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    iterations = card.get("iterations")
    return state, int(iterations) if isinstance(iterations, int) and iterations >= 0 else 0
