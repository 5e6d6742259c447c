"""The engine's public face: options, jobs, progress and results; plan/run/apply/inpaint/predict_edges.

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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from restorer.core.mask import BBox
from restorer.core.steps import drain
from restorer.errors import ImageError, MaskError
from restorer.inference.regions import Region, plan_regions
from restorer.models import registry


@dataclass(frozen=True)
class EngineOptions:
    """How a fill runs. Everything has a sensible default; the CLI and the app set device and threads."""

    device: str = "auto"  # 'auto' | 'cpu' | 'cuda' | 'mps'
    threads: int | None = None  # CPU threads for torch and OpenCV (None = their default)
    half: bool = True  # half precision where it is safe (CUDA only)
    # bool H x W guide lines drawn by the user, full-resolution photo coordinates; they are added to
    # the predicted edges inside the hole ('add') or replace them there ('replace'). Used only by
    # models with predict_edges (EdgeConnect); others ignore them.
    guide_edges: np.ndarray | None = field(default=None, compare=False, repr=False)
    guide_mode: str = "add"
    pack: bool = True  # small crops share model calls (False: one call per crop, for comparison)
    batch_pixels: int = 1 << 22  # most pixels (N x H x W) one model call may hold (on the CPU: 1 << 20)
    work_size: int | None = None  # override the model's work size (None = the registry's)
    # Context around each hole: at least min_margin px, or margin_ratio x the hole's width. None = the
    # model's need: learned models 32 px / 0.5; classical ones look only `radius` px beyond the hole.
    min_margin: int | None = None
    margin_ratio: float | None = None
    feather: bool = True  # fade the fill into the hole's rim to hide seams
    feather_px: int | None = None  # how far into the hole it fades; None = chosen from the fill's scale
    # Add grain matching the known ring to fills smoother than it (diffusion and learned fills;
    # synthesis copies the photo's own grain and ignores this).
    grain: bool = False
    # Where synthesis may copy patches from: bool H x W, photo coordinates; "allow" = only there,
    # "deny" = never there. None = anywhere around the hole. Other models ignore it.
    sample_area: np.ndarray | None = field(default=None, compare=False, repr=False)
    sample_mode: str = "allow"
    weights_folder: Path | None = None  # None = registry.weights_dir()


@dataclass(frozen=True, eq=False)
class Job:
    """Everything one fill needs, frozen: safe to hand to a worker thread while the document changes."""

    id: int
    revision: int
    model: str
    options: EngineOptions  # guide_edges stripped: each region owns its own crop of them
    shape: tuple[int, ...]
    dtype: np.dtype
    regions: tuple[Region, ...]

    @property
    def nbytes(self) -> int:
        return sum(r.pixels.nbytes + r.mask.nbytes + (0 if r.guide is None else r.guide.nbytes) for r in self.regions)


@dataclass
class Progress:
    done: int
    total: int
    message: str


@dataclass
class Result:
    job_id: int
    revision: int
    patches: list[tuple[BBox, np.ndarray]]  # new photo pixels per box (photo dtype), boxes disjoint
    device: str
    notes: list[str] = field(default_factory=list)
    # per region: (crop box, float32 crop-sized edge map in {0, 1}) that guided the fill
    edges: list[tuple[BBox, np.ndarray]] = field(default_factory=list)


def _check_inputs(pixels: np.ndarray, mask: np.ndarray) -> None:
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ImageError(f"photo pixels are {pixels.dtype}; the engine takes 8-bit or 16-bit photos")
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (1, 3)):
        raise ImageError(f"photo has shape {pixels.shape}; expected H x W x 1 or H x W x 3")
    if mask.shape != pixels.shape[:2]:
        raise MaskError(f"mask is {mask.shape[1]} x {mask.shape[0]} but the photo is "
                        f"{pixels.shape[1]} x {pixels.shape[0]}")


def _context(spec: registry.ModelSpec) -> tuple[int, float]:
    """How much known context a model needs around a hole: (pixels at least, fraction of the hole's width)."""
    if spec.context is not None:
        return spec.context
    if spec.neural:
        return 32, 0.5
    # Telea and Navier-Stokes read only known pixels within `radius` of the hole: a wider crop gives
    # the same fill (bit for bit) and only costs time.
    return int(spec.config.get("radius", 5)) + 2, 0.0


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
    if spec.guide_model is not None:  # crops are planned for the network that runs on them
        spec = registry.get_spec(spec.guide_model)
    guide = options.guide_edges
    if guide is not None:
        if guide.shape != mask.shape:
            raise MaskError(f"guide edges are {guide.shape[1]} x {guide.shape[0]} but the photo is "
                            f"{mask.shape[1]} x {mask.shape[0]}")
        guide = np.asarray(guide, dtype=bool)
    work_size = options.work_size or spec.work_size
    margin, ratio = _context(spec)
    regions = plan_regions(
        pixels, mask, work_size=work_size, pad_multiple=max(1, spec.pad_multiple),
        min_margin=margin if options.min_margin is None else options.min_margin,
        margin_ratio=ratio if options.margin_ratio is None else options.margin_ratio,
        guide=guide, pack=options.pack, grow=spec.neural, sources=sources, reach_sources=reach,
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

    Models without ``predict_edges`` (everything but EdgeConnect) give an empty list. Guide edges in
    ``options`` are merged in as they would be for the fill, so the app can show exactly what will guide it.
    """
    from restorer.inference.runner import execute

    job = plan(pixels, mask, model, options)
    return _drain(execute(job, cancel, fill=False), on_progress).edges


def clear_cache() -> None:
    """Forget loaded models (frees their memory; the next fill loads again)."""
    from restorer.inference.runner import clear_models

    clear_models()
