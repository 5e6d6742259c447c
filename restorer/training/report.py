"""The evaluation's human-readable output: the Markdown tables and the two pictures (a downscaled grid, 100 % crops).

Everything here takes plain results and arrays (N x 3 x S x S float in [0, 1]); the harness that
makes them is evaluate.py.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np

DETAIL_CAPTION = ("Detail, inside the hole eroded by 1 px: std of the Laplacian of the gray output over the same "
                  "for the original, median over the images (1 = as detailed as the original, < 1 smoother, "
                  "> 1 noisier; bold = closest to 1). Images whose original has (about) no detail there, "
                  "std < 0.001, are skipped; `d=` counts those measured:")
PATCH_CAPTION = ("Patch distance, inside the hole: sliced Wasserstein distance between the output's and the "
                 "original's 7 x 7 patches of a 4-level Laplacian pyramid (Karras et al. 2018), each level "
                 "scaled by the original's std, 256 fixed-seed projections; median over the images, lower is "
                 "better (added noise makes it worse, unlike detail):")


def _closest_to_one(vals: Sequence[float]) -> float:
    finite = [v for v in vals if v == v and v > 0]
    return min(finite, key=lambda v: abs(math.log(v))) if finite else float("nan")


def _best_finite(better: Callable[..., float]) -> Callable[[Sequence[float]], float]:
    def pick(vals: Sequence[float]) -> float:
        finite = [v for v in vals if v == v]
        return better(finite) if finite else float("nan")
    return pick


METRICS: tuple[tuple[str, str, Callable[[Sequence[float]], float]], ...] = (
    ("psnr", "PSNR (dB), whole image, composited:", _best_finite(max)),
    ("ssim", "SSIM, whole image, composited:", _best_finite(max)),
    ("l1", "mean L1, whole image, composited:", _best_finite(min)),
    ("detail", DETAIL_CAPTION, _closest_to_one),
    ("patch", PATCH_CAPTION, _best_finite(min)),
)


def _cell(v: float | None, best: float) -> str:
    if v is None or v != v:
        return "-"
    return f"**{v:.4f}**" if v == best else f"{v:.4f}"


def markdown_table(results: Mapping[str, Any], title: str = "") -> str:
    """A table per metric (rows: buckets, columns: models), then a summary over all buckets with seconds per image."""
    models = list(results)
    first = results[models[0]]
    buckets = sorted(b for b in first if b != "all") + ["all"]
    lines = [f"### {title}", ""] if title else []
    for metric, caption, better in METRICS:
        if not any(metric in results[m].get("all", {}) for m in models):
            continue  # results saved before this metric existed
        lines += [caption, "", "| bucket | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
        for b in buckets:
            vals = [results[m][b].get(metric) for m in models]
            best = better([v for v in vals if v is not None])
            label = f"{b} (n={first[b]['n']}" + (f", d={first[b]['n_detail']})" if metric == "detail" and
                                                   "n_detail" in first[b] else ")")
            lines.append(f"| {label} | " + " | ".join(_cell(v, best) for v in vals) + " |")
        lines.append("")
    if all("s_per_image" in results[m].get("all", {}) for m in models):
        lines += ["All buckets together; seconds per image is the model's own time on this run's CPU "
                  "(batches of 16 where the model takes batches), a rough guide only:", "",
                  "| model | PSNR | SSIM | L1 | detail | patch distance | s / image |", "|---" * 7 + "|"]
        for m in models:
            a = results[m]["all"]
            cells = [_cell(a.get(k), float("nan")) for k in ("psnr", "ssim", "l1", "detail", "patch")]
            lines.append(f"| {m} | " + " | ".join(cells) + f" | {a['s_per_image']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def _hwc8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x.transpose(1, 2, 0), 0, 1) * 255 + 0.5).astype(np.uint8)


def _header(names: Sequence[str], width: int, step: int) -> np.ndarray:
    head = np.full((18, width, 3), 255, np.uint8)
    for j, name in enumerate(names):
        cv2.putText(head, name[:max(3, step // 6)], (j * step + 3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return head


def _write(path: Path, rgb: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def grid_picture(columns: Sequence[np.ndarray], names: Sequence[str], path: Path, tile: int = 128) -> Path:
    """A row per sample; each column (N x 3 x S x S) downscaled (INTER_AREA) to tile x tile."""
    rows = []
    for r in range(len(columns[0])):
        rows.append(np.concatenate([cv2.resize(_hwc8(c[r]), (tile, tile), interpolation=cv2.INTER_AREA)
                                    for c in columns], 1))
    grid = np.concatenate(rows, 0)
    return _write(path, np.concatenate([_header(names, grid.shape[1], tile), grid], 0))


def crop_window(hole: np.ndarray, size: int, target: float = 0.6) -> tuple[int, int]:
    """Top-left (y, x) of the size x size window around the hole: hole fraction nearest ``target`` (hole and
    context both shown), ties to the window nearest the hole's centre."""
    h, w = hole.shape
    size = min(size, h, w)
    ii = np.pad(np.asarray(hole, np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    frac = (ii[size:, size:] - ii[:-size, size:] - ii[size:, :-size] + ii[:-size, :-size]) / (size * size)
    ys, xs = np.nonzero(hole)
    cy, cx = (ys.mean(), xs.mean()) if len(ys) else (h / 2, w / 2)
    gy, gx = np.mgrid[:frac.shape[0], :frac.shape[1]]
    dist = np.hypot(gy + size / 2 - cy, gx + size / 2 - cx) / max(h, w)
    cost = np.abs(frac - target) + 0.1 * dist
    y, x = np.unravel_index(int(np.argmin(cost)), cost.shape)
    return int(y), int(x)


def crops_picture(columns: Sequence[np.ndarray], names: Sequence[str], holes: np.ndarray, path: Path,
                  crop: int = 128, gap: int = 4) -> Path:
    """Pixels at 100 %: for each sample the same crop x crop window around its hole from every column, copied
    without resampling, with ``gap`` white pixels between tiles."""
    size = min(crop, columns[0].shape[2], columns[0].shape[3])
    step = size + gap
    rows = []
    for r in range(len(columns[0])):
        y, x = crop_window(holes[r, 0] > 0.5, size)
        row = np.full((step, step * len(columns), 3), 255, np.uint8)
        for j, c in enumerate(columns):
            row[:size, j * step:j * step + size] = _hwc8(c[r][:, y:y + size, x:x + size])
        rows.append(row)
    body = np.concatenate(rows, 0)
    return _write(path, np.concatenate([_header(names, body.shape[1], step), body], 0))
