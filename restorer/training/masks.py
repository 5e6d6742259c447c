"""Training masks made on the fly: the kinds of damage old photos have, mixed, with a spread of hole ratios.

A mask is float32 H x W with 1.0 = hole. Every draw takes a numpy Generator, so a sample's mask
depends only on the seed it was given (reproducible runs, exact resume, any number of workers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

# Kinds of damage and how often each leads a mask. Brush strokes and the irregular masks are the
# ones the validation buckets resemble; scratches, dust and torn corners are what old prints show.
KINDS: dict[str, float] = {
    "brush": 0.30,
    "file": 0.25,
    "blotch": 0.12,
    "scratch": 0.12,
    "crack": 0.08,
    "dust": 0.06,
    "corner": 0.07,
}
MIN_RATIO = 0.01
MAX_RATIO = 0.60


def hole_ratio(mask: np.ndarray) -> float:
    return float((mask > 0.5).mean())


# --- the individual kinds: each draws into ``canvas`` (uint8, 255 = hole) in place -------------


def draw_brush(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Free-form strokes (Yu et al. 2019 / EdgeConnect): a random walk of thick line segments."""
    h, w = canvas.shape
    side = min(h, w)
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    width = int(rng.uniform(0.03, 0.12) * side) + 2
    angle = rng.uniform(0, 2 * math.pi)
    for _ in range(int(rng.integers(3, 9))):
        angle += rng.uniform(-1.2, 1.2)
        length = rng.uniform(0.08, 0.3) * side
        nx = float(np.clip(x + length * math.cos(angle), 0, w - 1))
        ny = float(np.clip(y + length * math.sin(angle), 0, h - 1))
        cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 255, width, cv2.LINE_AA)
        cv2.circle(canvas, (int(nx), int(ny)), width // 2, 255, -1, cv2.LINE_AA)
        x, y = nx, ny


def draw_scratch(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Thin long scratches: gently curving lines 1-3 px wide running across much of the picture."""
    h, w = canvas.shape
    side = min(h, w)
    width = int(rng.integers(1, max(2, side // 64) + 2))
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, 2 * math.pi)
    bend = rng.uniform(-0.15, 0.15)
    pts = [(x, y)]
    for _ in range(int(rng.integers(6, 16))):
        angle += bend + rng.normal(0, 0.05)
        x += math.cos(angle) * side * 0.08
        y += math.sin(angle) * side * 0.08
        pts.append((x, y))
    cv2.polylines(canvas, [np.array(pts, np.int32)], False, 255, width, cv2.LINE_AA)


def draw_crack(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Cracks in emulsion: a jagged random walk that sometimes branches."""
    h, w = canvas.shape
    side = min(h, w)
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    angle = rng.uniform(0, 2 * math.pi)
    width = int(rng.integers(1, 3))
    pts = [(x, y)]
    for _ in range(int(rng.integers(10, 30))):
        angle += rng.normal(0, 0.5)
        step = rng.uniform(0.02, 0.05) * side
        x += math.cos(angle) * step
        y += math.sin(angle) * step
        pts.append((x, y))
        if rng.random() < 0.08:
            # A short side branch starting where the crack is now.
            bx, by, ba = x, y, angle + rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.2)
            branch = [(bx, by)]
            for _ in range(int(rng.integers(3, 10))):
                ba += rng.normal(0, 0.5)
                bx += math.cos(ba) * step
                by += math.sin(ba) * step
                branch.append((bx, by))
            cv2.polylines(canvas, [np.array(branch, np.int32)], False, 255, 1, cv2.LINE_AA)
    cv2.polylines(canvas, [np.array(pts, np.int32)], False, 255, width, cv2.LINE_AA)


def draw_dust(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Dust specks and hairs: many tiny dots, a few short curved fibres."""
    h, w = canvas.shape
    side = min(h, w)
    n = max(5, int(rng.integers(20, 120) * h * w / 512**2))
    xs = rng.integers(0, w, n)
    ys = rng.integers(0, h, n)
    radii = np.maximum(1, (rng.pareto(3.0, n) * side / 200 + 0.5)).astype(int)
    for x, y, r in zip(xs, ys, radii):
        cv2.circle(canvas, (int(x), int(y)), int(min(r, side // 20 + 1)), 255, -1, cv2.LINE_AA)
    for _ in range(int(rng.integers(0, 5))):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        ax = rng.uniform(0.01, 0.05) * side
        cv2.ellipse(canvas, (int(cx), int(cy)), (int(ax) + 1, int(ax * rng.uniform(0.2, 1)) + 1),
                    float(rng.uniform(0, 360)), 0, float(rng.uniform(90, 270)), 255, 1, cv2.LINE_AA)


def draw_blotch(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Stains and water damage: a blob with a ragged outline (thresholded smooth noise in an ellipse)."""
    h, w = canvas.shape
    side = min(h, w)
    r = rng.uniform(0.05, 0.3) * side
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, math.pi)
    dx, dy = xx - cx, yy - cy
    u = (dx * math.cos(ang) + dy * math.sin(ang)) / r
    v = (-dx * math.sin(ang) + dy * math.cos(ang)) / (r * rng.uniform(0.4, 1.0))
    dist = np.sqrt(u * u + v * v)
    coarse = rng.normal(0, 1, (max(2, h // 16), max(2, w // 16))).astype(np.float32)
    noise = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    canvas[dist + 0.25 * noise < 1.0] = 255


def draw_corner(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """A torn or missing corner or edge piece: a jagged polygon anchored at the border."""
    h, w = canvas.shape
    side = min(h, w)
    corner = int(rng.integers(0, 4))
    cx, cy = [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)][corner]
    depth_a = rng.uniform(0.15, 0.6) * side
    depth_b = rng.uniform(0.15, 0.6) * side
    sx = 1 if cx == 0 else -1
    sy = 1 if cy == 0 else -1
    # A jagged tear line from one border to the other.
    n = int(rng.integers(6, 14))
    pts = [(cx, cy), (cx + sx * depth_a, cy)]
    for i in range(1, n):
        t = i / n
        jx = rng.normal(0, 0.04) * side
        jy = rng.normal(0, 0.04) * side
        pts.append((cx + sx * depth_a * (1 - t) + jx, cy + sy * depth_b * t + jy))
    pts.append((cx, cy + sy * depth_b))
    cv2.fillPoly(canvas, [np.array(pts, np.int32)], 255, cv2.LINE_AA)


_DRAW = {
    "brush": draw_brush,
    "scratch": draw_scratch,
    "crack": draw_crack,
    "dust": draw_dust,
    "blotch": draw_blotch,
    "corner": draw_corner,
}


# --- irregular masks from files -----------------------------------------------------------------


def list_mask_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.png") if p.is_file())


def bucket_of(path: Path) -> tuple[float, float] | None:
    """The hole-ratio range of a mask from a ``ratio_A-B`` folder in its path (percent -> fraction)."""
    for part in path.parts:
        if part.startswith("ratio_"):
            try:
                lo, hi = part[len("ratio_"):].split("-")
                return int(lo) / 100, int(hi) / 100
            except ValueError:
                return None
    return None


def augment_file_mask(path: Path, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A file mask (255 = hole) randomly flipped/rotated/cropped and resized to ``size`` (h, w)."""
    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise OSError(f"cannot read mask {path}")
    m = np.rot90(m, int(rng.integers(0, 4)))
    if rng.random() < 0.5:
        m = m[:, ::-1]
    mh, mw = m.shape
    # A random crop of 60-100 % of the side adds variety in scale without changing the ratio much.
    f = rng.uniform(0.6, 1.0)
    ch, cw = max(1, int(mh * f)), max(1, int(mw * f))
    y0 = int(rng.integers(0, mh - ch + 1))
    x0 = int(rng.integers(0, mw - cw + 1))
    m = np.ascontiguousarray(m[y0:y0 + ch, x0:x0 + cw])
    m = cv2.resize(m, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    return np.where(m > 127, 255, 0).astype(np.uint8)


@dataclass
class MaskGenerator:
    """Draws mixed damage masks with a hole ratio spread roughly uniformly over [min_ratio, max_ratio].

    ``kinds`` weights the leading kind of damage; other kinds are added on top until the target
    ratio is met, so a sample may hold a tear plus scratches plus dust, as real prints do.
    """

    mask_dir: Path | None = None
    kinds: dict[str, float] = field(default_factory=lambda: dict(KINDS))
    min_ratio: float = MIN_RATIO
    max_ratio: float = MAX_RATIO

    def __post_init__(self) -> None:
        self._files = list_mask_files(Path(self.mask_dir)) if self.mask_dir else []
        # Files sorted into their ratio buckets, so that a file mask also follows the target ratio.
        self._buckets: dict[tuple[float, float], list[Path]] = {}
        for p in self._files:
            b = bucket_of(p)
            if b is not None:
                self._buckets.setdefault(b, []).append(p)
        if not self._files:
            self.kinds = {k: v for k, v in self.kinds.items() if k != "file"}
        total = sum(self.kinds.values())
        self._names = list(self.kinds)
        self._probs = np.array([self.kinds[k] / total for k in self._names])

    def __call__(self, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        mask, _ = self.draw(size, rng)
        return mask

    def draw(self, size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """One mask (float32 H x W, 1 = hole) and the name of its leading kind."""
        h, w = size
        target = float(rng.uniform(self.min_ratio, self.max_ratio))
        lead = str(self._names[int(rng.choice(len(self._names), p=self._probs))])
        canvas = np.zeros((h, w), np.uint8)
        if lead == "file":
            pool = next((v for (lo, hi), v in self._buckets.items() if lo <= target < hi), self._files)
            canvas = augment_file_mask(pool[int(rng.integers(len(pool)))], (h, w), rng)
        else:
            _DRAW[lead](canvas, rng)
        # Grow towards the target with a mix of kinds; thin kinds alone rarely reach large ratios.
        fillers = ["brush", "blotch", "brush", "scratch", "dust", "crack"]
        for i in range(40):
            if hole_ratio(canvas) >= target:
                break
            kind = lead if (lead in _DRAW and i < 6 and rng.random() < 0.7) else str(rng.choice(fillers))
            _DRAW[kind](canvas, rng)
        mask = (canvas > 127).astype(np.float32)
        if mask.sum() == 0:  # a tiny canvas can miss: always leave at least one hole pixel
            mask[int(rng.integers(h)), int(rng.integers(w))] = 1.0
        # Big overshoots (one huge blotch) are cut back by erasing with strokes, keeping the spread.
        if hole_ratio(mask) > self.max_ratio + 0.05:
            keep = np.zeros((h, w), np.uint8)
            for _ in range(60):
                draw_brush(keep, rng)
                if (mask * (keep == 0)).mean() <= self.max_ratio:
                    break
            mask = mask * (keep == 0)
        return mask, lead
