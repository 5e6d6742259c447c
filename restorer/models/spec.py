"""What a model is and what it can do, declared: ModelSpec, its availability, and the Inpainter call.

Types only (no torch, no registry state): the catalogue, the registry, the engine and the app all
import these, and nothing here imports back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

# "classical" (OpenCV), "learned" (a network: device, threads and half precision matter) or
# "synthesis" (copies the photo's own patches at full resolution).
ModelKind = Literal["classical", "learned", "synthesis"]


class Inpainter(Protocol):
    """A loaded model, ready to fill holes (the array contract is in restorer.models.registry)."""

    name: str
    device: str

    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray: ...


class EdgeInpainter(Inpainter, Protocol):
    """A model that predicts the hole's edges first and fills along an edge map it may be given."""

    def predict_edges(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray: ...

    def __call__(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry: how to build the model and what it can do.

    ``factory`` is "module:function"; the function is called as
    ``function(spec, device=..., weights=Path | None)`` (learned models also get ``card=`` and
    ``half=``) and returns an ``Inpainter``. The engine reads the declared capabilities below and
    never guesses them from a name or from the loaded object.
    """

    name: str
    description: str
    factory: str
    licence: str
    weights: str | None = None  # file name inside the weights folder; None = needs none
    kind: ModelKind = "classical"
    # Whether the model predicts the hole's edges (an EdgeInpainter): the app shows and lets the
    # user correct them; the engine merges guide lines into them.
    predicts_edges: bool = False
    # Known context a hole needs around it: (pixels at least, fraction of the hole's width).
    context: tuple[int, float] = (32, 0.5)
    # Input height and width must be multiples of this; the engine pads every crop to it (the
    # registry checks that the network the card describes fits it).
    pad_multiple: int = 1
    work_size: int | None = None  # the side (px) the model fills best at; None = any resolution
    # A synthesis model guided by a learned one: the learned model fills at its work size first,
    # then the synthesis adds the photo's own detail at full resolution following that fill.
    guide_model: str | None = None
    # An ensemble: the learned models whose fills are averaged (models/ensemble.py); it is ready
    # when every member is, and has no weights of its own.
    members: tuple[str, ...] = ()
    best_for: str = ""  # one line for the model picker and Help: what this model is the right choice for
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def learned(self) -> bool:
        """Whether the model itself is a network (runs on a device, may use half precision)."""
        return self.kind == "learned"

    @property
    def runs_network(self) -> bool:
        """Whether a fill runs a network (itself, or the learned model that guides it): device and threads matter."""
        return self.learned or self.guide_model is not None

    @property
    def card_name(self) -> str | None:
        return None if self.weights is None else Path(self.weights).with_suffix(".json").name


@dataclass(frozen=True)
class Availability:
    """Whether a model can run here; ``card`` is its parsed model card once checked (reused by load)."""

    ready: bool
    reason: str = ""
    sha256: str | None = None
    card: dict[str, Any] | None = field(default=None, compare=False, repr=False)
