"""Multi-scale patch completion: PatchMatch fields and EM voting, coarse to fine (Wexler et al. 2007).

``complete`` fills the hole of one float image with the image's own patches. It is a generator:
it yields ``(done, total)`` after every EM iteration, so a caller can report progress and stop
between iterations; the filled image is its return value. Only numpy, OpenCV and numba.

A *guide* (for example a learned model's fill, upscaled) steers the search: its low frequencies
are extra channels of every patch, so the copied patches follow the guide's structure and colour
while their detail is the photo's own. The first guess in the hole is the guide too.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import cv2
import numpy as np

from restorer.core.steps import drain
from restorer.errors import MaskError
from restorer.synthesis import kernels
from restorer.synthesis.compose import classical_guide, compose_into


@dataclass(frozen=True)
class Settings:
    patch: int = 7  # patch side (odd)
    coarse_side: int = 24  # the coarsest level's hole is about this thick (px)
    em_coarse: int = 4  # EM iterations at the coarsest level
    em_fine: int = 2  # at every finer level
    passes: int = 4  # PatchMatch sweeps per EM iteration
    # The full-resolution level costs most (4x the next) and starts from a good field: fewer rounds
    em_finest: int = 1
    passes_finest: int = 2
    # A hole of more than ``large_hole`` pixels at full resolution (0 = none is large) takes fewer sweeps:
    # ``passes_large`` per EM iteration, one at full resolution. At 2000 x 1500 its two finest levels
    # were nearly all of the time; at 512 px this lost 0.003-0.02 dB per bucket (README, "Texture").
    large_hole: int = 0
    passes_large: int = 2
    # A guided hole thin enough for one level (a scratch, a speck) starts from its guide, not from
    # random matches: 2 EM iterations did as well as 4 on the validation pairs' thin holes, and 1 cost
    # 0.04 dB more there (36.21 -> 36.17 on 42 thin holes) for half the time of a long scratch
    em_single: int = 1
    guide_weight: float = 2.0  # weight of the guide's low frequencies against the patch's own pixels
    final: str = "best"  # the last vote: "best" copies whole pixels (grain kept); "mean" averages
    sharpen: bool = True  # every EM iteration after a level's first votes "best" (the mean's blur would
    # pull the next search toward flat patches)
    # With a guide, the output keeps the guide's frequencies below ``lows`` (Gaussian sigma, px; 0 = off)
    # and takes only the band above it from the copied patches, scaled by ``gain``.
    lows: float = 0.0
    gain: float = 1.0
    # ``gain`` for a hole composed over ``thin_guide`` (too thin for a network: a scratch, a speck);
    # None = ``gain``. Grain that is not the original's costs PSNR wherever it is put, and a thin
    # hole's grain is all copied (README, "Texture").
    gain_thin: float | None = None
    guide_colour: bool = True  # False: take only the guide's brightness, the hue from the copied patches
    texture_colour: bool = True  # False: the copied band above ``lows`` in brightness only (compose.py)
    # With no guide given (a hole too thin for the network), steer and compose with this classical
    # fill instead ("navier-stokes", "telea"); None = no guide (plain patchmatch).
    thin_guide: str | None = None
    unguided_below: float = 12.0  # guided fills skip their network for holes at most this thick (px)
    seed: int = 0


class NothingToCopy(MaskError):
    """The allowed sampling area holds no patch that lies wholly in known pixels."""


def hole_thickness(hole: np.ndarray) -> float:
    """Twice the largest distance from a hole pixel to a known one."""
    if not hole.any():
        return 0.0
    if hole.all():
        return float(max(hole.shape))
    dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    return 2.0 * float(dist.max())


def level_count(hole: np.ndarray, settings: Settings) -> int:
    """How many times to halve: until the hole is about ``coarse_side`` thick, keeping a few patches of room."""
    thick = hole_thickness(hole)
    n = max(0, math.ceil(math.log2(max(thick, 1.0) / settings.coarse_side)))
    room = min(hole.shape)
    while n > 0 and room / 2 ** n < 3 * settings.patch:
        n -= 1
    return n


def _shrink(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Half size, averaging only known pixels (hole pixels must not bleed into the context)."""
    h, w = (image.shape[0] + 1) // 2, (image.shape[1] + 1) // 2
    wk = cv2.resize(known.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    num = cv2.resize(image * known[..., None], (w, h), interpolation=cv2.INTER_AREA)
    if num.ndim == 2:
        num = num[..., None]
    return num / np.maximum(wk, 1e-6)[..., None]


def _shrink_mask(mask: np.ndarray, any_: bool) -> np.ndarray:
    h, w = (mask.shape[0] + 1) // 2, (mask.shape[1] + 1) // 2
    small = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    return small > 0.0 if any_ else small > 0.999


def _first_guess(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A smooth fill to start the coarsest level from when there is no guide (Telea per channel)."""
    return classical_guide(image, hole, "telea")


def _pad(arr: np.ndarray, r: int) -> np.ndarray:
    widths = ((r, r), (r, r)) + ((0, 0),) * (arr.ndim - 2)
    return np.pad(arr, widths, mode="reflect" if min(arr.shape[:2]) > r else "edge")


def _pad_into(arr: np.ndarray, r: int) -> None:
    """Fill the ``r``-px border of ``arr`` from its inside, as ``_pad`` would have padded the inside."""
    h, w = arr.shape[0] - 2 * r, arr.shape[1] - 2 * r
    if min(h, w) > r:  # np.pad's "reflect": the border mirrors the inside, its edge row not repeated
        arr[:r, r:-r] = arr[2 * r:r:-1, r:-r]
        arr[-r:, r:-r] = arr[-r - 2:-2 * r - 2:-1, r:-r]
        arr[:, :r] = arr[:, 2 * r:r:-1]
        arr[:, -r:] = arr[:, -r - 2:-2 * r - 2:-1]
    else:  # "edge"
        arr[:r, r:-r] = arr[r, r:-r]
        arr[-r:, r:-r] = arr[-r - 1, r:-r]
        arr[:, :r] = arr[:, r:r + 1]
        arr[:, -r:] = arr[:, -r - 1:-r]


def _lows_into(out: np.ndarray, image: np.ndarray, guide: np.ndarray, hole: np.ndarray, sigma: float,
               weight: float, band: int = 256) -> None:
    """``out[:] = GaussianBlur(where(hole, guide, image), sigma) * weight`` (all H x W x C), in bands of
    ``band`` rows, so its temporaries are band-sized: each band is blurred with the rows its kernel
    reaches (OpenCV's float kernels reach 4 sigma), which gives the whole blur's values exactly."""
    h = image.shape[0]
    reach = int(np.ceil(4 * sigma)) + 2
    for y0 in range(0, h, band):
        y1 = min(h, y0 + band)
        a, b = max(0, y0 - reach), min(h, y1 + reach)
        comp = np.where(hole[a:b, :, None], guide[a:b], image[a:b]).astype(np.float32, copy=False)
        low: np.ndarray = np.asarray(cv2.GaussianBlur(comp, (0, 0), sigma), np.float32).reshape(comp.shape)
        low = low[y0 - a:y1 - a]
        low *= np.float32(weight)
        out[y0:y1] = low


class _Level:
    """One pyramid level in padded coordinates: the targets, the valid sources and the search state.

    ``image`` is the level's photo (its hole pixels are not read), ``start`` the first estimate of the
    hole (H x W x C; only its hole pixels are read). Only one image-sized float array is kept: the
    patch features, whose first channels are the level's image (the votes write them).
    """

    def __init__(self, image: np.ndarray, start: np.ndarray, hole: np.ndarray, allowed: np.ndarray,
                 guide: np.ndarray | None, r: int, guide_weight: float) -> None:
        self.r = r
        self.hole_raw = hole
        side = 2 * r + 1
        kernel = np.ones((side, side), np.uint8)
        known_p = _pad((~hole).astype(np.uint8), r)
        whole = cv2.erode(known_p, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        del known_p
        whole[r:-r, r:-r] &= allowed
        whole[:r], whole[-r:], whole[:, :r], whole[:, -r:] = False, False, False, False
        self.valid = np.ascontiguousarray(whole)
        self.coords = kernels.nonzero_coords(self.valid, 0)
        touch = cv2.dilate(hole.astype(np.uint8), kernel) > 0
        self.targets = kernels.nonzero_coords(touch, r)
        del touch
        self.index = np.full(self.valid.shape, -1, np.int32)
        self.index[self.targets[:, 0], self.targets[:, 1]] = np.arange(len(self.targets), dtype=np.int32)
        self.bands = _bands(self.targets, rows=max(8, 2 * side))
        self.hole = np.zeros(self.valid.shape, bool)
        self.hole[r:-r, r:-r] = hole
        self.pixels = kernels.nonzero_coords(self.hole, 0)  # the hole pixels a vote sets
        # One array holds what a patch is compared on: the image's channels (which the votes write),
        # then, with a guide, its low frequencies; ``image`` is a view of the first ones.
        h, w, chans = image.shape
        self._feat = np.empty((h + 2 * r, w + 2 * r, chans * (1 if guide is None else 2)), np.float32)
        inner = self._feat[r:-r, r:-r]
        inner[..., :chans] = image
        np.copyto(inner[..., :chans], start, where=hole[..., None])  # no hole-sized temporaries
        if guide is not None:
            _lows_into(inner[..., chans:], image, guide, hole, max(1.0, r / 2.0), guide_weight)
        _pad_into(self._feat, r)
        self.image = self._feat[..., :chans]

    def features(self) -> np.ndarray:
        return self._feat

    def unpadded(self) -> np.ndarray:
        r = self.r
        return np.ascontiguousarray(self.image[r:-r, r:-r])


def _bands(targets: np.ndarray, rows: int) -> np.ndarray:
    """Start indices of row bands of ``rows`` rows over raster-ordered targets, then the end."""
    if len(targets) == 0:
        return np.zeros(1, np.int64)
    y0, y1 = int(targets[0, 0]), int(targets[-1, 0]) + 1
    edges = np.arange(y0, y1, rows)
    starts = np.searchsorted(targets[:, 0], edges, side="left")
    return np.append(starts, len(targets)).astype(np.int64)


def complete(image: np.ndarray, hole: np.ndarray, *, allowed: np.ndarray | None = None,
             guide: np.ndarray | None = None, settings: Settings = Settings(), guide_scale: float = 1.0,
             owned: bool = False) -> Generator[tuple[int, int], None, np.ndarray]:
    """Fill ``hole`` (bool H x W) of ``image`` (float32 H x W x C in [0, 1]) from its own patches.

    ``allowed``: bool H x W, where patch centres may be copied from (None = anywhere known).
    ``guide``: float32 H x W x C, a structural fill to follow (None = none, or ``settings.thin_guide``).
    ``guide_scale``: how many times the guide was upscaled to this size (its detail is that coarse).
    ``owned``: the caller gives ``image`` up (it keeps no reference): its hole pixels may be
    overwritten, so the finest level's first estimate needs no array of its own. The result is the same.
    Returns a new array: known pixels unchanged, hole pixels synthesised.
    Raises NothingToCopy when no source patch lies wholly in known, allowed pixels.
    """
    image = np.asarray(image, np.float32)
    squeeze = image.ndim == 2
    if squeeze:
        image = image[..., None]
        guide = None if guide is None else np.asarray(guide, np.float32)[..., None]
    hole = np.asarray(hole, bool)
    if not hole.any():
        return image[..., 0].copy() if squeeze else image.copy()
    if settings.patch % 2 == 0 or settings.patch < 3:
        raise ValueError("patch side must be odd and at least 3")
    restricted = allowed is not None
    allowed = ~hole if allowed is None else (np.asarray(allowed, bool) & ~hole)
    gain = settings.gain
    if guide is None and settings.thin_guide is not None:
        guide, guide_scale = classical_guide(image, hole, settings.thin_guide), 1.0
        gain = settings.gain if settings.gain_thin is None else settings.gain_thin
    r = settings.patch // 2
    n = level_count(hole, settings)

    # pyramid, finest first
    images, holes, alloweds, guides = [image], [hole], [allowed], [guide]
    for _ in range(n):
        known = ~holes[-1]
        images.append(_shrink(images[-1], known))
        guides.append(None if guides[-1] is None else _shrink(guides[-1], np.ones_like(known)))
        holes.append(_shrink_mask(holes[-1], any_=True))
        alloweds.append(_shrink_mask(alloweds[-1], any_=False) & ~holes[-1])
    large = 0 < settings.large_hole < np.count_nonzero(hole)
    passes = settings.passes_large if large else settings.passes

    def rounds(depth: int) -> tuple[int, int]:
        if n == 0 and guide is not None:
            return settings.em_single, passes
        if depth == n:
            return settings.em_coarse, passes
        if depth == 0:
            return settings.em_finest, 1 if large else settings.passes_finest
        return settings.em_fine, passes

    total = sum(rounds(d)[0] for d in range(n + 1))
    done = 0
    prev: _Level | None = None
    prev_nnf: np.ndarray | None = None
    for depth in range(n, -1, -1):
        img, hl, gd = images[depth], holes[depth], guides[depth]
        if prev is None:
            start = gd if gd is not None else _first_guess(img, hl)
        else:
            start = cv2.resize(prev.unpadded(), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
            start = start.reshape(img.shape)
        if owned and depth == 0 and img is image:  # the estimate goes into the caller's array itself
            np.copyto(img, start, where=hl[..., None])
            start = img
        level = _Level(img, start, hl, alloweds[depth], gd, r, settings.guide_weight)
        del start
        if depth > 0:  # a coarse level's image and guide now live in its features only
            images[depth] = guides[depth] = None  # type: ignore[call-overload]
        if level.coords.shape[0] == 0:
            if guide is not None and not restricted and (depth == 0 or prev is None):
                # a hole (nearly) as large as the photo leaves no whole patch to copy: the guide is
                # the fill (only when the user did not restrict the sampling area: that is an error)
                out = image.copy()
                out[hole] = guide[hole]
                return out[..., 0] if squeeze else out
            if depth == 0 or prev is None:
                raise NothingToCopy("the sampling area leaves no known patch to copy from")
            prev, prev_nnf = level, None  # this level is too small to search: carry the estimate up
            continue
        if depth == 0:  # from here on the level's features hold the image (the fill's known pixels are it)
            images[0] = img = image = None  # type: ignore[call-overload,assignment]
        seed = settings.seed * 1009 + depth * 101
        fallback = kernels.random_sources(level.coords, len(level.targets), seed)
        if prev is None or prev_nnf is None:
            nnf = fallback
        else:
            nnf = kernels.upsample_nnf(prev.index, prev_nnf, level.targets, level.valid, fallback, r)
            prev = None  # the coarser level is done with
            _vote_into(level, nnf, kernels.nnf_costs(level.features(), level.targets, nnf, r), best=False)
        iters, passes = rounds(depth)
        for it in range(iters):
            feat = level.features()
            cost = kernels.nnf_costs(feat, level.targets, nnf, r)
            kernels.patchmatch(feat, level.valid, level.targets, level.index, nnf, cost, r,
                               passes, seed + it + 1, level.bands)
            last = depth == 0 and it == iters - 1
            best = settings.final == "best" and (last or (settings.sharpen and depth == 0 and it > 0))
            _vote_into(level, nnf, cost, best=best)
            done += 1
            yield done, total
        prev, prev_nnf = level, nnf
    assert prev is not None
    out = prev.unpadded()  # the fill: its known pixels are ``image``'s, votes write hole pixels only
    del prev, level
    if guide is not None and settings.lows > 0:
        # the composition over the patches' fill (compose_into reads it whole before it writes)
        compose_into(out, out, out, hole, guide, lows=settings.lows, gain=gain,
                     guide_colour=settings.guide_colour, texture_colour=settings.texture_colour,
                     guide_scale=guide_scale)
    return out[..., 0] if squeeze else out


def _vote_into(level: _Level, nnf: np.ndarray, cost: np.ndarray, *, best: bool) -> None:
    sigma2 = float(max(np.percentile(cost, 75), 1e-6)) if len(cost) else 1.0
    weights = cost if best else kernels.vote_weights(cost, sigma2)  # a best vote compares costs only
    new = kernels.vote(level.image, level.pixels, level.index, nnf, cost, weights, level.r, best)
    level.image[level.pixels[:, 0], level.pixels[:, 1]] = new


def complete_blocking(image: np.ndarray, hole: np.ndarray, **kwargs) -> np.ndarray:
    """``complete`` run to the end."""
    return drain(complete(image, hole, **kwargs))
