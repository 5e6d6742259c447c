"""How a guided fill's output is put together from the guide and the copied patches.

Measured on the validation pairs (README, "Texture"): a learned fill is the most faithful estimate
of the hole's coarse content, and copied patches are the only source of real detail, so the output
keeps the guide below a Gaussian of ``lows`` px and takes the band above it from the patches, scaled
by ``gain``. The copied band is taken in brightness only when ``texture_colour`` is off (the
photo's grain and texture live in brightness; copied colour detail showed as specks of the hue of
wherever a patch came from), and then the hue is the patches' own at a coarser scale. The guide
gives only brightness when ``guide_colour`` is off (a network's colour blotch cannot reach the output).

``lows`` is in the guide's own pixels: a guide upscaled k times holds nothing finer than about k
output pixels, so the split is made at ``lows * k`` and the band the guide lacks comes from the
photo's patches, not from the blur of an upscale.
"""

from __future__ import annotations

import cv2
import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # Rec. 601
# With texture_colour off, the fill's hue comes from the patches blurred this many times the split
# (on the validation pairs 3 was as good as none by PSNR/SSIM, +0.02 dB; 6 lost 0.05 dB at 1-10 %).
CHROMA_SCALE = 3.0


def classical_guide(image: np.ndarray, hole: np.ndarray, method: str) -> np.ndarray:
    """A smooth fill of ``hole`` (OpenCV per channel) to steer and compose with when no network runs:
    float32 H x W x C in [0, 1], like ``image``."""
    flag = {"navier-stokes": cv2.INPAINT_NS, "telea": cv2.INPAINT_TELEA}[method]
    out = image.copy()
    h8 = hole.astype(np.uint8)
    for c in range(image.shape[2]):
        out[..., c] = cv2.inpaint(np.ascontiguousarray(image[..., c] * 255.0, np.float32), h8, 5, flag) / 255.0
    return out


# A guided fill's network also sees this much of the thin hole next to a thick part, so its guide
# meets the classical one inside thin hole, away from the thick part (``mosaic`` blends them).
NET_MARGIN = 24
# ... over this many px inside the network's part
BLEND_PX = 8


def network_part(hole: np.ndarray, thin: float) -> np.ndarray:
    """The pixels of ``hole`` (bool H x W) in parts thicker than ``thin`` px, grown by NET_MARGIN within
    the hole: where a guided fill needs its network (a thinner hole follows a classical fill).

    The thick parts are the hole's opening by a disc of diameter ``thin``: every disc that fits
    inside the hole and is wider than a scratch. Two 8-px scratches that cross leave a small blob.
    """
    u8 = hole.view(np.uint8) if hole.dtype == bool else hole.astype(np.uint8)
    dist = cv2.distanceTransform(np.pad(u8, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    core = dist > thin / 2.0
    if not core.any():
        return core
    to_core = cv2.distanceTransform((~core).view(np.uint8), cv2.DIST_L2, 3)
    return (to_core <= thin / 2.0 + NET_MARGIN) & hole


def mosaic(guide: np.ndarray, image: np.ndarray, hole: np.ndarray, net: np.ndarray, method: str) -> np.ndarray:
    """The network's ``guide`` (H x W x C) on ``net`` (``network_part``), a classical fill of the rest
    of the hole, blended over BLEND_PX inside ``net`` (the network's output may end at its border)."""
    out = classical_guide(image, hole, method)
    rows, cols = np.flatnonzero(net.any(axis=1)), np.flatnonzero(net.any(axis=0))
    if rows.size == 0:
        return out
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    w = np.clip(cv2.distanceTransform(net[box].view(np.uint8), cv2.DIST_L2, 3) / BLEND_PX, 0.0, 1.0)
    view = out[box]
    view += w[..., None] * (guide[box] - view)
    return out


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), sigma).reshape(x.shape)


def _brightness(x: np.ndarray) -> np.ndarray:
    """The per-pixel brightness of H x W x C (C = 1 or 3) as H x W x 1 (it broadcasts over the channels)."""
    if x.shape[2] != 3:
        return x
    return (x @ LUMA)[..., None]


def compose(filled: np.ndarray, image: np.ndarray, hole: np.ndarray, guide: np.ndarray, *, lows: float,
            gain: float, guide_colour: bool, texture_colour: bool, guide_scale: float = 1.0) -> np.ndarray:
    """The guide's low frequencies plus the copied patches' detail above them (all H x W x C float32).

    Written in place where it can be (each step's values are those of the plain expression): at most
    four image-sized arrays are alive at once."""
    sigma = lows * max(1.0, guide_scale)
    low = _blur(np.where(hole[..., None], guide, image).astype(np.float32), sigma)
    out = _blur(filled, sigma)  # the patches' own low frequencies
    detail = filled - out
    if not texture_colour:
        detail = _brightness(detail)
    low -= out  # the guide's low frequencies over the patches': what the output moves by
    delta = low
    if not guide_colour and delta.shape[2] == 3:
        delta = delta.mean(axis=2, keepdims=True)
    del low
    out += delta
    del delta
    detail *= np.float32(gain)
    out += detail
    del detail
    if not texture_colour and not guide_colour and out.shape[2] == 3:
        # Hue from the patches only at CHROMA_SCALE times the split: a copied speck of another hue
        # (a tongue's pink in fur) is smoothed away; the brightness keeps every band.
        base = _blur(filled, CHROMA_SCALE * sigma)
        base += _brightness(out) - _brightness(base)
        return base
    return out


def compose_into(out: np.ndarray, filled: np.ndarray, image: np.ndarray, hole: np.ndarray, guide: np.ndarray, *,
                 lows: float, gain: float, guide_colour: bool, texture_colour: bool, guide_scale: float = 1.0) -> None:
    """``out[hole] = compose(...)[hole]``, computed over the hole's bounding box grown by the widest blur's
    reach only (the same values: every blur that reaches a hole pixel stays inside that box). On a crop
    with wide context around the hole that is a fraction of compose's temporaries."""
    rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    if rows.size == 0:
        return
    sigma = lows * max(1.0, guide_scale) * (1.0 if texture_colour or guide_colour else CHROMA_SCALE)
    reach = int(np.ceil(4 * sigma)) + 2  # OpenCV's float Gaussian kernels reach 4 sigma
    box = (slice(max(0, int(rows[0]) - reach), int(rows[-1]) + 1 + reach),
           slice(max(0, int(cols[0]) - reach), int(cols[-1]) + 1 + reach))
    part = compose(filled[box], image[box], hole[box], guide[box], lows=lows, gain=gain, guide_colour=guide_colour,
                   texture_colour=texture_colour, guide_scale=guide_scale)
    np.copyto(out[box], part, where=hole[box][..., None])
