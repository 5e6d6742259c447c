"""Packs photo folders into a shard small enough to carry to a GPU machine: resized copies under a byte budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from restorer.errors import RestorerError
from restorer.training.data import list_photos
from restorer.training.photos import read_photo_rgb8


def _resize(img: np.ndarray, side: int, square: bool) -> np.ndarray:
    h, w = img.shape[:2]
    if square:  # the evaluation's own view: centre square, resized to side x side
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        img = img[y : y + s, x : x + s]
        interp = cv2.INTER_AREA if s > side else cv2.INTER_CUBIC
        return cv2.resize(img, (side, side), interpolation=interp)
    scale = side / min(h, w)
    if scale >= 1.0:  # never upscale training photos: that would only add blur
        return img
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def pack(
    sources: Sequence[Path],
    out: Path,
    *,
    max_bytes: int,
    side: int = 320,
    fmt: str = "jpg",
    quality: int = 90,
    square: bool = False,
    seed: int = 0,
) -> dict:
    """Write resized photos from ``sources`` into ``out`` until ``max_bytes``; returns the manifest.

    Training shards take photos in a seeded random order across all sources, so a budget too small
    for all of them still gives a fair sample of each collection; square (evaluation) shards keep
    the sources' order and file names. ``out`` must be new or empty.
    """
    if fmt not in ("jpg", "png"):
        raise RestorerError(f"pack: format {fmt!r} is not jpg or png")
    if out.exists() and any(out.iterdir()):
        raise RestorerError(f"{out}: folder is not empty; pack into a new folder")
    photos = [p for src in sources for p in list_photos(Path(src))]
    # An evaluation shard (square) keeps the sources' order and names, so evaluate's seeded pairing
    # over the shard picks the same pairs as over the originals; a training shard samples fairly.
    order = np.arange(len(photos)) if square else np.random.default_rng(seed).permutation(len(photos))
    out.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if fmt == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 9]
    total, skipped = 0, []
    written: list[dict[str, str]] = []
    for i in order:
        src = photos[int(i)]
        try:
            img = read_photo_rgb8(src)
        except RestorerError:
            skipped.append(str(src))
            continue
        # OpenCV's encoder takes BGR: the one call that needs that order gets it.
        ok, buf = cv2.imencode(f".{fmt}", cv2.cvtColor(_resize(img, side, square), cv2.COLOR_RGB2BGR), params)
        if not ok:
            skipped.append(str(src))
            continue
        if total + len(buf) > max_bytes:
            break
        name = f"{src.stem}.{fmt}" if square else f"{len(written):05d}-{src.stem}.{fmt}"
        if (out / name).exists():  # the same name in two source folders
            name = f"{len(written):05d}-{name}"
        (out / name).write_bytes(buf.tobytes())
        total += len(buf)
        written.append({"file": name, "source": str(src)})
    manifest = {
        "sources": [str(s) for s in sources], "photos": len(written), "of": len(photos), "bytes": total,
        "side": side, "square": square, "format": fmt, "quality": quality, "seed": seed,
        "unreadable": skipped, "files": written,
    }
    (out / "shard.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest
