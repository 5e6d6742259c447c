"""Synthetic damage: scratches, dust, hairs and cracks rendered onto clean photos, with the truth mask of each kind.

The tests, the detection evaluation and (later) the learned detector's training data all use this
one renderer, so what "damage" means is written down once:

- a *scratch* is a long thin line, straight or gently curved, bright (emulsion scraped off a print)
  or dark (a scratch on the negative): mostly 0.8-4 px wide with a soft or sharp rim, fading along its
  length; a share ``HARD_SCRATCHES`` of them hard-edged and even instead, 1-4 whole pixels wide, one
  strength from end to end (a clean cut, or a line drawn on a scan);
- *dust* is a compact speck, 1-10 px across, irregular, mostly bright on prints;
- a *hair* is a thin winding fibre 30-250 px long;
- a *crack* is a jagged branching network of fine lines (craquelure of a dried emulsion).

Truth kinds follow the shape (what the detector can tell apart): scratches -> "scratches",
specks -> "dust", hairs and cracks -> "cracks" (thin winding lines). A pixel counts as damaged
when the rendering changed its luminance by at least ``VISIBLE`` (13/255): damage drawn over a
background of the same tone is invisible, and no detector should be asked to find it.

Works on photos of the array contract (H x W x C or H x W, uint8 or uint16); the damaged photo
comes back in the same shape and dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

KINDS = ("scratches", "dust", "cracks")
VISIBLE = 0.05  # luminance change (0..1) from which a rendered pixel counts as damage
HARD_SCRATCHES = 0.35  # share of scratches drawn hard-edged and even (no rim, no fade)


@dataclass(frozen=True)
class DamageCounts:
    """How many items of each kind to draw on a photo of ``per_pixels`` pixels (scaled by the photo's area)."""

    scratches: float = 3.0
    dust: float = 30.0
    hairs: float = 1.5
    cracks: float = 1.0
    per_pixels: int = 512 * 512


@dataclass
class Damaged:
    pixels: np.ndarray  # the damaged photo, same shape and dtype as the clean one
    truth: dict[str, np.ndarray]  # kind -> bool H x W, True = damaged pixel of that kind

    @property
    def any(self) -> np.ndarray:
        out = np.zeros(self.pixels.shape[:2], dtype=bool)
        for m in self.truth.values():
            out |= m
        return out


def to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 photo -> float32 in [0, 1], H x W x C."""
    top = float(np.iinfo(pixels.dtype).max)
    arr = pixels.astype(np.float32) / top
    return arr[..., None] if arr.ndim == 2 else arr


def from_float(arr: np.ndarray, like: np.ndarray) -> np.ndarray:
    top = float(np.iinfo(like.dtype).max)
    out = np.clip(arr * top + 0.5, 0, top).astype(like.dtype)
    return out.reshape(like.shape)


def add_grain(pixels: np.ndarray, rng: np.random.Generator, sigma: float = 0.02, clump: float = 0.7) -> np.ndarray:
    """Film grain: Gaussian noise of std ``sigma`` (0..1 units) blurred by ``clump`` px, the same on every channel."""
    arr = to_float(pixels)
    noise = rng.standard_normal(arr.shape[:2], dtype=np.float32)
    if clump > 0:
        noise = np.asarray(cv2.GaussianBlur(noise, (0, 0), clump), np.float32)
        noise /= max(float(noise.std()), 1e-6)
    arr += sigma * noise[..., None]
    return from_float(arr, pixels)


# --- geometry ---------------------------------------------------------------------------------------


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _walk(rng: np.random.Generator, start: np.ndarray, angle: float, length: float, step: float,
          wiggle: float, smooth: int) -> np.ndarray:
    """A random walk whose heading drifts by smoothed noise: ``wiggle`` radians per step, ``smooth`` steps of memory."""
    n = max(2, int(length / step))
    turns = rng.normal(0, wiggle, n + smooth)
    if smooth > 1:
        turns = np.convolve(turns, np.ones(smooth) / math.sqrt(smooth), mode="same")
    heading = angle + np.cumsum(turns[:n])
    steps = np.stack([np.cos(heading), np.sin(heading)], 1) * step
    return start + np.vstack([[0, 0], np.cumsum(steps, 0)])


def _box(points: np.ndarray, shape: tuple[int, int], pad: int) -> tuple[int, int, int, int] | None:
    """x0, y0, x1, y1 of the points' bounding box grown by ``pad`` within ``shape``; None if under 2 px."""
    h, w = shape
    x0 = max(int(points[:, 0].min()) - pad, 0)
    y0 = max(int(points[:, 1].min()) - pad, 0)
    x1 = min(int(points[:, 0].max()) + pad + 1, w)
    y1 = min(int(points[:, 1].max()) + pad + 1, h)
    return None if x1 - x0 < 2 or y1 - y0 < 2 else (x0, y0, x1, y1)


def _line_alpha(points: np.ndarray, shape: tuple[int, int], width: float, soft: float,
                strength: np.ndarray | float) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Alpha of a polyline of ``width`` px with edges softened by ``soft`` px, cropped to its box."""
    pad = int(width + 3 * soft + 3)
    box = _box(points, shape, pad)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    centre = np.full((y1 - y0, x1 - x0), 255, np.uint8)
    # 8x sub-pixel precision: the centreline lands where the curve is, not on the nearest pixel.
    pts = np.round((points - [x0, y0]) * 8).astype(np.int32)
    cv2.polylines(centre, [pts], False, 0, 1, cv2.LINE_8, shift=3)
    dist = cv2.distanceTransform(centre, cv2.DIST_L2, 3)
    alpha = np.clip((width / 2 + 0.5 - dist) / (1 + 2 * soft) + 0.5, 0, 1)
    if not np.isscalar(strength):
        # strength varies along the line: spread the per-point values to the nearest pixels
        along = np.zeros_like(alpha)
        weight = np.zeros_like(alpha)
        strength = np.asarray(strength, np.float32)
        for (x, y), s in zip(pts // 8, strength):
            if 0 <= y < along.shape[0] and 0 <= x < along.shape[1]:
                along[y, x] += s
                weight[y, x] += 1
        k = int(2 * pad + 1)
        along = cv2.blur(along, (k, k))
        weight = cv2.blur(weight, (k, k))
        strength = np.where(weight > 0, along / np.maximum(weight, 1e-6), 0)
    return (alpha * strength).astype(np.float32), (slice(y0, y1), slice(x0, x1))


def _hard_line_alpha(points: np.ndarray, shape: tuple[int, int], width: int,
                     strength: float) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Alpha of a hard-edged polyline ``width`` whole pixels wide: ``strength`` on it, 0 off it (no rim).

    A pixel is on the line when the band ``width`` px wide around the centreline covers at least half
    of it (measured on a 4x grid), so a vertical line is exactly ``width`` px wide wherever it falls.
    """
    box = _box(points, shape, int(width + 3))
    if box is None:
        return None
    x0, y0, x1, y1 = box
    up = 4
    centre = np.full(((y1 - y0) * up, (x1 - x0) * up), 255, np.uint8)
    # integer coordinates are pixel centres (as in OpenCV): on the 4x grid x lands at 4 x + 1.5
    pts = np.round(((points - [x0, y0]) * up + (up - 1) / 2) * 8).astype(np.int32)
    cv2.polylines(centre, [pts], False, 0, 1, cv2.LINE_8, shift=3)
    band = (cv2.distanceTransform(centre, cv2.DIST_L2, 5) < width * up / 2).astype(np.float32)
    cover = cv2.resize(band, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return (cover >= 0.5).astype(np.float32) * np.float32(strength), (slice(y0, y1), slice(x0, x1))


def _fade(rng: np.random.Generator, n: int, depth: float) -> np.ndarray:
    """Strength along a line: 1 with slow dips of up to ``depth`` (a scratch is rarely even)."""
    knots = rng.uniform(1 - depth, 1, max(2, n // 40 + 2))
    return np.interp(np.linspace(0, len(knots) - 1, n), np.arange(len(knots)), knots)


# --- items ------------------------------------------------------------------------------------------


def _scratch(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    h, w = shape
    diag = math.hypot(h, w)
    length = rng.uniform(0.15, 0.8) * diag
    # Film scratches run mostly along the film (vertical); print scratches anywhere.
    angle = rng.normal(math.pi / 2, 0.08) if rng.random() < 0.4 else rng.uniform(0, math.pi)
    c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    d = np.array([math.cos(angle), math.sin(angle)]) * length / 2
    normal = np.array([-d[1], d[0]]) / max(np.linalg.norm(d), 1e-6)
    bend = rng.uniform(-0.08, 0.08) * length if rng.random() < 0.6 else 0.0
    n = max(8, int(length / 2))
    pts = _bezier(c - d, c + normal * bend, c + d, n)
    width = float(np.exp(rng.uniform(math.log(0.8), math.log(4.0))))
    soft = rng.uniform(0.0, 1.0)
    fade = _fade(rng, n, 0.6)
    level = rng.uniform(0.45, 0.95)
    # The hard/soft choice reuses the softness draw, so the random stream (and with it every other
    # item of a seeded photo) is the one the renderer drew before hard scratches existed.
    if soft < HARD_SCRATCHES:
        return _hard_line_alpha(pts, shape, int(np.clip(round(width), 1, 4)), 0.6 + (level - 0.45) * 0.8)
    soft = (soft - HARD_SCRATCHES) / (1 - HARD_SCRATCHES)
    return _line_alpha(pts, shape, width, soft, fade * level)


def _speck(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    h, w = shape
    r = float(np.exp(rng.uniform(math.log(0.6), math.log(5.0))))
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    pad = int(r * 2 + 4)
    x0, y0 = max(int(cx) - pad, 0), max(int(cy) - pad, 0)
    x1, y1 = min(int(cx) + pad + 1, w), min(int(cy) + pad + 1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    alpha = np.zeros(xx.shape, np.float32)
    # a speck is a few overlapping discs, so it is lumpy rather than round
    for _ in range(int(rng.integers(1, 4))):
        ox, oy = rng.normal(0, r * 0.5, 2)
        rr = r * rng.uniform(0.5, 1.0)
        d = np.hypot(xx - cx - ox, yy - cy - oy)
        alpha = np.maximum(alpha, np.clip(rr + 0.5 - d, 0, 1))
    soft = rng.uniform(0, 0.8)
    if soft > 0.05:
        alpha = cv2.GaussianBlur(alpha, (0, 0), soft)
    return alpha * rng.uniform(0.5, 0.95), (slice(y0, y1), slice(x0, x1))


def _hair(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    h, w = shape
    start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    pts = _walk(rng, start, rng.uniform(0, 2 * math.pi), rng.uniform(30, 250), 1.5, 0.06, 12)
    return _line_alpha(pts, shape, rng.uniform(0.8, 1.8), rng.uniform(0, 0.5), rng.uniform(0.5, 0.95))


def _crack(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """A branching jagged network: a trunk and a few branches, each a fast-turning walk."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    trunk = _walk(rng, np.array([rng.uniform(0, w), rng.uniform(0, h)]), rng.uniform(0, 2 * math.pi),
                  rng.uniform(60, 220), 2.0, 0.35, 2)
    lines = [trunk]
    for _ in range(int(rng.integers(2, 7))):
        at = lines[int(rng.integers(len(lines)))]
        p = at[int(rng.integers(len(at)))]
        lines.append(_walk(rng, p, rng.uniform(0, 2 * math.pi), rng.uniform(15, 90), 2.0, 0.35, 2))
    strength = rng.uniform(0.5, 0.95)
    box = None
    for pts in lines:
        drawn = _line_alpha(pts, shape, rng.uniform(0.7, 1.6), rng.uniform(0, 0.4), strength)
        if drawn is None:
            continue
        alpha, sl = drawn
        out[sl] = np.maximum(out[sl], alpha)
        ys, xs = sl
        b = (ys.start, xs.start, ys.stop, xs.stop)
        box = b if box is None else (min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3]))
    if box is None:
        return None
    sl = (slice(box[0], box[2]), slice(box[1], box[3]))
    return out[sl], sl


_DRAW = {"scratches": _scratch, "dust": _speck, "hairs": _hair, "cracks": _crack}
_TRUTH_KIND = {"scratches": "scratches", "dust": "dust", "hairs": "cracks", "cracks": "cracks"}
_BRIGHT_SHARE = {"scratches": 0.5, "dust": 0.65, "hairs": 0.35, "cracks": 0.5}


def _luma(arr: np.ndarray) -> np.ndarray:
    if arr.shape[2] == 1:
        return arr[..., 0]
    return arr[..., 0] * 0.299 + arr[..., 1] * 0.587 + arr[..., 2] * 0.114


def render_damage(pixels: np.ndarray, seed: int | np.random.Generator = 0,
                  counts: DamageCounts = DamageCounts()) -> Damaged:
    """Draw random damage on a copy of ``pixels``; the same seed gives the same damage."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"photo must be uint8 or uint16, not {pixels.dtype}")
    clean = to_float(pixels)
    arr = clean.copy()
    shape = arr.shape[:2]
    area = shape[0] * shape[1] / counts.per_pixels
    drawn_kind = np.zeros(shape, np.uint8)  # index into KINDS + 1 of the item drawn last at each pixel
    for kind, draw in _DRAW.items():
        n = rng.poisson(getattr(counts, kind) * area)
        for _ in range(int(n)):
            item = draw(rng, shape)
            if item is None:
                continue
            alpha, sl = item
            bright = rng.random() < _BRIGHT_SHARE[kind]
            # not pure white/black: a scratch shows the paper or the base, each a little off
            tone = rng.uniform(0.85, 1.0) if bright else rng.uniform(0.0, 0.15)
            a = alpha[..., None]
            arr[sl] = arr[sl] * (1 - a) + tone * a
            drawn_kind[sl][alpha > 0.05] = KINDS.index(_TRUTH_KIND[kind]) + 1
    changed = np.abs(_luma(arr) - _luma(clean)) >= VISIBLE
    truth = {k: changed & (drawn_kind == i + 1) for i, k in enumerate(KINDS)}
    return Damaged(from_float(arr, pixels), truth)


# --- the print around the damage --------------------------------------------------------------------

# Sepia as the classic tone matrix (rows give R, G, B out of R, G, B in).
_SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def _age(arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A print's look before it was damaged: colour, gray or sepia; faded towards its paper; a little soft."""
    if arr.shape[2] == 3:
        u = rng.random()
        if u < 0.35:
            arr = np.repeat(_luma(arr)[..., None], 3, 2)
        elif u < 0.6:
            strength = rng.uniform(0.5, 1.0)
            arr = (1 - strength) * arr + strength * np.clip(arr @ _SEPIA.T, 0, 1)
    if rng.random() < 0.6:
        fade = rng.uniform(0.05, 0.4)
        arr = arr * (1 - fade) + np.float32(rng.uniform(0.55, 0.9)) * fade
    if rng.random() < 0.5:
        arr = cv2.GaussianBlur(arr, (0, 0), rng.uniform(0.3, 1.2)).reshape(arr.shape)
    return np.ascontiguousarray(arr, np.float32)


def _finish(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What the scan adds over print and damage alike: grain, and for 8-bit photos JPEG artefacts."""
    pixels = add_grain(pixels, rng, rng.uniform(0.003, 0.03), rng.uniform(0.4, 1.0))
    if pixels.dtype == np.uint8 and rng.random() < 0.5:
        rgb = pixels.ndim == 3 and pixels.shape[2] == 3
        # OpenCV's JPEG takes BGR: flip the channels around this one call
        ok, buf = cv2.imencode(".jpg", pixels[..., ::-1] if rgb else pixels,
                               [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 96))])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
        if out is not None:
            pixels = np.ascontiguousarray(out[..., ::-1] if rgb else out).reshape(pixels.shape)
    return pixels


def damaged_print(pixels: np.ndarray, rng: np.random.Generator, counts: DamageCounts | None = DamageCounts()) -> Damaged:
    """A clean photo made to look like an old print (tone, fading, softness), damaged (``counts``;
    None = left clean), then grain and JPEG over it all. The truth is what the damage changed."""
    aged = from_float(_age(to_float(pixels), rng), pixels)
    if counts is None:
        damaged = Damaged(aged, {k: np.zeros(aged.shape[:2], bool) for k in KINDS})
    else:
        damaged = render_damage(aged, rng, counts)
    return Damaged(_finish(damaged.pixels, rng), damaged.truth)
