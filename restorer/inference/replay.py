"""What a fill step records of how it ran, and replaying a project's fills from its original.

``fill_meta`` is the one place that says which facts of a fill go into its history step (and so
into the .restorer project): the model, its weights' sha256, the mask's sha256, the device, and
the engine options with the guide lines and sampling area cropped to where they are set. The app's
fill and ``restorer-cli inpaint --project`` both use it, so ``replay`` can run every fill again
exactly as it ran: with the same model and options the result is bit-identical.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from restorer.core import mask as masks
from restorer.core.box import BBox
from restorer.core.projectfile import ProjectData
from restorer.inference.engine import EngineOptions, Progress, inpaint

# The options a replay needs; arrays are kept as crops beside them, the weights folder is the host's.
_RECORDED = ("device", "threads", "half", "guide_mode", "pack", "batch_pixels", "work_size", "min_margin",
             "margin_ratio", "feather", "grain", "sample_mode")


def _crop(area: np.ndarray | None) -> tuple[BBox, np.ndarray] | None:
    """An array set only inside its bounding box, as (box, crop); None when nothing is set."""
    if area is None:
        return None
    area = np.asarray(area, dtype=bool)
    box = masks.bbox(area)
    return None if box is None else (box, area[box.slices].copy())


def _uncrop(crop: Any, shape: tuple[int, int]) -> np.ndarray | None:
    if crop is None:
        return None
    box, part = BBox(*crop[0]), crop[1]
    out = np.zeros(shape, dtype=bool)
    out[box.slices] = part
    return out


def fill_meta(model: str, options: EngineOptions, *, weights_sha256: str | None, device: str,
              mask_sha256: str, mask_pixels: int, time: str, notes: list[str] | None = None) -> dict[str, Any]:
    """The meta of a fill's history step (``Document.apply_fill(meta=...)``): enough to run it again."""
    return {
        "model": model, "weights_sha256": weights_sha256, "device": device, "mask_sha256": mask_sha256,
        "mask_pixels": int(mask_pixels), "time": time, "notes": list(notes or []),
        "options": {k: getattr(options, k) for k in _RECORDED},
        "guide": _crop(options.guide_edges), "sample_area": _crop(options.sample_area),
    }


def options_of(meta: dict[str, Any], shape: tuple[int, int], device: str | None = None) -> EngineOptions:
    """The EngineOptions a recorded fill ran with (``device`` overrides where learned models run)."""
    recorded = dict(meta.get("options") or {})
    known = {f.name for f in dataclasses.fields(EngineOptions)}
    kwargs = {k: v for k, v in recorded.items() if k in known and k in _RECORDED}
    if device is not None:
        kwargs["device"] = device
    return EngineOptions(**kwargs, guide_edges=_uncrop(meta.get("guide"), shape),
                         sample_area=_uncrop(meta.get("sample_area"), shape))


@dataclasses.dataclass
class ReplayedFill:
    """One fill as the render ran it: which step, with which model, on which device."""

    step: int
    label: str
    model: str
    recorded_model: str
    device: str
    mask: np.ndarray
    notes: list[str]


def replay(data: ProjectData, pixels: np.ndarray, *, model: str | None = None, device: str | None = None,
           cancel: threading.Event | None = None,
           on_progress: Callable[[int, Progress], None] | None = None) -> tuple[np.ndarray, list[ReplayedFill]]:
    """Run the project's applied fills again, in order, on ``pixels`` (its state 0, changed in place).

    ``model`` re-runs every fill with that model instead of the recorded one. Only fills change a
    photo's pixels (strokes and mask steps change the mask), so the result is the project's photo
    at its position. ``on_progress(step, progress)`` hears each model call.
    """
    hw = tuple(pixels.shape[:2])
    done: list[ReplayedFill] = []
    for k, edit in enumerate(data.steps[: data.position], start=1):
        crop = data.fill_masks[k - 1]
        if edit.kind != "fill" or crop is None:
            continue
        mask = _uncrop(crop, hw)
        assert mask is not None
        recorded = str(edit.meta.get("model") or "")
        name = model or recorded
        options = options_of(edit.meta, hw, device)
        report = None if on_progress is None else (lambda p, k=k: on_progress(k, p))
        pixels, result = inpaint(pixels, mask, name, options, cancel, report, inplace=True)
        done.append(ReplayedFill(k, edit.label, name, recorded, result.device, mask, list(result.notes)))
    return pixels, done
