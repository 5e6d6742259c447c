"""The engine's types: EngineOptions, Job, Progress, Result (types only; nothing here imports back).

engine.py plans and runs jobs, runner.py executes them, batches.py schedules their crops: all three
import these, so none of them imports another for a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from restorer.core.box import BBox
from restorer.inference.regions import Region


@dataclass(frozen=True)
class EngineOptions:
    """How a fill runs. Everything has a sensible default; the CLI and the app set device and threads."""

    device: str = "auto"  # 'auto' | 'cpu' | 'cuda' | 'mps'
    threads: int | None = None  # CPU threads for torch and OpenCV (None = their default)
    half: bool = True  # half precision where it is safe (CUDA only)
    # bool H x W guide lines drawn by the user, full-resolution photo coordinates; they are added to
    # the predicted edges inside the hole ('add') or replace them there ('replace'). Used only by
    # models whose spec declares predicts_edges (EdgeConnect); others ignore them.
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
    # Learned networks on the CPU: 'auto' = OpenVINO when the `fast` extra is installed (models/runtime.py),
    # else PyTorch; 'torch' = always PyTorch (so does the RESTORER_RUNTIME=torch environment variable).
    runtime: str = "auto"


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
