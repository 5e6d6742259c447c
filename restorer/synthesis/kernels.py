"""The hot loops of patch synthesis, compiled by numba: PatchMatch search and voting.

Why numba: the nearest-neighbour field search is a data-dependent scanline loop (propagation reads
the neighbour just updated, random search stops early) that vectorised numpy cannot express without
losing PatchMatch's whole point; numba compiles the plain loops to machine code, installs from PyPI
with wheels for every platform we ship and needs no C extension of ours. ``cache=True`` keeps the
compiled code on disk, so only the first fill after an install pays for compiling.

Arrays: ``feat`` float32 H x W x C (padded by the patch radius on every side, so every centre's
patch lies inside it); ``valid`` bool H x W: centres whose whole patch is known and may be copied;
``targets`` int32 K x 2: the centres whose patches touch the hole, in raster order; ``nnf`` int32
K x 2 (source centre per target), ``cost`` float32 K.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_BIG = np.float32(3.0e38)


@njit(cache=True, nogil=True)
def _patch_cost(feat, ty, tx, sy, sx, r, limit):
    """Sum of squared differences of two (2r+1)^2 patches over all channels; stops past ``limit``."""
    total = np.float32(0.0)
    chans = feat.shape[2]
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            a = feat[ty + dy, tx + dx]
            b = feat[sy + dy, sx + dx]
            for c in range(chans):
                d = a[c] - b[c]
                total += d * d
        if total > limit:
            return total
    return total


@njit(cache=True, nogil=True)
def nnf_costs(feat, targets, nnf, r):
    """The cost of every target's current match (after the target's own pixels changed)."""
    k = targets.shape[0]
    cost = np.empty(k, np.float32)
    for i in range(k):
        cost[i] = _patch_cost(feat, targets[i, 0], targets[i, 1], nnf[i, 0], nnf[i, 1], r, _BIG)
    return cost


@njit(cache=True, nogil=True, inline="always")
def _next(state):
    """xorshift64: a per-band random stream, so results do not depend on thread scheduling."""
    state ^= (state << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    state ^= state >> np.uint64(7)
    state ^= (state << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return state


@njit(cache=True, nogil=True)
def _sweep(feat, valid, targets, index, nnf, cost, r, lo, hi, step, state):
    """One scanline sweep over targets[lo:hi] (forward when ``step`` is 1): propagation from the
    neighbours already visited, then random search in shrinking windows around the best match."""
    h, w = valid.shape
    reach = max(h, w)
    start, stop = (lo, hi) if step == 1 else (hi - 1, lo - 1)
    for i in range(start, stop, step):
        ty, tx = targets[i, 0], targets[i, 1]
        by, bx, best = nnf[i, 0], nnf[i, 1], cost[i]
        for n in range(2):
            ny = ty - step if n == 0 else ty
            nx = tx if n == 0 else tx - step
            j = index[ny, nx]
            if j < 0:
                continue
            cy = nnf[j, 0] + (ty - ny)
            cx = nnf[j, 1] + (tx - nx)
            if cy < 0 or cx < 0 or cy >= h or cx >= w or not valid[cy, cx] or (cy == by and cx == bx):
                continue
            c = _patch_cost(feat, ty, tx, cy, cx, r, best)
            if c < best:
                by, bx, best = cy, cx, c
        rad = reach
        while rad >= 1:
            state = _next(state)
            cy = by + np.int64(state % np.uint64(2 * rad + 1)) - rad
            state = _next(state)
            cx = bx + np.int64(state % np.uint64(2 * rad + 1)) - rad
            if 0 <= cy < h and 0 <= cx < w and valid[cy, cx]:
                c = _patch_cost(feat, ty, tx, cy, cx, r, best)
                if c < best:
                    by, bx, best = cy, cx, c
            rad //= 2
        nnf[i, 0], nnf[i, 1], cost[i] = by, bx, best
    return state


@njit(cache=True, nogil=True, parallel=True)
def patchmatch(feat, valid, targets, index, nnf, cost, r, passes, seed, bounds):
    """Improve ``nnf``/``cost`` in place: ``passes`` alternating scanline sweeps of propagation and
    random search (Barnes et al. 2009). ``index`` H x W int32 maps a centre to its target row (-1 if none).

    Targets are cut into row bands (``bounds``: band starts, then the end); even bands run in
    parallel, then odd ones, so a band only reads neighbours that are not changing: the result is
    the same on any number of threads, and the same for a seed.
    """
    nb = bounds.shape[0] - 1
    states = np.empty(nb, np.uint64)
    for b in range(nb):
        states[b] = np.uint64(seed) * np.uint64(2654435761) + np.uint64(b * 97 + 1)
    for p in range(passes):
        step = 1 if p % 2 == 0 else -1
        for phase in range(2):
            for k in prange((nb - phase + 1) // 2):
                b = 2 * k + phase
                states[b] = _sweep(feat, valid, targets, index, nnf, cost, r, bounds[b], bounds[b + 1],
                                   step, states[b])


@njit(cache=True, nogil=True, parallel=True)
def vote(image, pixels, index, nnf, cost, weights, r, best_only):
    """New values of the hole pixels from every target patch that covers them (Wexler et al. 2007).

    ``image`` H x W x C (padded like ``feat``) is what is copied; ``pixels`` int32 P x 2 are the hole
    pixels to vote (padded coordinates); ``weights`` (K) are each target's similarity weight in the mean
    vote (``vote_weights``: one exp per target, not one per pixel it covers). ``best_only``: each pixel
    takes its value from the single best-matching patch that covers it instead of the weighted mean,
    so the copied grain is not averaged away (``weights`` is then unused). Returns P x C.
    """
    h, w, chans = image.shape
    n = pixels.shape[0]
    out = np.zeros((n, chans), np.float32)
    for i in prange(n):
        y, x = pixels[i, 0], pixels[i, 1]
        weight = np.float32(0.0)
        best = _BIG
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                qy, qx = y - dy, x - dx
                if qy < 0 or qx < 0 or qy >= h or qx >= w:
                    continue
                j = index[qy, qx]
                if j < 0:
                    continue
                sy, sx = nnf[j, 0] + dy, nnf[j, 1] + dx
                if best_only:
                    if cost[j] < best:
                        best = cost[j]
                        for c in range(chans):
                            out[i, c] = image[sy, sx, c]
                        weight = np.float32(1.0)
                else:
                    wt = weights[j]
                    for c in range(chans):
                        out[i, c] += wt * image[sy, sx, c]
                    weight += wt
        if weight > 0:
            for c in range(chans):
                out[i, c] /= weight
        else:
            for c in range(chans):
                out[i, c] = image[y, x, c]
    return out


def vote_weights(cost: np.ndarray, sigma2: float) -> np.ndarray:
    """exp(-cost / sigma2) + 1e-12 per target, float32 (computed in float64 first, as it always was)."""
    return np.exp(-cost.astype(np.float64) / sigma2).astype(np.float32) + np.float32(1e-12)


@njit(cache=True, nogil=True)
def nonzero_coords(mask, offset):
    """(row, col) + ``offset`` of every True pixel of ``mask`` (bool H x W) in raster order, int32 N x 2:
    ``np.argwhere(mask) + offset`` without its int64 arrays (16 bytes per pixel found, twice)."""
    h, w = mask.shape
    n = 0
    for y in range(h):
        for x in range(w):
            if mask[y, x]:
                n += 1
    out = np.empty((n, 2), np.int32)
    k = 0
    for y in range(h):
        for x in range(w):
            if mask[y, x]:
                out[k, 0], out[k, 1] = y + offset, x + offset
                k += 1
    return out


@njit(cache=True, nogil=True)
def random_sources(valid_coords, k, seed):
    """``k`` source centres drawn uniformly from ``valid_coords`` (M x 2)."""
    np.random.seed(seed)
    out = np.empty((k, 2), np.int32)
    m = valid_coords.shape[0]
    for i in range(k):
        j = np.random.randint(0, m)
        out[i, 0], out[i, 1] = valid_coords[j, 0], valid_coords[j, 1]
    return out


@njit(cache=True, nogil=True)
def upsample_nnf(coarse_index, coarse_nnf, targets, valid, fallback, r):
    """A fine level's starting field from the coarse one (both padded by ``r``): each fine target takes
    its coarse parent's match doubled, plus its own offset; where that is no valid centre, ``fallback``."""
    k = targets.shape[0]
    h, w = valid.shape
    ch, cw = coarse_index.shape
    out = np.empty((k, 2), np.int32)
    for i in range(k):
        fy, fx = targets[i, 0] - r, targets[i, 1] - r  # unpadded fine coordinates
        py, px = min(fy // 2 + r, ch - 1), min(fx // 2 + r, cw - 1)
        j = coarse_index[py, px]
        ok = False
        if j >= 0:
            sy = 2 * (coarse_nnf[j, 0] - r) + (fy - 2 * (fy // 2)) + r
            sx = 2 * (coarse_nnf[j, 1] - r) + (fx - 2 * (fx // 2)) + r
            if 0 <= sy < h and 0 <= sx < w and valid[sy, sx]:
                out[i, 0], out[i, 1] = sy, sx
                ok = True
        if not ok:
            out[i, 0], out[i, 1] = fallback[i, 0], fallback[i, 1]
    return out
