"""The model registry: every inpainting model, classical or learned, its weights and whether it can run.

Importing this module never imports torch: listing models and checking weights is cheap, and the
window opens fast. A learned model's factory imports torch when the model is loaded.

Every loaded model (an ``Inpainter``) has the same call, whatever it is::

    out = model(image, mask)
    # image: float32 ndarray N x 3 x H x W in [0, 1]
    # mask:  float32 ndarray N x 1 x H x W, 1.0 = hole (fill this), 0.0 = keep
    # out:   float32 ndarray N x 3 x H x W in [0, 1]; H and W are multiples of ``pad_multiple``

The engine (restorer.inference) pads, crops and composites; a model only fills.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from restorer.errors import ModelUnavailable
from restorer.models import cardcheck


class OutOfMemory(RuntimeError):
    """A model ran out of device memory (raised in place of the framework's own error)."""


class Inpainter(Protocol):
    """A loaded model, ready to fill holes (see the module docstring for the array contract)."""

    name: str
    device: str

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry.

    ``factory`` is "module:function"; the function is called as
    ``function(spec, device=..., weights=Path | None)`` and returns an ``Inpainter``.
    """

    name: str
    description: str
    factory: str
    licence: str
    weights: str | None = None  # file name inside the weights folder; None = needs none
    pad_multiple: int = 1  # input height and width must be multiples of this
    work_size: int | None = None  # the side (px) the model fills best at; None = any resolution
    neural: bool = False
    # What the model is: "classical" (OpenCV), "learned" (a network) or "synthesis" (copies the
    # photo's own patches at full resolution). Declared, so the engine never guesses from a name.
    kind: str = "classical"
    # Known context a hole needs around it: (pixels at least, fraction of the hole's width); None =
    # the engine's default for the kind.
    context: tuple[int, float] | None = None
    # A synthesis model guided by a learned one: the learned model fills at its work size first,
    # then the synthesis adds the photo's own detail at full resolution following that fill.
    guide_model: str | None = None
    best_for: str = ""  # one line for the model picker and Help: what this model is the right choice for
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def runs_network(self) -> bool:
        """Whether a fill runs a network (itself, or the learned model that guides it): device and threads matter."""
        return self.neural or self.guide_model is not None

    @property
    def card_name(self) -> str | None:
        return None if self.weights is None else Path(self.weights).with_suffix(".json").name


@dataclass(frozen=True)
class Availability:
    ready: bool
    reason: str = ""
    sha256: str | None = None


def weights_dir() -> Path:
    """Where shipped weights live: $RESTORER_WEIGHTS, the source tree's weights/, or the install's share/."""
    env = os.environ.get("RESTORER_WEIGHTS")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller bundle
    if frozen:
        return Path(frozen) / "weights"
    source_tree = Path(__file__).resolve().parents[2] / "weights"
    if source_tree.is_dir():
        return source_tree
    return Path(sys.prefix) / "share" / "restorer" / "weights"


_SPECS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _SPECS:
        raise ValueError(f"model {spec.name!r} is registered twice")
    _SPECS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove an entry (tests register fake models and clean up after themselves)."""
    _SPECS.pop(name, None)


def all_specs() -> list[ModelSpec]:
    _ensure_builtin()
    return list(_SPECS.values())


def get_spec(name: str) -> ModelSpec:
    _ensure_builtin()
    try:
        return _SPECS[name]
    except KeyError:
        known = ", ".join(_SPECS)
        raise ModelUnavailable(f"unknown model {name!r}; known models: {known}") from None


# Best first: what a fill uses when nobody picked a model (the app's first start, restorer-cli --model auto).
PREFERRED = ("guided-partialconv", "partialconv", "edgeconnect", "partialconv-compact", "edgeconnect-compact")
FALLBACK = "telea"


def default_model(folder: Path | None = None) -> str:
    """The best model that can run here: the first learned model in PREFERRED whose weights are
    installed and intact, else Telea (which needs none)."""
    _ensure_builtin()
    for name in PREFERRED:
        if name in _SPECS and check(_SPECS[name], folder).ready:
            return name
    return FALLBACK


def _ensure_builtin() -> None:
    # The catalogue registers itself on import; importing it here keeps the order explicit.
    importlib.import_module("restorer.models.catalog")


# --- weights checks (no torch) -------------------------------------------------------------------

_hash_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _hash_cache[key] = h.hexdigest()
    return _hash_cache[key]


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """Parse a safetensors header and check that the file holds every byte it declares.

    Raises ValueError with a short reason for a truncated or malformed file.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("file is too short to be safetensors")
        (n,) = struct.unpack("<Q", head)
        if n <= 0 or 8 + n > size:
            raise ValueError("header length is out of range (truncated or not safetensors)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ValueError("header is not valid JSON (corrupt file)") from None
    if not isinstance(header, dict):
        raise ValueError("header is not a mapping")
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (KeyError, TypeError, IndexError, ValueError):
            raise ValueError(f"tensor {key!r} has no valid offsets") from None
    if 8 + n + end != size:
        raise ValueError(f"file holds {size} bytes but its header declares {8 + n + end} (truncated?)")
    return header


def read_card(spec: ModelSpec, folder: Path | None = None) -> dict[str, Any]:
    folder = weights_dir() if folder is None else folder
    assert spec.card_name is not None
    return json.loads((folder / spec.card_name).read_text(encoding="utf-8"))


def check(spec: ModelSpec, folder: Path | None = None) -> Availability:
    """Whether ``spec`` can run, and if not, why (missing, truncated, tampered weights...)."""
    if spec.guide_model is not None:
        guide = check(get_spec(spec.guide_model), folder)
        if not guide.ready:
            return Availability(False, f"its guide {spec.guide_model}: {guide.reason}")
        return guide
    if spec.weights is None:
        return Availability(True)
    folder = weights_dir() if folder is None else folder
    path = folder / spec.weights
    if not path.is_file():
        return Availability(False, f"weights file {spec.weights} is not in {folder} (not trained yet?)")
    card_path = folder / spec.card_name  # type: ignore[operator]
    try:
        card = read_card(spec, folder)
    except FileNotFoundError:
        return Availability(False, f"model card {card_path.name} is missing beside the weights")
    except (OSError, ValueError) as exc:
        return Availability(False, f"model card {card_path.name} is unreadable: {exc}")
    if not isinstance(card, dict):
        return Availability(False, f"model card {card_path.name} is not a JSON object")
    if spec.neural:
        # A card that cannot build the network would only fail later, at load time.
        config, arch = card.get("config"), spec.config.get("arch")
        if not isinstance(config, dict) or (arch is not None and config.get("arch") != arch):
            return Availability(False, f"model card {card_path.name} has no '{arch}' architecture config")
    try:
        read_safetensors_header(path)
    except (OSError, ValueError) as exc:
        return Availability(False, f"weights file {spec.weights} is corrupt: {exc}")
    expected = str(card.get("sha256", "")).lower()
    actual = file_sha256(path)
    if expected != actual:
        return Availability(False, f"weights file {spec.weights} does not match the sha256 in its card (modified?)")
    problem = cardcheck.card_problem(card, path, spec.config.get("arch") if spec.neural else None)
    if problem:
        return Availability(False, f"model card {card_path.name} {problem}")
    return Availability(True, sha256=actual)


def load(name: str, device: str = "auto", folder: Path | None = None, half: bool = False) -> Inpainter:
    """Build the model ``name`` on ``device`` ('auto', 'cpu', 'cuda', 'mps'); raises ModelUnavailable.

    ``half`` asks a learned model for half precision; it takes it only on CUDA and where its card
    says it is safe. Classical models ignore it.
    """
    spec = get_spec(name)
    state = check(spec, folder)
    if not state.ready:
        raise ModelUnavailable(f"model {name!r} is unavailable: {state.reason}")
    module_name, func_name = spec.factory.split(":")
    factory = getattr(importlib.import_module(module_name), func_name)
    weights = None if spec.weights is None else (weights_dir() if folder is None else folder) / spec.weights
    extra = {"half": half} if spec.neural else {}
    return factory(spec, device=device, weights=weights, **extra)
