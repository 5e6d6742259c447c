"""What each model may be used for: its licence, training data and terms, read from its weights' card (no torch).

The app's About box, the model picker's tooltip and the README quote these, so the terms a user
sees are the ones in the card that ships beside the weights, never a copy that can drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from restorer.models import registry

# The phrase every card trained on research-only data carries; shown wherever a model is picked.
NON_COMMERCIAL = "research and non-commercial use only"


@dataclass(frozen=True)
class Terms:
    """``licence``: the code's or card's licence line; ``data``: what the weights were trained on
    ("" = no training data); ``restricted``: the weights are for research and non-commercial use only;
    ``card``: the card file these came from, or a reason it could not be read (``unread``)."""

    licence: str
    data: str = ""
    restricted: bool = False
    card: str = ""
    unread: bool = False

    def short(self) -> str:
        """One line for a tooltip."""
        if self.restricted:
            return f"Weights: {NON_COMMERCIAL} (see Help > About)"
        return f"Licence: {self.licence}"


def card_terms(card_name: str, fallback: str, folder: Path | None = None) -> Terms:
    """The terms in the card ``card_name`` inside the weights folder; ``fallback`` when it is unreadable."""
    path = (registry.weights_dir() if folder is None else folder) / card_name
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Terms(fallback, card=f"{card_name} is not installed", unread=True)
    except (OSError, ValueError) as exc:
        return Terms(fallback, card=f"{card_name} is unreadable: {exc}", unread=True)
    if not isinstance(card, dict):
        return Terms(fallback, card=f"{card_name} is not a JSON object", unread=True)
    licence = str(card.get("licence") or card.get("license") or fallback)
    return Terms(licence, str(card.get("data", "")), NON_COMMERCIAL in licence.lower(), card_name)


def model_terms(spec: registry.ModelSpec, folder: Path | None = None) -> Terms:
    """A model's terms: its card's when it has weights; a guided model carries its guide's, an ensemble its members'."""
    if spec.guide_model is not None:
        guide = model_terms(registry.get_spec(spec.guide_model), folder)
        return Terms(f"{spec.licence}. Guide {spec.guide_model}: {guide.licence}", guide.data, guide.restricted,
                     guide.card, guide.unread)
    if spec.members:  # an ensemble: its members' weights, so their terms
        parts = [model_terms(registry.get_spec(m), folder) for m in spec.members]
        return Terms("; ".join(f"{m}: {t.licence}" for m, t in zip(spec.members, parts)),
                     "; ".join(dict.fromkeys(t.data for t in parts if t.data)), any(t.restricted for t in parts),
                     ", ".join(t.card for t in parts if t.card), any(t.unread for t in parts))
    if spec.card_name is None:
        return Terms(spec.licence)
    return card_terms(spec.card_name, spec.licence, folder)
