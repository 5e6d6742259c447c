"""Runs a planned job: cached models per device, batched and tiled model calls, out-of-memory fallback, patches."""

from __future__ import annotations

import math
import threading
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import cv2
import numpy as np

from restorer.core.mask import BBox
from restorer.errors import Cancelled, RestorerError
from restorer.inference.paste import make_patch, to_float_chw
from restorer.inference.regions import Region, resize_mask, round_up, tile_boxes, tile_weight
from restorer.models import device as devices
from restorer.models import registry

if TYPE_CHECKING:
    from restorer.inference.engine import Job, Progress, Result

# Below this side a tile is not split further after running out of memory; the CPU takes over.
MIN_TILE = 64
# On the CPU one model call holds at most this many pixels (a few seconds for a learned model).
CPU_BATCH_PIXELS = 1 << 20
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
    return isinstance(exc, registry.OutOfMemory) or type(exc).__name__ == "OutOfMemoryError"


def _pad_to(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """Reflect-pad the bottom and right of an H x W (x C) array up to h x w (edge-pad a 1-pixel axis)."""
    dh, dw = h - arr.shape[0], w - arr.shape[1]
    if dh == 0 and dw == 0:
        return arr
    widths = [(0, dh), (0, dw)] + [(0, 0)] * (arr.ndim - 2)
    mode = "reflect" if min(arr.shape[:2]) > 1 else "edge"
    return np.pad(arr, widths, mode=mode)


class _Unit(NamedTuple):
    """One tile of one region, placed in a model input: item ``item`` of its batch, at offset ``at``."""

    region: int
    tile: BBox
    size: tuple[int, int]  # the model input's (padded) size
    item: int = 0
    at: tuple[int, int] = (0, 0)
    grid: tuple[int, int] = (1, 1)  # tiles per input (rows, cols): more than one = an atlas


class _Canvas:
    """A region's output at work resolution (3 x H x W), blended over its tiles when there are several."""

    def __init__(self, shape: tuple[int, int], tiles: list[BBox] | tuple[BBox, ...], edges: bool) -> None:
        self.shape = shape
        # One tile covers the whole region: keep the model's output as it is, no blending buffers.
        self.single = len(tiles) == 1 and tuple(tiles[0]) == (0, 0, *shape)
        self.out: np.ndarray | None = None if self.single else np.zeros((3, *shape), np.float32)
        self.weight: np.ndarray | None = None if self.single else np.zeros(shape, np.float32)
        self.edges: np.ndarray | None = None if self.single or not edges else np.zeros(shape, np.float32)

    def add(self, tile: BBox, overlap: int, out: np.ndarray | None, edges: np.ndarray | None) -> None:
        if self.single:
            self.out, self.edges = out, edges
            self.weight = np.ones(self.shape, np.float32)
            return
        rows, cols = tile.slices
        w = tile_weight(tile, self.shape, overlap)
        if out is not None and self.out is not None:
            self.out[:, rows, cols] += out * w
        if edges is not None and self.edges is not None:
            self.edges[rows, cols] += edges * w
        assert self.weight is not None
        self.weight[rows, cols] += w

    def result(self, fallback: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(image 3 x H x W, edges H x W); pixels no tile covered (they hold no hole) take ``fallback``."""
        if self.single:
            return self.out, self.edges
        assert self.weight is not None
        covered = self.weight > 0
        w = np.where(covered, self.weight, 1.0)
        edges = None if self.edges is None else self.edges / w
        out = None
        if self.out is not None:
            out = np.where(covered, self.out / w, fallback)
        return out, edges


class _Session:
    """One job's run: the model on its current device, notes, and the model-call machinery."""

    def __init__(self, job: Job, fill: bool) -> None:
        self.job = job
        self.fill = fill
        self.spec = registry.get_spec(job.model)
        self.pad = max(1, self.spec.pad_multiple)
        self.notes: list[str] = []
        opts = job.options
        self.device = devices.resolve_device(opts.device) if self.spec.neural else "cpu"
        self.model: registry.Inpainter | None = None
        self.edge_model = False

    def load(self) -> None:
        half = self.job.options.half and self.device == "cuda"
        self.model = get_model(self.job.model, self.device, half, self.job.options.weights_folder)
        self.edge_model = getattr(self.model, "predict_edges", None) is not None

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _to_cpu(self) -> None:
        self._note(NOTE_CPU)
        self.device = "cpu"
        self.model = get_model(self.job.model, "cpu", False, self.job.options.weights_folder)
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
            edges = (np.asarray(self.model.predict_edges(img, msk)) > 0.5).astype(np.float32)
            if guide is not None:
                hole = msk > 0.5
                if self.job.options.guide_mode == "replace":
                    edges = np.where(hole, guide, edges).astype(np.float32)
                else:
                    edges = np.maximum(edges, guide * hole)
        if not self.fill:
            return None, edges
        out = self.model(img, msk, edges=edges) if edges is not None else self.model(img, msk)
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
        canvas = _Canvas(shape, boxes, self.edge_model)
        for box in boxes:
            rows, cols = box.slices
            out, edges = self.infer(img[:, :, rows, cols], msk[:, :, rows, cols],
                                    None if guide is None else guide[:, :, rows, cols])
            canvas.add(box, overlap, None if out is None else out[0], None if edges is None else edges[0, 0])
        out, edges = canvas.result(img[0])
        return (None if out is None else out[None],
                None if edges is None else (edges > 0.5).astype(np.float32)[None, None])


def _work_inputs(region: Region, with_guide: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The region's crop at work resolution: float image 3 x H x W, bool mask H x W, bool guide H x W."""
    h, w = region.work_shape
    pixels = region.pixels
    if (h, w) != pixels.shape[:2]:  # shrink in the photo's own dtype: the float copy is then small
        pixels = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA)
    img = to_float_chw(pixels)
    mask = resize_mask(region.mask, (h, w))
    guide = None
    if with_guide and region.guide is not None:
        guide = resize_mask(region.guide, (h, w))
    return img, mask, guide


def _feather_radius(scale: float, neural: bool) -> int:
    if not neural and scale >= 1.0:
        return 0  # classical fills grow out of the rim's own pixels: there is no seam to hide
    # An upscaled fill is soft over about 1/scale pixels: fade over a little more than that.
    return int(min(48, max(3, math.ceil(2.0 / scale))))


def _atlas_grid(h: int, w: int, pad: int) -> tuple[int, int] | None:
    """(rows, cols) of ``h x w`` tiles side by side in one square input when that wastes far less
    than padding each tile alone to the model's size multiple; None when it does not."""
    alone = round_up(h, pad) * round_up(w, pad) / (h * w)
    best, best_waste = None, alone / 1.5
    for side in range(round_up(max(h, w), pad), 513, pad):
        rows, cols = side // h, side // w
        waste = side * side / (rows * cols * h * w)
        if rows * cols > 1 and waste < best_waste:
            best, best_waste = (rows, cols), waste
    return best


def _schedule(job: Job, pad: int, budget: int) -> list[list[_Unit]]:
    """Model calls: tiles of equal size share a call up to the pixel budget (unless packing is off).

    When the model's size multiple would pad a small tile to much more than itself (PConv pads to
    128), several such tiles sit side by side in one input (an atlas), each with its own context,
    so a speck costs about its crop instead of a whole 128 x 128 input.
    """
    by_tile: dict[tuple[int, int], list[tuple[int, BBox]]] = {}
    for i, region in enumerate(job.regions):
        for tile in region.tiles:
            by_tile.setdefault((tile.height, tile.width), []).append((i, tile))
    batches: list[list[_Unit]] = []
    for (h, w), tiles in by_tile.items():
        grid = _atlas_grid(h, w, pad) if job.options.pack and len(tiles) > 1 else None
        rows, cols = grid or (1, 1)
        size = (round_up(rows * h, pad), round_up(cols * w, pad))
        per_item = rows * cols
        cells = [(r * h, c * w) for r in range(rows) for c in range(cols)]
        items_per_call = max(1, budget // (size[0] * size[1])) if job.options.pack else 1
        per_call = items_per_call * per_item
        for k in range(0, len(tiles), per_call):
            chunk = tiles[k:k + per_call]
            batches.append([_Unit(i, tile, size, n // per_item, cells[n % per_item], (rows, cols))
                            for n, (i, tile) in enumerate(chunk)])
    return batches


def execute(job: Job, cancel: threading.Event | None, *, fill: bool) -> Generator[Progress, None, Result]:
    """Run ``job``: fill its holes (or only predict edges when ``fill`` is False)."""
    from restorer.inference.engine import Progress, Result

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("the fill was cancelled; the photo is unchanged")

    check()
    session = _Session(job, fill)
    budget = job.options.batch_pixels
    if session.device == "cpu":  # batching gains little on a CPU; short calls keep progress and cancel prompt
        budget = min(budget, CPU_BATCH_PIXELS)
    batches = _schedule(job, session.pad, budget)
    total = len(batches)
    result = Result(job_id=job.id, revision=job.revision, patches=[], device=session.device)
    if not batches:
        return result
    devices.set_cpu_threads(job.options.threads)
    yield Progress(0, total, f"Loading {job.model}")
    check()
    session.load()
    if not fill and not session.edge_model:
        return result
    with_guide = session.edge_model and any(r.guide is not None for r in job.regions)

    remaining = [len(r.tiles) for r in job.regions]
    inputs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    canvases: dict[int, _Canvas] = {}
    for done, batch in enumerate(batches, start=1):
        check()
        for unit in batch:
            if unit.region not in inputs:
                inputs[unit.region] = _work_inputs(job.regions[unit.region], with_guide)
        out, edges = session.infer(*_batch_arrays(batch, inputs, with_guide))
        for unit in batch:
            region = job.regions[unit.region]
            k, (y, x) = unit.item, unit.at
            rows, cols = slice(y, y + unit.tile.height), slice(x, x + unit.tile.width)
            if unit.region not in canvases:
                canvases[unit.region] = _Canvas(region.work_shape, region.tiles, edges is not None)
            canvases[unit.region].add(unit.tile, region.overlap,
                                      None if out is None else out[k, :, rows, cols],
                                      None if edges is None else edges[k, 0, rows, cols])
            remaining[unit.region] -= 1
            if remaining[unit.region] == 0:
                _finish(region, canvases.pop(unit.region), inputs.pop(unit.region)[0], fill, job, result,
                        session.spec.neural)
        del out, edges  # the batch's arrays go before the next one is built
        yield Progress(done, total, f"Filled {done} of {total} crops" if fill else f"Edges {done} of {total}")
    check()  # a job cancelled during its last call returns nothing either
    result.device = session.device
    result.notes.extend(session.notes)
    return result


def _batch_arrays(batch: list[_Unit], inputs: dict, with_guide: bool):
    """Build a batch's model inputs: tiles placed in their items, the rest reflect-padded."""
    h, w = batch[0].size
    n = batch[-1].item + 1
    if n == 1 and len(batch) == 1 and (h, w) == (batch[0].tile.height, batch[0].tile.width):
        rimg, rmask, rguide = inputs[batch[0].region]
        if (h, w) == rmask.shape:  # one unpadded crop: hand the model the work image itself, no copy
            gd = None if not with_guide else (
                np.zeros((1, 1, h, w), np.float32) if rguide is None else rguide[None, None].astype(np.float32))
            return rimg[None], rmask[None, None].astype(np.float32), gd
    img = np.empty((n, 3, h, w), np.float32)
    msk = np.empty((n, 1, h, w), np.float32)
    gd = np.zeros((n, 1, h, w), np.float32) if with_guide else None
    th, tw = batch[0].tile.height, batch[0].tile.width
    rows, cols = batch[0].grid
    for k in range(n):
        placed = {u.at: u for u in batch if u.item == k}
        first = next(iter(placed.values()))
        block = np.empty((rows * th, cols * tw, 3), np.float32)
        bmask = np.empty((rows * th, cols * tw), bool)
        bguide = np.zeros((rows * th, cols * tw), np.float32)
        for y in range(0, rows * th, th):
            for x in range(0, cols * tw, tw):
                u = placed.get((y, x), first)  # an atlas's unused cells repeat a tile; their output is ignored
                rimg, rmask, rguide = inputs[u.region]
                src = u.tile.slices
                block[y:y + th, x:x + tw] = rimg[(slice(None), *src)].transpose(1, 2, 0)
                bmask[y:y + th, x:x + tw] = rmask[src]
                if rguide is not None:
                    bguide[y:y + th, x:x + tw] = rguide[src]
        img[k] = _pad_to(block, h, w).transpose(2, 0, 1)
        msk[k, 0] = _pad_to(bmask, h, w)
        if gd is not None:
            gd[k, 0] = _pad_to(bguide, h, w)
    return img, msk, gd


def _finish(region: Region, canvas: _Canvas, work_img: np.ndarray, fill: bool, job: Job, result: Result,
            neural: bool) -> None:
    """Turn a region's blended work-resolution output into its full-resolution patch and edge map."""
    out, edges = canvas.result(work_img)
    ch, cw = region.crop.height, region.crop.width
    if edges is not None:
        if edges.shape != (ch, cw):
            edges = cv2.resize(edges, (cw, ch), interpolation=cv2.INTER_LINEAR)
        result.edges.append((region.crop, (edges > 0.5).astype(np.float32)))
    if not fill or out is None:
        return
    if out.shape[1:] != (ch, cw):
        big = np.empty((3, ch, cw), np.float32)
        for c in range(3):
            big[c] = cv2.resize(out[c], (cw, ch), interpolation=cv2.INTER_CUBIC)
        out = np.clip(big, 0.0, 1.0, out=big)
    radius = _feather_radius(region.scale, neural) if job.options.feather else 0
    result.patches.append((region.patch, make_patch(region, out, radius)))
