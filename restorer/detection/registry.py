"""The detector registry: every damage detector, classical or learned, with its licence, weights and state.

The same idea as restorer.models.registry (declared records, weights checked without torch, a
model card beside each safetensors file), kept apart because a detector is a different thing: it
maps a gray tile to per-kind probabilities, not a hole to a fill. Importing this never imports torch.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from restorer.detection.tiles import Detector
from restorer.errors import ModelUnavailable

# The weights checks are the models' own (sha256, safetensors header): one implementation of
# "is this file intact", torch-free.
from restorer.models.registry import (
    Availability,
    file_sha256,
    read_safetensors_header,
    weights_dir,
)


@dataclass(frozen=True)
class DetectorSpec:
    """One registry entry; ``factory`` is "module:function", called as ``function(spec, weights=Path | None)``."""

    name: str
    description: str
    factory: str
    licence: str
    kinds: tuple[str, ...] = ("scratches", "dust", "cracks")
    weights: str | None = None  # file name inside the weights folder; None = needs none

    @property
    def card_name(self) -> str | None:
        return None if self.weights is None else Path(self.weights).with_suffix(".json").name


_SPECS: dict[str, DetectorSpec] = {}
DEFAULT = "damage-unet"


def default_name(folder: Path | None = None) -> str:
    """The detector used when none is named: DEFAULT when it can run, else the classical one (needs nothing)."""
    spec = _SPECS.get(DEFAULT)
    return DEFAULT if spec is not None and check(spec, folder).ready else "classical"


def register(spec: DetectorSpec) -> DetectorSpec:
    if spec.name in _SPECS:
        raise ValueError(f"detector {spec.name!r} is registered twice")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _SPECS.pop(name, None)


def all_specs() -> list[DetectorSpec]:
    return list(_SPECS.values())


def get_spec(name: str) -> DetectorSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown detector {name!r}; known detectors: {', '.join(_SPECS)}") from None


def check(spec: DetectorSpec, folder: Path | None = None) -> Availability:
    """Whether ``spec`` can run, and if not, why (missing, corrupt or modified weights, no card)."""
    if spec.weights is None:
        return Availability(True)
    folder = weights_dir() if folder is None else folder
    path = folder / spec.weights
    if not path.is_file():
        return Availability(False, f"weights file {spec.weights} is not in {folder} (not trained yet?)")
    card_path = folder / str(spec.card_name)
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Availability(False, f"model card {card_path.name} is missing beside the weights")
    except (OSError, ValueError) as exc:
        return Availability(False, f"model card {card_path.name} is unreadable: {exc}")
    if not isinstance(card, dict):
        return Availability(False, f"model card {card_path.name} is not a JSON object")
    try:
        read_safetensors_header(path)
    except (OSError, ValueError) as exc:
        return Availability(False, f"weights file {spec.weights} is corrupt: {exc}")
    actual = file_sha256(path)
    if str(card.get("sha256", "")).lower() != actual:
        return Availability(False, f"weights file {spec.weights} does not match the sha256 in its card (modified?)")
    return Availability(True, sha256=actual)


def load(name: str = DEFAULT, folder: Path | None = None) -> Detector:
    """Build the detector ``name``; raises ModelUnavailable (with the reason) when it cannot run."""
    spec, _ = _ready(name, folder)
    return _build(spec, folder)


_SHARED: dict[tuple[str, str, str | None], Detector] = {}
_SHARED_LOCK = threading.Lock()


def shared(name: str = DEFAULT, folder: Path | None = None) -> Detector:
    """``load``, built once per process for the same weights (the app's and a batch's detections
    reuse it: no second fold, conversion or compile). The weights are checked every time; other
    weights (a new sha256) build a new one. Callers must not change the detector they get."""
    spec, state = _ready(name, folder)
    key = (name, str(folder), state.sha256)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = _build(spec, folder)
        return _SHARED[key]


def _ready(name: str, folder: Path | None) -> tuple[DetectorSpec, Availability]:
    spec = get_spec(name)
    state = check(spec, folder)
    if not state.ready:
        raise ModelUnavailable(f"detector {name!r} is unavailable: {state.reason}")
    return spec, state


def _build(spec: DetectorSpec, folder: Path | None) -> Detector:
    module_name, func_name = spec.factory.split(":")
    factory = getattr(importlib.import_module(module_name), func_name)
    weights = None if spec.weights is None else (weights_dir() if folder is None else folder) / spec.weights
    return factory(spec, weights=weights)


CLASSICAL = register(
    DetectorSpec(
        name="classical",
        description="morphology and oriented line filters: needs no weights; finds contrasty specks and "
                    "straight scratches, also flags thin real details (wires, rims, creases) for review",
        factory="restorer.detection.classical:build",
        licence="GPL-3.0-or-later (Restorer)",
    )
)

LEARNED = register(
    DetectorSpec(
        name="damage-unet",
        description="a compact U-Net (58 k parameters) trained on damage rendered onto photos made to look like old "
                    "prints, clean ones included: finds scratches, dust, hairs and cracks with far fewer false alarms "
                    "on texture and edges than the classical detector (F1 0.83 against 0.31 on the validation "
                    "table), each kind in its own map; misses about two fifths of the dust; 2-6x slower",
        factory="restorer.detection.learned:build",
        licence="weights: research and non-commercial use only (trained on research-only photo collections); "
                "code GPL-3.0-or-later",
        weights="damage-unet.safetensors",
    )
)

# The combined detector (restorer/detection/combined.py, factory "restorer.detection.combined:build",
# weights "damage-unet.safetensors") is not registered: with the per-kind damage-unet no classical map
# raises F1 on the calibration photos (benchmarks/results/combined_calibration.md), so it would only
# repeat damage-unet. Register it again when benchmarks/calibrate_combined.py routes a kind to classical.
