"""Model-card checks: every architecture value typed and bounded, and the card's config bound to its weights.

A card is plain JSON beside the weights, so anyone can edit it. A width of 100000 or a depth of 1000
would pass a name check and then allocate gigabytes (or fail deep inside torch) at fill time; these
checks run when the registry decides whether a model is ready, without torch.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

# (type, low, high) for numbers, or a tuple of allowed strings. Bounds are generous (the reference
# networks are width 64, depth 7 or 8, 8 blocks) yet keep a network within a few hundred MB.
_INT, _FLOAT = "int", "float"
SCHEMAS: dict[str, dict[str, tuple[Any, ...]]] = {
    "partialconv": {
        "width": (_INT, 1, 256),
        "depth": (_INT, 2, 9),
        "refine": (_INT, 0, 16),
        "refine_width": (_INT, 1, 256),
    },
    "edgeconnect": {
        "width": (_INT, 1, 256),
        "blocks": (_INT, 1, 32),
        "sigma": (_FLOAT, 0.1, 10.0),
        "prefill": ("white", "pushpull"),
    },
}
HALF_KINDS = ("fp16", "bf16", False, None)


def config_problem(config: Any, arch: str | None = None) -> str | None:
    """Why ``config`` (a card's "config") cannot build a network, or None when every value is in bounds."""
    if not isinstance(config, dict):
        return "has no architecture config"
    name = config.get("arch")
    if name not in SCHEMAS or (arch is not None and name != arch):
        return f"has no '{arch or 'known'}' architecture config"
    schema = SCHEMAS[name]
    for key, value in config.items():
        if key == "arch":
            continue
        if key not in schema:
            return f"has an unknown config value {key!r}"
        rule = schema[key]
        if rule[0] in (_INT, _FLOAT):
            kind, low, high = rule
            numeric = isinstance(value, int) or (kind == _FLOAT and isinstance(value, float))
            if isinstance(value, bool) or not numeric or not math.isfinite(value) or not low <= value <= high:
                want = "a whole number" if kind == _INT else "a number"
                return f"has {key} = {value!r}; it must be {want} from {low} to {high}"
        elif value not in rule:
            return f"has {key} = {value!r}; it must be one of {', '.join(map(repr, rule))}"
    return None


def card_problem(card: dict[str, Any], weights: Path, arch: str | None = None) -> str | None:
    """Why a card does not describe ``weights`` (whose sha256 the caller has checked), or None.

    The exporter writes the config into the safetensors metadata too, where the weights' sha256
    covers it; a card whose config differs from that copy was edited after export.
    """
    problem = config_problem(card.get("config"), arch)
    if problem:
        return problem
    inference = card.get("inference", {})
    if not isinstance(inference, dict) or inference.get("half") not in HALF_KINDS:
        return "has an unknown inference setting"
    try:
        stored = _weights_config(weights)
    except (OSError, ValueError, struct.error):
        return "cannot be compared with its weights (unreadable header)"
    if stored is not None and stored != card["config"]:
        return "config differs from the one stored in its weights (edited after export?)"
    return None


def _weights_config(path: Path) -> dict[str, Any] | None:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    text = meta.get("config") if isinstance(meta, dict) else None
    if text is None:
        return None  # weights exported before the config was stored beside them
    config = json.loads(text)
    if not isinstance(config, dict):
        raise ValueError("config in the weights is not a mapping")
    return config
