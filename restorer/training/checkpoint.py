"""Training checkpoints: saved in plain types and loaded with ``torch.load(weights_only=True)``, so opening one never runs code."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from restorer.errors import RestorerError


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write atomically (temp file + rename), so a crash mid-write never leaves a broken checkpoint.

    Everything in it is a tensor, dict, list, tuple, str, int, float, bool or None, so it loads with
    ``torch.load(weights_only=True)``: opening a checkpoint never runs code from it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(plain(state), tmp)
    os.replace(tmp, path)


def plain(value: Any) -> Any:
    """``value`` in the types the weights-only unpickler accepts (Paths and numpy values become str/lists/tensors)."""
    if isinstance(value, torch.Tensor) or value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {k if isinstance(k, (str, int)) else str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value).astype(np.int64) if value.dtype.kind in "ui" else value)
    if isinstance(value, np.generic):
        return value.item()
    return str(value)  # Path and other config values a run writes as text anyway


UNSAFE_ENV = "RESTORER_TRUST_CHECKPOINT"


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a training checkpoint with ``weights_only=True``: a hostile .pt cannot run code.

    Checkpoints saved before they were kept plain (numpy RNG state inside) load only when
    $RESTORER_TRUST_CHECKPOINT=1 says the file is trusted; re-saving one makes it plain.
    """
    import pickle

    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise RestorerError(f"{path}: checkpoint does not exist") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        if os.environ.get(UNSAFE_ENV) != "1" or not isinstance(exc, pickle.UnpicklingError):
            hint = (f"; if it is an older Restorer checkpoint you trust, set {UNSAFE_ENV}=1"
                    if isinstance(exc, pickle.UnpicklingError) else "")
            raise RestorerError(f"{path}: not a plain Restorer checkpoint (holds objects that are not "
                                f"weights){hint}" if hint else f"{path}: cannot read checkpoint ({exc})") from None
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("nets"), dict) or "config" not in ckpt:
        raise RestorerError(f"{path}: is not a Restorer training checkpoint (no networks or config)")
    return ckpt


def rng_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": {"name": name, "keys": torch.from_numpy(np.asarray(keys).astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    if isinstance(np_state, dict):
        keys = np.asarray(np_state["keys"].numpy() if isinstance(np_state["keys"], torch.Tensor) else np_state["keys"])
        np_state = (np_state["name"], keys.astype(np.uint32), np_state["pos"], np_state["has_gauss"],
                    np_state["cached_gaussian"])
    np.random.set_state(np_state)
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
