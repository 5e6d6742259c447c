"""Texture measures of a fill, in numpy only: detail (Laplacian energy) and patch distance (sliced Wasserstein).

PSNR and SSIM reward blur, so the evaluation reports two texture measures beside them:

- ``detail_ratio``: std of the Laplacian of the gray output inside the hole (eroded by 1 px, so the
  seam with the known pixels is left out) over the same for the original. 1 = as detailed as the
  original, < 1 smoother, > 1 noisier. Added noise raises it, so it cannot rank fills alone.
- ``patch_distance``: sliced Wasserstein distance between the 7 x 7 patches of a Laplacian pyramid
  whose centres lie in the hole, output against original (Karras et al. 2018, "Progressive Growing
  of GANs", section 5). It compares distributions of local structure at every scale: a blur lacks
  the fine bands, white noise has the wrong patches, a rearranged copy of the true texture matches.
  Lower is better; 0 = the same patches.

Images are float H x W x C (C = 1 or 3) or H x W in [0, 1]; a hole is bool H x W, True = filled.
"""

from __future__ import annotations

import numpy as np

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # Rec. 601 luma
# Below this the original has no detail inside the hole worth a ratio (a flat or clipped area):
# 8-bit quantisation alone gives about 0.005.
DETAIL_FLOOR = 1e-3
# Band scales below one 8-bit step are floored so that a flat original does not blow up the distance.
SCALE_FLOOR = 1.0 / 255.0
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _hwc(img: np.ndarray) -> np.ndarray:
    x = np.asarray(img, np.float64)
    if x.ndim == 2:
        return x[..., None]
    if x.ndim != 3:
        raise ValueError(f"expected H x W or H x W x C, got shape {x.shape}")
    return x


def _check(output: np.ndarray, original: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = _hwc(output), _hwc(original)
    m = np.asarray(hole, bool)
    if a.shape != b.shape or m.shape != a.shape[:2]:
        raise ValueError(f"shapes differ: output {a.shape}, original {b.shape}, hole {m.shape}")
    return a, b, m


def gray(img: np.ndarray) -> np.ndarray:
    """H x W float64 luma of an H x W x 3 (or H x W x 1 / H x W) image."""
    x = _hwc(img)
    if x.shape[2] == 1:
        return x[..., 0]
    return x[..., :3] @ np.asarray(GRAY_WEIGHTS)


def laplacian(x: np.ndarray) -> np.ndarray:
    """4-neighbour Laplacian of an H x W array, mirrored at the border."""
    p = np.pad(np.asarray(x, np.float64), 1, mode="reflect" if min(np.shape(x)) > 1 else "edge")
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4.0 * p[1:-1, 1:-1]


def erode(mask: np.ndarray, px: int = 1) -> np.ndarray:
    """The mask shrunk by ``px`` pixels (3 x 3 square steps); the photo's border does not erode it."""
    m = np.asarray(mask, bool)
    for _ in range(px):
        p = np.pad(m, 1, mode="edge")
        h, w = m.shape
        m = np.logical_and.reduce([p[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])
    return m


def detail(img: np.ndarray, hole: np.ndarray) -> float:
    """Std of the Laplacian of the gray image inside the hole eroded by 1 px (nan if nothing is left)."""
    inner = erode(hole, 1)
    if not inner.any():
        return float("nan")
    return float(laplacian(gray(img))[inner].std())


def detail_ratio(output: np.ndarray, original: np.ndarray, hole: np.ndarray, floor: float = DETAIL_FLOOR) -> float:
    """detail(output) / detail(original) in the hole; nan when the original has (about) no detail there."""
    _check(output, original, hole)
    ref = detail(original, hole)
    if not ref >= floor:  # also nan
        return float("nan")
    return detail(output, hole) / ref


def _blur(x: np.ndarray) -> np.ndarray:
    """Separable 5-tap binomial blur of H x W x C, mirrored at the border."""
    mode = "reflect" if min(x.shape[:2]) > 2 else "symmetric"
    h, w = x.shape[:2]
    p = np.pad(x, ((2, 2), (0, 0), (0, 0)), mode=mode)
    y = sum(k * p[i:i + h] for i, k in enumerate(_BINOMIAL))
    p = np.pad(y, ((0, 0), (2, 2), (0, 0)), mode=mode)
    return sum(k * p[:, i:i + w] for i, k in enumerate(_BINOMIAL))


def _down(x: np.ndarray) -> np.ndarray:
    return _blur(x)[::2, ::2]


def _up(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    z = np.zeros((2 * x.shape[0], 2 * x.shape[1], x.shape[2]))
    z[::2, ::2] = x
    return 4.0 * _blur(z)[:shape[0], :shape[1]]


def laplacian_pyramid(img: np.ndarray, levels: int = 4) -> list[np.ndarray]:
    """Band-pass levels, finest first, each H_l x W_l x C; the last is the low-pass residual.

    Fewer levels come back when the image is too small to halve again (the coarsest keeps >= 4 px)."""
    x = _hwc(img)
    bands = []
    for _ in range(levels - 1):
        if min(x.shape[:2]) < 8:
            break
        low = _down(x)
        bands.append(x - _up(low, x.shape))
        x = low
    bands.append(x)
    return bands


def _pool_any(mask: np.ndarray) -> np.ndarray:
    """Half-size mask: a coarse pixel is in the hole when any of its 2 x 2 fine pixels is."""
    h, w = mask.shape
    p = np.pad(mask, ((0, h % 2), (0, w % 2)))
    return np.asarray(p.reshape(p.shape[0] // 2, 2, p.shape[1] // 2, 2).any(axis=(1, 3)))


def _patches(band: np.ndarray, ys: np.ndarray, xs: np.ndarray, size: int) -> np.ndarray:
    """n x (C * size * size) patches of ``band`` centred at (ys, xs), mirrored at the border."""
    r = size // 2
    mode = "reflect" if min(band.shape[:2]) > r else "symmetric"
    p = np.pad(band, ((r, r), (r, r), (0, 0)), mode=mode)
    win = np.lib.stride_tricks.sliding_window_view(p, (size, size), axis=(0, 1))  # H x W x C x s x s
    return win[ys, xs].reshape(len(ys), -1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """Mean over unit ``directions`` (D x K) of the 1-D Wasserstein-1 distance of the projected n x D sets."""
    if a.shape != b.shape:
        raise ValueError(f"patch sets differ in shape: {a.shape} vs {b.shape}")
    # K x n, so that each sort runs over contiguous memory.
    pa = np.sort(directions.T @ a.T, axis=1)
    pb = np.sort(directions.T @ b.T, axis=1)
    return float(np.mean(np.abs(pa - pb)))


def random_directions(dim: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` random unit vectors in R^dim as a dim x count array (the same for the same seed)."""
    d = np.random.default_rng(seed).standard_normal((dim, count))
    return d / np.linalg.norm(d, axis=0, keepdims=True)


def patch_distances(output: np.ndarray, original: np.ndarray, hole: np.ndarray, *, levels: int = 4, patch: int = 7,
                    max_patches: int = 2048, directions: int = 256, seed: int = 0) -> list[float]:
    """Per pyramid level (finest first) the sliced Wasserstein distance of the hole's patches.

    At each level the patches are those whose centre lies in the hole (a coarse pixel counts when
    its footprint touches it), at most ``max_patches`` of them drawn with ``seed`` - the same
    centres for output and original. Both sets are scaled by the original's per-channel std at
    that level (floored at SCALE_FLOOR), so every level weighs alike and a louder or quieter
    output costs in proportion to the original's texture. nan for a level without centres."""
    a, b, m = _check(output, original, hole)
    dirs = random_directions(a.shape[2] * patch * patch, directions, seed)
    out = []
    for level, (ba, bb) in enumerate(zip(laplacian_pyramid(a, levels), laplacian_pyramid(b, levels))):
        if level:
            m = _pool_any(m)
        ys, xs = np.nonzero(m)
        if len(ys) == 0:
            out.append(float("nan"))
            continue
        if len(ys) > max_patches:
            keep = np.sort(np.random.default_rng([seed, level]).choice(len(ys), max_patches, replace=False))
            ys, xs = ys[keep], xs[keep]
        pa, pb = _patches(ba, ys, xs, patch), _patches(bb, ys, xs, patch)
        c = a.shape[2]
        scale = np.maximum(pb.reshape(len(ys), c, -1).std(axis=(0, 2)), SCALE_FLOOR)
        scale = np.repeat(scale, patch * patch)
        out.append(sliced_wasserstein(pa / scale, pb / scale, dirs))
    return out


def patch_distance(output: np.ndarray, original: np.ndarray, hole: np.ndarray, *, levels: int = 4, patch: int = 7,
                   max_patches: int = 2048, directions: int = 256, seed: int = 0) -> float:
    """Mean over pyramid levels of ``patch_distances`` (nan for an empty hole). Lower is better."""
    d = [v for v in patch_distances(output, original, hole, levels=levels, patch=patch, max_patches=max_patches,
                                    directions=directions, seed=seed) if v == v]
    return float(np.mean(d)) if d else float("nan")
