"""One level of the completion pyramid: how its image and guide lows are stored (uint16, padded by
the patch radius), the guide's low frequencies blurred in bands, and its search state (targets,
valid sources, index). ``completion.complete`` drives the levels coarse to fine."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.synthesis import kernels


def pad(arr: np.ndarray, r: int) -> np.ndarray:
    widths = ((r, r), (r, r)) + ((0, 0),) * (arr.ndim - 2)
    return np.pad(arr, widths, mode="reflect" if min(arr.shape[:2]) > r else "edge")


def pad_into(arr: np.ndarray, r: int) -> None:
    """Fill the ``r``-px border of ``arr`` from its inside, as ``pad`` would have padded the inside."""
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


# A level's image and guide lows are kept as uint16, 0..Q for 0..1: half float32's bytes, a 16-bit
# photo's own values, an 8-bit one's exactly (x 257); a vote's mean is rounded to 1/65535.
Q = 65535.0
BAND = 256  # rows per band of the banded conversions


def stored(values: np.ndarray) -> np.ndarray:
    """Float values (0..1) as the levels keep them, clipped."""
    return np.clip(np.rint(values * np.float32(Q)), 0.0, Q).astype(np.uint16)


def floats(arr: np.ndarray) -> np.ndarray:
    """A float32 copy (0..1) of ``arr``: stored uint16 values, or floats as they are."""
    out = np.array(arr, np.float32)
    if arr.dtype == np.uint16:
        out /= np.float32(Q)
    return out


def store_into(dst: np.ndarray, values: np.ndarray, where: np.ndarray | None = None) -> None:
    """``dst[...] = stored(values)`` (where ``where``, H x W), in bands of rows: band-sized temporaries."""
    for y0 in range(0, dst.shape[0], BAND):
        rows = slice(y0, y0 + BAND)
        if where is None:
            dst[rows] = stored(values[rows])
        else:
            np.copyto(dst[rows], stored(values[rows]), where=where[rows][..., None])


def lows_into(out: np.ndarray, image: np.ndarray, guide: np.ndarray, hole: np.ndarray, sigma: float,
               band: int = BAND, box: tuple[slice, slice] | None = None) -> None:
    """``out[:] = GaussianBlur(where(hole, guide, image), sigma)`` (all H x W x C; ``out`` uint16 stores
    it as ``stored``, ``image`` may be stored too), in bands of ``band`` rows, so its temporaries are
    band-sized: each band is blurred with the rows its kernel reaches (OpenCV's float kernels reach
    4 sigma), which gives the whole blur's values exactly. ``box``: ``guide`` is only that part of
    the image (it holds every hole pixel)."""
    h = image.shape[0]
    reach = int(np.ceil(4 * sigma)) + 2
    for y0 in range(0, h, band):
        y1 = min(h, y0 + band)
        a, b = max(0, y0 - reach), min(h, y1 + reach)
        comp = floats(image[a:b])
        if box is None:
            np.copyto(comp, guide[a:b], where=hole[a:b, :, None])
        else:
            ga, gb = max(a, box[0].start), min(b, box[0].stop)
            if ga < gb:
                rows = slice(ga - a, gb - a)
                np.copyto(comp[rows, box[1]], guide[ga - box[0].start:gb - box[0].start],
                          where=hole[ga:gb, box[1], None])
        low: np.ndarray = np.asarray(cv2.GaussianBlur(comp, (0, 0), sigma), np.float32).reshape(comp.shape)
        low = low[y0 - a:y1 - a]
        out[y0:y1] = stored(low) if out.dtype == np.uint16 else low


class Level:
    """One pyramid level in padded coordinates: the targets, the valid sources and the search state.

    ``image`` is the level's photo (its hole pixels are not read), ``start`` the first estimate of the
    hole (H x W x C; only its hole pixels are read). A patch is compared on two padded uint16 arrays
    (``stored``): ``image``, the level's image (the votes write it), and ``low``, the guide's low
    frequencies (no channels without a guide; the cost weighs them by ``guide_weight`` squared).
    ``padded``: an (H + 2r) x (W + 2r) x C uint16 array whose inside is ``image`` stored already, used
    as the level's image instead of a new one (the caller gives it up). ``guide_box``: ``guide`` is
    only that part of the level (it holds the whole hole); ``start`` too when ``start_box`` is set.
    """

    def __init__(self, image: np.ndarray, start: np.ndarray, hole: np.ndarray, allowed: np.ndarray,
                 guide: np.ndarray | None, r: int, guide_weight: float, padded: np.ndarray | None = None,
                 guide_box: tuple[slice, slice] | None = None, start_box: tuple[slice, slice] | None = None) -> None:
        self.r = r
        self.lw = np.float32(guide_weight * guide_weight)
        self.hole_raw = hole
        side = 2 * r + 1
        kernel = np.ones((side, side), np.uint8)
        known_p = pad((~hole).astype(np.uint8), r)
        whole = cv2.erode(known_p, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        del known_p
        whole[r:-r, r:-r] &= allowed
        whole[:r], whole[-r:], whole[:, :r], whole[:, -r:] = False, False, False, False
        self.valid = np.ascontiguousarray(whole)
        # the valid centres' places without a coordinate pair each (kernels.random_sources)
        self.rows, self.chunks = kernels.valid_index(self.valid)
        self.sources = int(self.rows[-1])
        touch = cv2.dilate(hole.astype(np.uint8), kernel) > 0
        self.targets = kernels.nonzero_coords(touch, r)
        del touch
        self.index = np.full(self.valid.shape, -1, np.int32)
        self.index[self.targets[:, 0], self.targets[:, 1]] = np.arange(len(self.targets), dtype=np.int32)
        self.bands = bands(self.targets, rows=max(8, 2 * side))
        self.hole = np.zeros(self.valid.shape, bool)
        self.hole[r:-r, r:-r] = hole
        self.pixels = kernels.nonzero_coords(self.hole, 0)  # the hole pixels a vote sets
        h, w, chans = image.shape
        if padded is None:
            padded = np.empty((h + 2 * r, w + 2 * r, chans), np.uint16)
            store_into(padded[r:-r, r:-r], image)
        inner = padded[r:-r, r:-r]
        at = start_box or (slice(None), slice(None))
        store_into(inner[at], start, where=hole[at])  # no hole-sized temporaries
        self.low = np.empty((h + 2 * r, w + 2 * r, 0 if guide is None else chans), np.uint16)
        if guide is not None:  # ``image``'s hole pixels are not read: it may be ``inner`` itself
            lows_into(self.low[r:-r, r:-r], image, guide, hole, max(1.0, r / 2.0), box=guide_box)
            pad_into(self.low, r)
        pad_into(padded, r)
        self.image = padded

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        return self.image, self.low

    def unpadded(self) -> np.ndarray:
        """The level's image as float32 (0..1), unpadded."""
        r = self.r
        return floats(self.image[r:-r, r:-r])

    def release(self) -> None:
        """Keep only what a finer level's start needs of this one (its ``index``)."""
        self.image = self.low = self.valid = self.hole = self.pixels = self.targets = None  # type: ignore[assignment]
        self.rows = self.chunks = None


def bands(targets: np.ndarray, rows: int) -> np.ndarray:
    """Start indices of row bands of ``rows`` rows over raster-ordered targets, then the end."""
    if len(targets) == 0:
        return np.zeros(1, np.int64)
    y0, y1 = int(targets[0, 0]), int(targets[-1, 0]) + 1
    edges = np.arange(y0, y1, rows)
    starts = np.searchsorted(targets[:, 0], edges, side="left")
    return np.append(starts, len(targets)).astype(np.int64)
