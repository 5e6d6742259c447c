"""What each network architecture needs and can do, from a model card's config alone (no torch).

The catalogue declares its specs' capabilities from here, and the registry checks that the network
a card describes fits its spec, so no one has to build the network to know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Architecture:
    name: str
    predicts_edges: bool
    pad_multiple: Callable[[Mapping[str, Any]], int]  # the input side multiple a network built from a config needs


def partialconv_pad_multiple(config: Mapping[str, Any]) -> int:
    """A U-Net of ``depth`` halvings needs sides that halve ``depth`` times."""
    return 2 ** int(config.get("depth", 7))


EDGECONNECT_PAD_MULTIPLE = 4  # two stride-2 downsamplings in each generator

ARCHITECTURES: dict[str, Architecture] = {
    "partialconv": Architecture("partialconv", predicts_edges=False, pad_multiple=partialconv_pad_multiple),
    "edgeconnect": Architecture("edgeconnect", predicts_edges=True,
                                pad_multiple=lambda config: EDGECONNECT_PAD_MULTIPLE),
}
