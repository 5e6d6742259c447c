"""The evaluation harness: fixed seeded (photo, mask) pairs per hole-ratio bucket, every model scored on
the same pairs beside Telea, Navier-Stokes and pypatchmatch (when installed), written as JSON, Markdown
tables (report.py) and two PNGs: a downscaled grid and 100 % crops.

Protocol: each photo is centre-cropped to a square and resized (INTER_AREA) to ``size``; each mask is
resized to ``size`` (INTER_AREA, then >= 0.5 = hole) and keeps the bucket its file is listed under.
Models see the photo with the hole zeroed (nothing leaks), and their output is composited with the
known pixels before PSNR, SSIM and mean L1 are taken over the whole image, and the texture measures
(detail, patch distance: texture.py) inside the hole.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import cv2
import numpy as np

from restorer.errors import RestorerError
from restorer.training.metrics import mean_l1, psnr, ssim
from restorer.training.peers import PEERS, available_peers
from restorer.training.photos import read_photo_rgb8
from restorer.training.report import crops_picture, grid_picture, markdown_table
from restorer.training.texture import detail_ratio, patch_distance

Model = Callable[[np.ndarray, np.ndarray], np.ndarray]
BASELINES = ("telea", "navier-stokes")  # the shipping bar (beats_baselines)
REFERENCES = BASELINES + PEERS  # every model evaluate scores that is not ours
PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class Pairs:
    images: np.ndarray  # N x 3 x S x S float32 in [0, 1]
    masks: np.ndarray  # N x 1 x S x S float32, 1 = hole
    buckets: list[str]
    photos: list[str]
    mask_files: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def bucket_names(self) -> list[str]:
        return sorted(set(self.buckets))


def load_square(path: Path, size: int) -> np.ndarray:
    """A photo's centre square, resized to size x size: float32 H x W x 3 RGB in [0, 1]."""
    img = read_photo_rgb8(path)
    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    img = img[y0:y0 + s, x0:x0 + s]
    interp = cv2.INTER_AREA if s >= size else cv2.INTER_CUBIC
    img = cv2.resize(img, (size, size), interpolation=interp)
    return img.astype(np.float32) / 255.0


def load_mask(path: Path, size: int) -> np.ndarray:
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise RestorerError(f"{path}: cannot read this mask")
    m = cv2.resize(m.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_AREA)
    return (m >= 0.5).astype(np.float32)


def list_masks(folder: Path) -> dict[str, list[Path]]:
    """Masks by bucket: from masks.csv (file, bucket) when present, else from ratio_* folder names."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RestorerError(f"{folder}: mask folder does not exist")
    groups: dict[str, list[Path]] = {}
    index = folder / "masks.csv"
    if index.is_file():
        with open(index, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                groups.setdefault(row["bucket"], []).append(folder / row["file"])
    else:
        for p in sorted(folder.rglob("*.png")):
            bucket = next((part for part in p.relative_to(folder).parts if part.startswith("ratio_")), None)
            if bucket is None:
                raise RestorerError(f"{p}: mask is in no ratio_A-B folder and {index.name} is missing")
            groups.setdefault(bucket, []).append(p)
    if not groups:
        raise RestorerError(f"{folder}: no masks found")
    return {k: sorted(v) for k, v in sorted(groups.items())}


def make_pairs(photos_dir: Path, masks_dir: Path, size: int = 256, pairs_per_bucket: int = 100,
               seed: int = 0) -> Pairs:
    """The fixed evaluation set: for each bucket, ``pairs_per_bucket`` masks (seeded draw) each with a photo."""
    photos_dir = Path(photos_dir)
    if not photos_dir.is_dir():
        raise RestorerError(f"{photos_dir}: photo folder does not exist")
    photos = sorted(p for p in photos_dir.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    if not photos:
        raise RestorerError(f"{photos_dir}: no photos found")
    if size < 16:
        raise RestorerError(f"image size {size} is too small (16 px at least)")
    cache: dict[Path, np.ndarray] = {}
    images, masks, buckets, pnames, mnames = [], [], [], [], []
    for b_index, (bucket, files) in enumerate(list_masks(Path(masks_dir)).items()):
        rng = np.random.default_rng([seed, b_index])
        n = int(pairs_per_bucket)
        picks = rng.choice(len(files), n, replace=n > len(files))
        order = rng.permutation(len(photos))
        for i, k in enumerate(picks):
            photo = photos[order[i % len(photos)]]
            if photo not in cache:
                cache[photo] = load_square(photo, size).transpose(2, 0, 1)
            images.append(cache[photo])
            masks.append(load_mask(files[k], size)[None])
            buckets.append(bucket)
            pnames.append(photo.name)
            mnames.append(str(files[k].relative_to(masks_dir)) if files[k].is_relative_to(masks_dir) else files[k].name)
    return Pairs(np.stack(images), np.stack(masks), buckets, pnames, mnames,
                 {"photos": str(photos_dir), "masks": str(masks_dir), "size": size,
                  "pairs_per_bucket": int(pairs_per_bucket), "seed": seed})


def classical_models() -> dict[str, Model]:
    from restorer.models import registry

    return {name: registry.load(name, device="cpu") for name in BASELINES}


def baseline_models() -> dict[str, Model]:
    """Telea and Navier-Stokes, plus every peer baseline that is installed (pypatchmatch)."""
    return {**classical_models(), **available_peers()}


def run_model(model: Model, pairs: Pairs, batch: int = 16) -> np.ndarray:
    """The model's composited outputs for all pairs (N x 3 x S x S)."""
    outs = []
    for i in range(0, len(pairs.images), batch):
        img, m = pairs.images[i:i + batch], pairs.masks[i:i + batch]
        pred = np.asarray(model(np.ascontiguousarray(img * (1 - m)), np.ascontiguousarray(m)), np.float32)
        if pred.shape != img.shape:
            raise RestorerError(f"model returned shape {pred.shape} for input {img.shape}")
        outs.append(np.clip(pred, 0, 1) * m + img * (1 - m))
    return np.concatenate(outs, 0)


def _median(vals: list[float]) -> float:
    finite = [v for v in vals if v == v]
    return float(np.median(finite)) if finite else float("nan")


def score(outputs: np.ndarray, pairs: Pairs, texture: bool = True) -> dict[str, dict[str, float]]:
    """Per bucket and over all pairs: mean PSNR / SSIM / L1 over the whole image and, with ``texture``, the
    median detail ratio (over the images whose original has detail in the hole; ``n_detail`` of them) and
    the median patch distance inside the hole (texture.py)."""
    per: dict[str, list[tuple[float, ...]]] = {}
    for out, gt, m, bucket in zip(outputs, pairs.images, pairs.masks, pairs.buckets):
        o, g = out.transpose(1, 2, 0), gt.transpose(1, 2, 0)
        row: tuple[float, ...] = (psnr(o, g), ssim(o, g), mean_l1(o, g))
        if texture:
            hole = m[0] > 0.5
            row += (detail_ratio(o, g, hole), patch_distance(o, g, hole))
        per.setdefault(bucket, []).append(row)
    per["all"] = [v for k in sorted(per) for v in per[k]]
    res: dict[str, dict[str, float]] = {}
    for b, vals in per.items():
        cols = list(zip(*vals))
        res[b] = {"psnr": float(np.mean(cols[0])), "ssim": float(np.mean(cols[1])), "l1": float(np.mean(cols[2])),
                  "n": len(vals)}
        if texture:
            res[b].update(detail=_median(list(cols[3])), n_detail=int(np.isfinite(cols[3]).sum()),
                          patch=_median(list(cols[4])))
    return res


def score_models(pairs: Pairs, models: Mapping[str, Model], batch: int = 16, texture: bool = True) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        outputs = run_model(model, pairs, batch)
        t1 = time.perf_counter()
        results[name] = score(outputs, pairs, texture)
        results[name]["all"]["seconds"] = time.perf_counter() - t0
        results[name]["all"]["s_per_image"] = (t1 - t0) / len(pairs.images)
    return results


def beats_baselines(results: Mapping[str, Any], model: str, from_bucket: str = "ratio_10-20") -> list[str]:
    """What keeps ``model`` from the shipping bar: each bucket >= from_bucket where it does not beat
    BOTH baselines in PSNR and SSIM (empty list = it passes)."""
    fails = []
    for bucket in sorted(b for b in results[model] if b != "all" and b >= from_bucket):
        for metric in ("psnr", "ssim"):
            for base in BASELINES:
                if base in results and results[model][bucket][metric] <= results[base][bucket][metric]:
                    fails.append(f"{bucket} {metric} {results[model][bucket][metric]:.4f} <= {base} "
                                 f"{results[base][bucket][metric]:.4f}")
    return fails


def sample_indices(pairs: Pairs, per_bucket: int = 1, buckets: int | None = None) -> list[int]:
    """The first ``per_bucket`` pairs of each bucket (of the last ``buckets`` buckets: the largest holes)."""
    names = pairs.bucket_names()[-buckets:] if buckets else pairs.bucket_names()
    idx: list[int] = []
    for b in names:
        idx += [i for i, x in enumerate(pairs.buckets) if x == b][:per_bucket]
    return idx


def sample_pictures(pairs: Pairs, models: Mapping[str, Model], out_dir: Path,
                    stem: str = "evaluation") -> tuple[Path, Path]:
    """``stem``_samples.png (a pair per bucket, downscaled) and ``stem``_crops.png (two pairs from each of
    the two largest-hole buckets, 100 % crops around the hole); columns: input (holes white), each
    model, original."""
    def columns(idx: list[int]) -> list[np.ndarray]:
        sub = Pairs(pairs.images[idx], pairs.masks[idx], [pairs.buckets[i] for i in idx], [], [])
        return [sub.images * (1 - sub.masks) + sub.masks, *(run_model(m, sub) for m in models.values()), sub.images]

    names = ["input", *models, "original"]
    grid = grid_picture(columns(sample_indices(pairs)), names, out_dir / f"{stem}_samples.png")
    idx = sample_indices(pairs, per_bucket=2, buckets=2)
    crops = crops_picture(columns(idx), names, pairs.masks[idx], out_dir / f"{stem}_crops.png")
    return grid, crops


def write_report(results: Mapping[str, Any], pairs: Pairs, out_dir: Path, stem: str = "evaluation",
                 extra: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    doc = {"protocol": pairs.meta, "results": results, **(extra or {}),
           "pairs": [{"photo": p, "mask": m, "bucket": b} for p, m, b in zip(pairs.photos, pairs.mask_files, pairs.buckets)]}
    json_path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    meta = pairs.meta
    title = (f"{meta.get('pairs_per_bucket')} pairs per bucket, {meta.get('size')} px, seed {meta.get('seed')}, "
             f"photos {Path(str(meta.get('photos'))).name}")
    md_path.write_text(markdown_table(results, title) + "\n", encoding="utf-8")
    return json_path, md_path


def evaluate(models: Mapping[str, Model], photos: Path, masks: Path, out_dir: Path, *, size: int = 256,
             pairs_per_bucket: int = 100, seed: int = 0, grid: bool = True, batch: int = 16,
             baselines: Mapping[str, Model] | None = None) -> dict[str, Any]:
    """The whole harness: pairs, the baselines (default ``baseline_models()``) + ``models`` on them,
    evaluation.json/.md into ``out_dir`` and, with ``grid``, evaluation_samples.png and evaluation_crops.png."""
    pairs = make_pairs(photos, masks, size, pairs_per_bucket, seed)
    base = baseline_models() if baselines is None else dict(baselines)
    all_models = {**base, **{k: v for k, v in models.items() if k not in base}}
    results = score_models(pairs, all_models, batch)
    write_report(results, pairs, out_dir)
    if grid:
        sample_pictures(pairs, all_models, out_dir)
    return results
