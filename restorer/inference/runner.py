"""Runs a planned job: cached models per device, batched and tiled model calls, out-of-memory fallback, patches."""

from __future__ import annotations

import math
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from restorer.errors import Cancelled, OutOfMemory, RestorerError
from restorer.inference.batches import Canvas, batch_arrays, schedule, work_inputs
from restorer.inference.job import Job, Progress, Result
from restorer.inference.paste import make_patch
from restorer.inference.regions import Region
from restorer.inference.tiles import round_up, tile_boxes
from restorer.models import device as devices
from restorer.models import registry

# Below this side a tile is not split further after running out of memory; the CPU takes over.
MIN_TILE = 64
# On the CPU one model call holds at most this many pixels: four 256 px tiles. Larger batches gain
# nothing on a CPU but their activations: a long scratch peaked at 1026 MiB RSS with 1 << 20 and
# 672 MiB with this (Telea: 561 MiB, same photo; benchmarks/bench_scratch.py), in the same time.
CPU_BATCH_PIXELS = 1 << 18
NOTE_SMALLER = "GPU ran out of memory; retried with smaller crops"
NOTE_CPU = "GPU ran out of memory; finished on the CPU"

_MODELS: dict[tuple[str, str, bool, str], registry.Inpainter] = {}
_MODELS_LOCK = threading.Lock()


def clear_models() -> None:
    with _MODELS_LOCK:
        _MODELS.clear()


def get_model(name: str, device: str, half: bool, folder: Path | None) -> registry.Inpainter:
    """Load once per (name, device, precision, folder): loading is slow, filling again should not be."""
    key = (name, device, half, str(folder))
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = registry.load(name, device=device, folder=folder, half=half)
        return _MODELS[key]


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, OutOfMemory) or type(exc).__name__ == "OutOfMemoryError"


class _Session:
    """One job's run: the model on its current device, notes, and the model-call machinery."""

    def __init__(self, job: Job, fill: bool) -> None:
        self.job = job
        self.fill = fill
        self.spec = registry.get_spec(job.model)
        synthesis = self.spec.kind == "synthesis"
        # The network (or classical fill) that runs on the crops; None for plain synthesis.
        self.net: str | None = self.spec.guide_model if synthesis else job.model
        net_spec = registry.get_spec(self.net) if self.net is not None else self.spec
        self.pad = max(1, net_spec.pad_multiple)
        self.learned = net_spec.learned
        self.notes: list[str] = []
        opts = job.options
        self.device = devices.resolve_device(opts.device) if self.learned else "cpu"
        self.model: registry.Inpainter | None = None
        self.synth: registry.Inpainter | None = None
        self.synthesis = synthesis and fill
        self.settings = None
        if synthesis:  # the synthesis and its numba kernels load only for models that use them
            from restorer.synthesis.model import settings_from

            self.settings = settings_from(self.spec.config)
        # Declared, not guessed from the loaded object: the spec of the network that runs on the crops.
        self.edge_model = self.net is not None and net_spec.predicts_edges
        self.two_stage = False  # the model's head runs once per region (TorchInpainter.coarse/refine)

    def _keys(self) -> list[tuple[str, str, bool, str]]:
        half = self.job.options.half and self.device == "cuda"
        folder = str(self.job.options.weights_folder)
        keys = [] if self.net is None else [(self.net, self.device, half, folder)]
        return keys + ([(self.job.model, "cpu", False, folder)] if self.synthesis else [])

    @property
    def loaded(self) -> bool:
        """Whether every model this job needs is loaded already (then there is no "Loading" to say)."""
        with _MODELS_LOCK:
            return all(key in _MODELS for key in self._keys())

    def load(self) -> None:
        half = self.job.options.half and self.device == "cuda"
        folder = self.job.options.weights_folder
        if self.net is not None:
            self.model = get_model(self.net, self.device, half, folder)
            self._set_runtime()
            self.two_stage = bool(getattr(self.model, "two_stage", False)) and self.fill
        if self.synthesis:
            self.synth = get_model(self.job.model, "cpu", False, folder)

    def direct(self, region: Region) -> bool:
        """Whether a region skips the network: plain synthesis, or a hole too thin to need a guide."""
        if not self.synthesis:
            return False
        assert self.settings is not None  # a synthesis model always has its settings
        from restorer.inference.texture import needs_guide

        return self.net is None or not needs_guide(region, self.settings)

    def _set_runtime(self) -> None:
        setter = getattr(self.model, "set_runtime", None)
        if setter is not None:
            setter(self.job.options.runtime)

    def runtime_note(self) -> None:
        """The faster runtime's fallback note, if it failed on this model (it then stays on PyTorch)."""
        note = getattr(getattr(self.model, "runtime", None), "note", None)
        if isinstance(note, str) and self.device == "cpu" and self.job.options.runtime != "torch":
            self._note(note)

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _to_cpu(self) -> None:
        self._note(NOTE_CPU)
        self.device = "cpu"
        self.model = get_model(self.net or self.job.model, "cpu", False, self.job.options.weights_folder)
        self._set_runtime()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover - torch is a dependency, but the CPU path needs none of it
            pass

    # --- model calls ------------------------------------------------------------------------------

    def _call(self, img: np.ndarray, msk: np.ndarray, guide: np.ndarray | None):
        """One forward pass: (filled N x 3 x H x W or None, edges N x 1 x H x W or None)."""
        assert self.model is not None
        edges = None
        if self.edge_model:
            edges = (np.asarray(cast(registry.EdgeInpainter, self.model).predict_edges(img, msk)) > 0.5
                     ).astype(np.float32)
            if guide is not None:
                hole = msk > 0.5
                if self.job.options.guide_mode == "replace":
                    edges = np.where(hole, guide, edges).astype(np.float32)
                else:
                    edges = np.maximum(edges, guide * hole)
        if not self.fill:
            return None, edges
        if self.two_stage:
            return np.asarray(cast(Any, self.model).coarse(img, msk), dtype=np.float32), edges
        out = cast(registry.EdgeInpainter, self.model)(img, msk, edges=edges) if edges is not None else \
            self.model(img, msk)
        return np.asarray(out, dtype=np.float32), edges

    def infer(self, img: np.ndarray, msk: np.ndarray, guide: np.ndarray | None):
        """A forward pass that survives running out of memory: split the batch, then the crop, then use the CPU."""
        try:
            return self._call(img, msk, guide)
        except Exception as exc:  # noqa: BLE001 - only out-of-memory errors are handled; others re-raise
            if not _is_oom(exc):
                raise
        n = img.shape[0]
        if n > 1:
            h = n // 2
            a = self.infer(img[:h], msk[:h], None if guide is None else guide[:h])
            b = self.infer(img[h:], msk[h:], None if guide is None else guide[h:])
            return tuple(None if x is None else np.concatenate([x, y]) for x, y in zip(a, b))
        side = max(img.shape[2:])
        tile = max(MIN_TILE, round_up(side // 2, self.pad))
        if self.device != "cpu" and tile < side:
            self._note(NOTE_SMALLER)
            return self._tiled(img, msk, guide, tile)
        if self.device != "cpu":
            self._to_cpu()
            return self.infer(img, msk, guide)
        raise RestorerError("ran out of memory on the CPU while filling; try a smaller mask or fewer threads")

    def _tiled(self, img: np.ndarray, msk: np.ndarray, guide: np.ndarray | None, tile: int):
        """Fill one padded crop (N = 1) as overlapping tiles of ``tile`` pixels, blended linearly."""
        shape = img.shape[2:]
        overlap = tile // 4
        boxes = tile_boxes(shape, tile, overlap, fit=1.0)
        canvas = Canvas(shape, boxes, self.edge_model)
        for box in boxes:
            rows, cols = box.slices
            out, edges = self.infer(img[:, :, rows, cols], msk[:, :, rows, cols],
                                    None if guide is None else guide[:, :, rows, cols])
            canvas.add(box, overlap, None if out is None else out[0], None if edges is None else edges[0, 0])
        out, edges = canvas.result(img[0])
        return (None if out is None else out[None],
                None if edges is None else (edges > 0.5).astype(np.float32)[None, None])


def _feather_radius(scale: float, learned: bool) -> int:
    if not learned and scale >= 1.0:
        return 0  # classical fills grow out of the rim's own pixels: there is no seam to hide
    # An upscaled fill is soft over about 1/scale pixels: fade over a little more than that.
    return int(min(48, max(3, math.ceil(2.0 / scale))))


def execute(job: Job, cancel: threading.Event | None, *, fill: bool) -> Generator[Progress, None, Result]:
    """Run ``job``: fill its holes (or only predict edges when ``fill`` is False)."""
    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("the fill was cancelled; the photo is unchanged")

    check()
    session = _Session(job, fill)
    budget = job.options.batch_pixels
    if session.device == "cpu":  # batching gains little on a CPU; short calls keep progress and cancel prompt
        budget = min(budget, CPU_BATCH_PIXELS)
    direct = [i for i, r in enumerate(job.regions) if session.direct(r)]
    batches = schedule(job, session.pad, budget, set(direct))
    synth_steps = len(job.regions) if session.synthesis else 0
    total = len(batches) + synth_steps
    result = Result(job_id=job.id, revision=job.revision, patches=[], device=session.device)
    if not total or (not fill and not batches):
        return result
    yield Progress(0, total, ("Filling" if fill else "Predicting edges") if session.loaded else f"Loading {job.model}")
    check()
    session.load()
    devices.set_cpu_threads(job.options.threads, torch_too=session.learned)  # after the load: numba is imported
    if not fill and not session.edge_model:
        return result
    with_guide = session.edge_model and any(r.guide is not None for r in job.regions)
    done = 0

    def synthesise_region(i: int, guide: np.ndarray | None) -> Generator[Progress, None, None]:
        nonlocal done
        region = job.regions[i]
        from restorer.inference.texture import synthesise

        gen = synthesise(region, session.synth, guide, session.settings.thin_guide if session.settings else None)
        while True:
            check()
            try:
                step, steps = next(gen)
            except StopIteration as stop:
                out = stop.value
                break
            yield Progress(done, total, f"Texture for hole {done - len(batches) + 1} of {synth_steps}: "
                                        f"pass {step} of {steps}")
        done += 1
        result.patches.append((region.patch, make_patch(region, out, 0)))

    remaining = [len(r.tiles) for r in job.regions]
    inputs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    canvases: dict[int, Canvas] = {}
    for batch in batches:
        check()
        for unit in batch:
            if unit.region not in inputs:
                inputs[unit.region] = work_inputs(job.regions[unit.region], with_guide)
        out, edges = session.infer(*batch_arrays(batch, inputs, with_guide))
        guided: list[tuple[int, np.ndarray]] = []
        for unit in batch:
            region = job.regions[unit.region]
            k, (y, x) = unit.item, unit.at
            rows, cols = slice(y, y + unit.tile.height), slice(x, x + unit.tile.width)
            if unit.region not in canvases:
                canvases[unit.region] = Canvas(region.work_shape, region.tiles, edges is not None)
            canvases[unit.region].add(unit.tile, region.overlap,
                                      None if out is None else out[k, :, rows, cols],
                                      None if edges is None else edges[k, 0, rows, cols])
            remaining[unit.region] -= 1
            if remaining[unit.region] == 0:
                work = _finish(region, canvases.pop(unit.region), inputs.pop(unit.region), fill, job, result,
                               session)
                if work is not None:
                    guided.append((unit.region, work))
        del out, edges  # the batch's arrays go before the next one is built
        done += 1
        yield Progress(done, total, f"Filled {done} of {len(batches)} crops" if fill else
                       f"Edges {done} of {len(batches)}")
        for i, work in guided:
            yield from synthesise_region(i, work)
    for i in direct:
        yield from synthesise_region(i, None)
    check()  # a job cancelled during its last call returns nothing either
    result.device = session.device
    session.runtime_note()
    result.notes.extend(session.notes)
    return result


def _finish(region: Region, canvas: Canvas, inputs: tuple[np.ndarray, np.ndarray, np.ndarray | None], fill: bool,
            job: Job, result: Result, session: _Session) -> np.ndarray | None:
    """Turn a region's blended work-resolution output into its full-resolution patch and edge map.

    With a synthesis stage the work-resolution fill is returned instead, to guide it.
    """
    work_img, work_mask = inputs[0], inputs[1]
    out, edges = canvas.result(work_img)
    if session.two_stage and out is not None and work_mask.any():
        # The head sees the blended first stage: one pass per region, on strips around the hole.
        assert session.model is not None
        # In place: only the hole's pixels of the output are used from here on.
        out = cast(Any, session.model).refine(out[None], work_img[None], work_mask[None, None], out=out[None])[0]
    ch, cw = region.crop.height, region.crop.width
    if edges is not None:
        if edges.shape != (ch, cw):
            edges = cv2.resize(edges, (cw, ch), interpolation=cv2.INTER_LINEAR)
        result.edges.append((region.crop, (edges > 0.5).astype(np.float32)))
    if not fill or out is None:
        return None
    if session.synthesis:
        return out
    if out.shape[1:] != (ch, cw):
        big = np.empty((3, ch, cw), np.float32)
        for c in range(3):
            big[c] = cv2.resize(out[c], (cw, ch), interpolation=cv2.INTER_CUBIC)
        out = np.clip(big, 0.0, 1.0, out=big)
    if job.options.grain:
        from restorer.inference.texture import with_grain

        out = with_grain(region, out, seed=len(result.patches))
    chosen = job.options.feather_px
    radius = (_feather_radius(region.scale, session.learned) if chosen is None else max(0, int(chosen))) \
        if job.options.feather else 0
    result.patches.append((region.patch, make_patch(region, out, radius)))
    return None
