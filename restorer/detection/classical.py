"""The classical detector: morphology and oriented line filters find scratches, dust and cracks without weights.

How one tile is read (gray float32 in [0, 1]):

1. *Residuals.* A white top-hat (photo minus its opening) keeps bright details narrower than
   ``SIZE`` px; a black-hat keeps dark ones. Edges and smooth shading leave almost nothing.
2. *Contrast over texture.* Each residual is divided by the local level of residuals: a robust
   (median of block means) measure over about 40 x 40 px. Grain, foliage or fabric raise the level,
   so their details score low; a speck on smooth sky scores high. The result ``z`` is contrast in
   units of the local texture.
3. *Lines.* At half resolution (which keeps the signal-to-noise of thin lines) ``z`` is averaged
   along short and long oriented lines. A line scores where one orientation stands out of the mean
   of all: a speck or a texture blob is the same in every direction and scores nothing.
   Long straight lines are scratches; short-line support along winding paths is cracks and hairs.
4. *Shapes.* Connected components decide: compact blobs of high ``z`` are dust; line pixels must
   form components long enough to be a line; big blobs are the photo, not damage.

Every kind comes out as a probability map: a logistic of its evidence, so the threshold a user
moves trades misses against false alarms smoothly.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SIZE = 11  # top-hat window (px): details narrower than this are candidates
MARGIN = 48  # context a tile needs on each side for its core to match a whole-photo run
LEVEL_FLOOR = 0.002  # least residual level (0..1): flat, noiseless areas need real contrast
BLOCK = 8
EDGE_SIGMA = 4.0  # px: the blur that measures the step across a pixel
EDGE_RATIO = 1.5  # step / own contrast above which a pixel is an edge's rim, not damage
SMOOTH = 0.7  # px: grain is finer than any damage worth finding

LONG, SHORT = 21, 9  # line lengths at half resolution (42 and 18 px of the photo)
N_LONG, N_SHORT = 12, 8  # orientations

DUST_SEED = 3.0  # smoothed contrast of a speck's pixels
DUST_PEAK = 7.0  # a speck's peak contrast at which it is even odds (for a 6-pixel speck)
Z_CLIP = 6.0  # one very bright speck must not make a line of its own
EXTENT_Z = 2.0  # smoothed contrast from which a pixel can belong to a line
REACH = 31  # px: a line grows at most about half this far from where its support is strong
T_LONG, S_LONG = 1.5, 0.3  # logistic of the long-line score: centre and softness
T_SHORT, S_SHORT = 2.2, 0.35
MAX_WIDTH = 10  # px: a line component's area over its length
EXTEND = 0.7  # a line extends over pixels whose one-sided score reaches this share of the seed threshold
BEND = 0.035  # a scratch's spread across over its length (a gentle curve; an object's rim bends more)


HalfKernel = tuple[np.ndarray, tuple[int, int]]  # kernel, anchor (x, y)


def _half_lines(length: int, count: int) -> list[tuple[HalfKernel, HalfKernel]]:
    """Per orientation, the two anti-aliased half segments from the centre outwards (each normalised),
    cropped to their box with the anchor on the centre, so filter2D only pays for the half it needs."""
    r = length // 2
    out = []
    for i in range(count):
        angle = math.pi * i / count
        pair = []
        for sign in (1, -1):
            big = np.zeros((length * 8, length * 8), np.uint8)
            c = length * 4 + 4  # centre of the centre pixel at 8x
            end = (int(c + sign * math.cos(angle) * r * 8), int(c + sign * math.sin(angle) * r * 8))
            cv2.line(big, (c, c), end, 255, 8, cv2.LINE_AA)
            k = cv2.resize(big.astype(np.float32), (length, length), interpolation=cv2.INTER_AREA)
            k[k < k.max() * 0.05] = 0
            ys, xs = np.nonzero(k)
            y0, x0 = int(ys.min()), int(xs.min())
            crop = np.ascontiguousarray(k[y0:int(ys.max()) + 1, x0:int(xs.max()) + 1])
            pair.append((crop / crop.sum(), (length // 2 - x0, length // 2 - y0)))
        out.append((pair[0], pair[1]))
    return out


_KERNELS: dict[tuple[int, int], list[tuple[HalfKernel, HalfKernel]]] = {}


def _kernels(length: int, count: int) -> list[tuple[HalfKernel, HalfKernel]]:
    if (length, count) not in _KERNELS:
        _KERNELS[(length, count)] = _half_lines(length, count)
    return _KERNELS[(length, count)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 + 0.5 * np.tanh(0.5 * x)).astype(np.float32)


def _block_median(a: np.ndarray) -> np.ndarray:
    """Robust local typical value of ``a``: median over 5 x 5 blocks of its 8 x 8 block means, upsampled."""
    h, w = a.shape
    bh, bw = max(1, h // BLOCK), max(1, w // BLOCK)
    small = cv2.resize(a, (bw, bh), interpolation=cv2.INTER_AREA)
    if min(bh, bw) >= 5:
        small = cv2.medianBlur(small, 5)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def standardise(residual: np.ndarray) -> np.ndarray:
    """(residual - local median) / local robust spread: contrast in units of the local texture and grain."""
    centre = _block_median(residual)
    dev = residual - centre
    spread = _block_median(np.abs(dev)) * 1.25  # mean absolute deviation -> std for Gaussian grain
    return dev / np.maximum(spread, LEVEL_FLOOR)


def residuals(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bright z, dark z, bright edge ratio, dark edge ratio) of a tile.

    z: top-hat and black-hat of the lightly smoothed tile, standardised locally. Edge ratio: the
    step the photo makes across a pixel (gradient of a strong blur, scaled to a step height) over the
    pixel's own contrast. A scratch sits on one tone on both sides (ratio well below 1); the bright
    rim or dark fringe along an object's edge sits on a step much larger than itself.
    """
    smooth = cv2.GaussianBlur(gray, (0, 0), SMOOTH)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (SIZE, SIZE))
    bright = cv2.morphologyEx(smooth, cv2.MORPH_TOPHAT, kernel)
    dark = cv2.morphologyEx(smooth, cv2.MORPH_BLACKHAT, kernel)
    # The step is measured on the photo without its thin details (the opening for bright ones, the
    # closing for dark ones), so a wide scratch's own flanks do not count as an edge.
    edge_b = _step(smooth - bright) / np.maximum(bright, 1e-4)
    edge_d = _step(smooth + dark) / np.maximum(dark, 1e-4)
    return standardise(bright), standardise(dark), edge_b, edge_d


def _step(background: np.ndarray) -> np.ndarray:
    """The height of the step ``background`` makes at each pixel (gradient of a strong blur, at half resolution)."""
    blurred = cv2.GaussianBlur(_half(background), (0, 0), EDGE_SIGMA / 2)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    # Sobel sums 8 x the per-pixel slope (per half-res pixel, i.e. 2 photo px); a step s blurred by
    # sigma has slope s / (sigma * sqrt(2 pi)) at its centre.
    return _full(cv2.magnitude(gx, gy), background.shape) * np.float32(EDGE_SIGMA * math.sqrt(2 * math.pi) / 16)


def _half(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    return cv2.resize(a, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)


def _full(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.resize(a, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def line_scores(z_half: np.ndarray, length: int, count: int,
                crossing: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(two-sided, one-sided, crossing) line scores: how much the best orientation's support stands
    out of the mean over all orientations; crossing: the same for the best orientation at least
    45 degrees away from the best (high where two lines cross).

    Two-sided support is the smaller of the two half-line means from the pixel outwards: a line
    runs through the pixel on both sides, while a speck nearby lies on one side only. One-sided
    support (the larger half) also holds at a line's ends; it only extends lines found two-sided.
    """
    zc = np.clip(z_half, 0, Z_CLIP)
    per_angle = []
    both = np.full_like(zc, -1.0)
    one = np.zeros_like(zc)
    best_at = np.zeros(zc.shape, np.int16)
    total_both = np.zeros_like(zc)
    total_one = np.zeros_like(zc)
    for i, ((ka, aa), (kb, ab)) in enumerate(_kernels(length, count)):
        a = cv2.filter2D(zc, -1, ka, anchor=aa, borderType=cv2.BORDER_REFLECT)
        b = cv2.filter2D(zc, -1, kb, anchor=ab, borderType=cv2.BORDER_REFLECT)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        better = lo > both
        both[better] = lo[better]
        best_at[better] = i
        total_both += lo
        total_one += hi
        np.maximum(one, hi, out=one)
        if crossing:
            per_angle.append(lo)
    mean = total_both / count
    cross = None
    if crossing:
        cross = np.zeros_like(zc)
        for i, lo in enumerate(per_angle):
            # angular distance (in steps, modulo 180 degrees) from this orientation to the best one
            d = np.abs(best_at - i)
            far = np.minimum(d, count - d) >= count // 4
            np.maximum(cross, np.where(far, lo, 0), out=cross)
        cross -= mean
    return both - mean, one - total_one / count, cross


def _components(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    return n, labels, stats


def dust(z: np.ndarray) -> np.ndarray:
    """Compact specks: blobs of high smoothed contrast, at most ~12 px across, not elongated."""
    zs = cv2.GaussianBlur(z, (0, 0), 0.8)
    seed = zs > DUST_SEED
    n, labels, stats = _components(seed)
    if n <= 1:
        return np.zeros_like(z)
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, labels[seed], zs[seed])
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    long_side = np.maximum(w, h)
    compact = (long_side <= 14) & (np.minimum(w, h) * 3 >= long_side) & (area >= 2)
    # evidence: peak contrast in texture units; big specks are more surely dust than 2-pixel ones
    conf = _sigmoid((peak - DUST_PEAK) / 1.2 + np.log(np.maximum(area, 1) / 6.0) * 0.6)
    conf[0] = 0
    conf[~compact] = 0
    per_pixel = _sigmoid((zs - DUST_SEED) / 0.6)
    return np.minimum(conf[labels], per_pixel)


def _shape(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per component: (length along its main axis, spread across it), from second moments.

    For a straight line of length L and width w these are about L and w / sqrt(12); an arc or a
    winding curve has a large spread across for its length.
    """
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    count = np.maximum(np.bincount(lab, minlength=n), 1).astype(np.float64)
    mx, my = np.bincount(lab, xs, n) / count, np.bincount(lab, ys, n) / count
    dx, dy = xs - mx[lab], ys - my[lab]
    sxx = np.bincount(lab, dx * dx, n) / count
    syy = np.bincount(lab, dy * dy, n) / count
    sxy = np.bincount(lab, dx * dy, n) / count
    half_trace = (sxx + syy) / 2
    root = np.sqrt(np.maximum(half_trace**2 - (sxx * syy - sxy**2), 0))
    major, minor = half_trace + root, np.maximum(half_trace - root, 0)
    return np.sqrt(12 * major), np.sqrt(minor)


def _grow_from_seeds(score: np.ndarray, seeds: np.ndarray, extent: np.ndarray, t: float, soft: float,
                     min_len: int, straight: bool, junctions: np.ndarray | None = None) -> np.ndarray:
    """Probability per pixel of line components: the pixels of ``extent`` connected to a seed and
    within reach of one, whose component is at least ``min_len`` px long and thin (and, if
    ``straight``, close to a straight line). A component's probability is a logistic of its mean
    line ``score`` and its length: long, steady lines are surest, and a line's ends, where the
    two-sided score fades, keep their line's probability."""
    if not seeds.any():
        return np.zeros(score.shape, np.float32)
    near = cv2.dilate(seeds.view(np.uint8), np.ones((REACH, REACH), np.uint8))  # a square: separable, fast
    region = (extent & near.view(np.bool_)) | seeds
    if junctions is not None:
        # Cut lines apart where they cross, so each is judged straight on its own.
        region &= ~junctions
        seeds = seeds & ~junctions
    n, labels, stats = _components(region)
    has_seed = np.zeros(n, bool)
    has_seed[labels[seeds]] = True
    area = stats[:, 4]
    mean = np.bincount(labels.ravel(), score.ravel(), n) / np.maximum(area, 1)
    length, across = _shape(labels, n)
    conf = _sigmoid((mean - t) / soft + np.log(np.maximum(length, 1) / min_len))
    keep = has_seed & (length >= min_len) & (area <= length * MAX_WIDTH)
    if straight:
        keep &= across <= np.maximum(2.0, length * BEND)
    keep[0] = False
    conf[~keep] = 0
    out = conf[labels]
    if junctions is not None:
        # a crossing takes the probability of the lines that meet there
        spread = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
        at = junctions & extent
        out[at] = spread[at]
    return out


def lines(z_bright: np.ndarray, z_dark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scratches, cracks) probabilities: long straight line support, and short winding line support."""
    shape = z_bright.shape
    scratch = np.zeros(shape, np.float32)
    crack = np.zeros(shape, np.float32)
    for z in (z_bright, z_dark):
        zh = _half(z)
        on = cv2.GaussianBlur(z, (0, 0), 0.7) > EXTENT_Z  # the pixel itself stands out of its texture
        found = []
        for length, count, t, soft, min_len, straight in ((LONG, N_LONG, T_LONG, S_LONG, 40, True),
                                                          (SHORT, N_SHORT, T_SHORT, S_SHORT, 20, False)):
            both_h, one_h, cross_h = line_scores(zh, length, count, crossing=straight)
            both, one = _full(both_h, shape), _full(one_h, shape)
            seeds = on & (both > t)
            extent = on & (one > t * EXTEND)
            junctions = None
            if straight:
                assert cross_h is not None
                cross = _full(cross_h, shape)
                junctions = cv2.dilate((cross > t * EXTEND).view(np.uint8), np.ones((11, 11), np.uint8)).view(np.bool_)
            found.append(_grow_from_seeds(both, seeds, extent, t * EXTEND, soft, min_len, straight, junctions))
        long_p, short_p = found
        scratch = np.maximum(scratch, long_p)
        crack = np.maximum(crack, np.where(long_p > 0, 0, short_p))
    return scratch, crack


def detect_tile(gray: np.ndarray) -> dict[str, np.ndarray]:
    """Per-kind probability (float32 0..1) for one gray float32 tile (with ``MARGIN`` px of context)."""
    zb, zd, eb, ed = residuals(gray)
    zb[eb > EDGE_RATIO] = 0
    zd[ed > EDGE_RATIO] = 0
    scratch, crack = lines(zb, zd)
    speck = np.maximum(dust(zb), dust(zd))
    # a pixel on a line is not also a speck
    speck[np.maximum(scratch, crack) > 0.3] = 0
    return {"scratches": scratch, "dust": speck, "cracks": crack}


class ClassicalDetector:
    """Needs no weights; thread-safe (no state)."""

    name = "classical"
    margin = MARGIN
    kinds = ("scratches", "dust", "cracks")

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        return detect_tile(gray)


def build(spec: object, weights: object = None) -> ClassicalDetector:
    return ClassicalDetector()
