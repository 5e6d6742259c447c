"""The engine's public face: plan/run/apply/inpaint/predict_edges (its types are job.py's, re-exported).

One code path for the CLI, the batch tool and the app. ``plan`` snapshots what a fill needs (copies
of the crops only) into a frozen ``Job``; ``run`` is a generator that yields ``Progress`` after
every model call, stops between calls when cancelled, and returns a ``Result`` of patches.
Which crops to run is regions.py's business; the model calls (batching, tiling, devices, out-of-memory
fallback) are runner.py's; turning outputs back into photo pixels is paste.py's.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Generator

import numpy as np

from restorer.core.box import BBox
from restorer.core.steps import drain
from restorer.errors import ImageError, MaskError
from restorer.inference.job import EngineOptions, Job, Progress, Result
from restorer.inference.regions import plan_regions
from restorer.models import registry

# The job's types live in job.py (runner.py and batches.py use them without importing the engine);
# callers keep naming them through the engine.
__all__ = ["EngineOptions", "Job", "Progress", "Result", "apply", "clear_cache", "inpaint", "plan", "predict_edges",
           "run", "run_blocking"]


def _check_inputs(pixels: np.ndarray, mask: np.ndarray) -> None:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"photo pixels are {pixels.dtype}; the engine takes 8-bit or 16-bit photos")
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3)):
        raise ImageError(f"photo has shape {pixels.shape}; expected H x W x 1 or H x W x 3")
    if mask.shape != pixels.shape[:2]:
        raise MaskError(f"mask is {mask.shape[1]} x {mask.shape[0]} but the photo is "
                        f"{pixels.shape[1]} x {pixels.shape[0]}")


def _sources(options: EngineOptions, mask: np.ndarray) -> np.ndarray | None:
    """Where synthesis may copy from (bool photo-sized), or None for anywhere; refuses an empty area."""
    area = options.sample_area
    if area is None:
        return None
    if options.sample_mode not in ("allow", "deny"):
        raise ValueError(f"sample_mode must be 'allow' or 'deny', not {options.sample_mode!r}")
    if area.shape != mask.shape:
        raise MaskError(f"the sampling area is {area.shape[1]} x {area.shape[0]} but the photo is "
                        f"{mask.shape[1]} x {mask.shape[0]}")
    area = np.asarray(area, dtype=bool)
    sources = area if options.sample_mode == "allow" else ~area
    if not (sources & ~mask).any():
        raise MaskError("the sampling area leaves nothing to copy from: it is empty or lies inside the mask")
    return sources


def plan(pixels: np.ndarray, mask: np.ndarray, model: str, options: EngineOptions = EngineOptions(), *,
         job_id: int = 0, revision: int = 0) -> Job:
    """Snapshot a fill: find and group the holes and copy only the crops they need (cheap; no model loaded)."""
    _check_inputs(pixels, mask)
    if options.guide_mode not in ("add", "replace"):
        raise ValueError(f"guide_mode must be 'add' or 'replace', not {options.guide_mode!r}")
    spec = registry.get_spec(model)
    mask = np.asarray(mask, dtype=bool)
    sources = _sources(options, mask) if spec.kind == "synthesis" else None
    # a plain synthesis crop grows to reach a sampling area; a guided one keeps the network's crop
    reach = sources is not None and options.sample_mode == "allow" and spec.guide_model is None
    thin = None
    if spec.guide_model is not None:  # crops are planned for the network that runs on them
        if spec.config.get("thin_guide"):  # its thin parts follow a classical fill: no network there
            thin = float(spec.config.get("unguided_below", 0.0)) or None
        spec = registry.get_spec(spec.guide_model)
    guide = options.guide_edges
    if guide is not None:
        if guide.shape != mask.shape:
            raise MaskError(f"guide edges are {guide.shape[1]} x {guide.shape[0]} but the photo is "
                            f"{mask.shape[1]} x {mask.shape[0]}")
        guide = np.asarray(guide, dtype=bool)
    work_size = options.work_size or spec.work_size
    margin, ratio = spec.context
    regions = plan_regions(
        pixels, mask, work_size=work_size, pad_multiple=max(1, spec.pad_multiple),
        min_margin=margin if options.min_margin is None else options.min_margin,
        margin_ratio=ratio if options.margin_ratio is None else options.margin_ratio,
        guide=guide, pack=options.pack, grow=spec.learned, sources=sources, reach_sources=reach, thin=thin,
    )
    options = dataclasses.replace(options, guide_edges=None, sample_area=None)
    return Job(id=job_id, revision=revision, model=model, options=options,
               shape=tuple(pixels.shape), dtype=pixels.dtype, regions=tuple(regions))


def run(job: Job, cancel: threading.Event | None = None) -> Generator[Progress, None, Result]:
    """Fill the job's holes; yields Progress after each model call; raises Cancelled between calls."""
    from restorer.inference.runner import execute

    return (yield from execute(job, cancel, fill=True))


def apply(pixels: np.ndarray, result: Result, *, inplace: bool = False) -> np.ndarray:
    """A filled copy of the full photo (the original stays untouched), or ``pixels`` itself filled when
    ``inplace`` (saves a photo-sized copy: 600 MB for a 100-megapixel 16-bit scan)."""
    out = pixels if inplace else pixels.copy()
    for box, patch in result.patches:
        out[box.slices] = patch
    return out


def run_blocking(job: Job, cancel: threading.Event | None = None,
                 on_progress: Callable[[Progress], None] | None = None) -> Result:
    """``run`` to the end in the calling thread, reporting progress to ``on_progress``."""
    return _drain(run(job, cancel), on_progress)


def _drain(gen: Generator[Progress, None, Result], on_progress: Callable[[Progress], None] | None) -> Result:
    return drain(gen, on_progress)


def inpaint(pixels: np.ndarray, mask: np.ndarray, model: str = "telea", options: EngineOptions = EngineOptions(),
            cancel: threading.Event | None = None,
            on_progress: Callable[[Progress], None] | None = None, *,
            inplace: bool = False) -> tuple[np.ndarray, Result]:
    """Plan, run and apply in one call (the CLI's entry point): returns the filled photo and the result.

    ``inplace``: fill ``pixels`` itself instead of a copy (for callers that no longer need the original).
    """
    result = run_blocking(plan(pixels, mask, model, options), cancel, on_progress)
    return apply(pixels, result, inplace=inplace), result


def predict_edges(pixels: np.ndarray, mask: np.ndarray, model: str, options: EngineOptions = EngineOptions(),
                  cancel: threading.Event | None = None,
                  on_progress: Callable[[Progress], None] | None = None) -> list[tuple[BBox, np.ndarray]]:
    """The edge map an edge-guided model would fill with, per region (crop box, float32 {0,1} crop-sized).

    Models whose spec does not declare ``predicts_edges`` (everything but EdgeConnect) give an empty list. Guide edges in
    ``options`` are merged in as they would be for the fill, so the app can show exactly what will guide it.
    """
    from restorer.inference.runner import execute

    job = plan(pixels, mask, model, options)
    return _drain(execute(job, cancel, fill=False), on_progress).edges


def clear_cache() -> None:
    """Forget loaded models (frees their memory; the next fill loads again)."""
    from restorer.inference.runner import clear_models

    clear_models()
