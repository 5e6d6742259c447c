"""EdgeConnect (Nazeri et al. 2019, arXiv 1901.00212): edge and inpaint generators and the Canny preprocessing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from restorer.models.architectures import EDGECONNECT_PAD_MULTIPLE

__all__ = [
    "EdgeGenerator",
    "InpaintGenerator",
    "EdgeConnect",
    "canny_edges",
    "known_edges",
    "compose_edges",
    "to_gray",
    "pushpull_fill",
    "build_network",
    "PAD_MULTIPLE",
]

PAD_MULTIPLE = EDGECONNECT_PAD_MULTIPLE  # two stride-2 downsamples (declared in architectures.py)
# Known edges this close to a hole (px) are dropped by canny_edges and taken from the prediction.
EDGE_MARGIN = 2
# skimage.color.rgb2gray's weights, which the reference implementation uses before Canny.
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


def _sn(module: nn.Module, use: bool) -> nn.Module:
    # The reference's 'normal' init (std 0.02) keeps GAN training stable from the start; it is done
    # before spectral norm is attached so the norm's power-iteration vectors match the weights.
    nn.init.normal_(module.weight, 0.0, 0.02)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return spectral_norm(module) if use else module


class ResnetBlock(nn.Module):
    """Residual block: dilated 3x3 conv, IN, ReLU, 3x3 conv, IN, with reflection padding."""

    def __init__(self, dim: int, dilation: int = 2, use_spectral_norm: bool = False) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(dilation),
            _sn(nn.Conv2d(dim, dim, 3, dilation=dilation, bias=not use_spectral_norm), use_spectral_norm),
            nn.InstanceNorm2d(dim, track_running_stats=False),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            _sn(nn.Conv2d(dim, dim, 3, bias=not use_spectral_norm), use_spectral_norm),
            nn.InstanceNorm2d(dim, track_running_stats=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class _Generator(nn.Module):
    """The generator both stages share: 7x7 conv, two stride-2 convs, dilated residual blocks, two
    transposed convs, 7x7 conv out (channels width, 2w, 4w; the paper: width 64, 8 blocks)."""

    def __init__(self, cin: int, cout: int, width: int, blocks: int, use_spectral_norm: bool) -> None:
        super().__init__()
        if width < 1 or blocks < 0:
            raise ValueError("width must be positive and blocks non-negative")
        w, sn = width, use_spectral_norm
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            _sn(nn.Conv2d(cin, w, 7), sn),
            nn.InstanceNorm2d(w, track_running_stats=False),
            nn.ReLU(True),
            _sn(nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), sn),
            nn.InstanceNorm2d(2 * w, track_running_stats=False),
            nn.ReLU(True),
            _sn(nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1), sn),
            nn.InstanceNorm2d(4 * w, track_running_stats=False),
            nn.ReLU(True),
        )
        self.middle = nn.Sequential(*[ResnetBlock(4 * w, 2, sn) for _ in range(blocks)])
        self.decoder = nn.Sequential(
            _sn(nn.ConvTranspose2d(4 * w, 2 * w, 4, stride=2, padding=1), sn),
            nn.InstanceNorm2d(2 * w, track_running_stats=False),
            nn.ReLU(True),
            _sn(nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), sn),
            nn.InstanceNorm2d(w, track_running_stats=False),
            nn.ReLU(True),
            nn.ReflectionPad2d(3),
            _sn(nn.Conv2d(w, cout, 7), False),  # the reference leaves the output layer without spectral norm
        )

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % PAD_MULTIPLE or x.shape[-1] % PAD_MULTIPLE:
            raise ValueError(f"input {tuple(x.shape[-2:])} is not a multiple of {PAD_MULTIPLE}")
        return self.decoder(self.middle(self.encoder(x)))


class EdgeGenerator(_Generator):
    """Stage 1: (gray, known edges, mask) -> edge map in [0, 1] (sigmoid), spectral norm as in the paper.

    ``forward(gray, edges, mask)``: all N x 1 x H x W; gray in [0, 1], edges in {0, 1} (Canny of the known
    pixels), mask 1 = hole. Masking is applied here (holes of gray set to 1 as the reference does,
    edges in the hole zeroed), so callers may pass unmasked tensors.
    """

    def __init__(self, width: int = 64, blocks: int = 8, use_spectral_norm: bool = True) -> None:
        super().__init__(3, 1, width, blocks, use_spectral_norm)

    def forward(self, gray: torch.Tensor, edges: torch.Tensor, mask: torch.Tensor, *,
                run: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """``run``: what stands in for the convolution body ``_run`` (a faster runtime, models/runtime.py)."""
        keep = 1.0 - mask
        x = torch.cat([gray * keep + mask, edges * keep, mask], dim=1)
        return torch.sigmoid((run or self._run)(x))


PREFILLS = ("white", "pushpull")


class InpaintGenerator(_Generator):
    """Stage 2: (image, edge map, mask) -> RGB.

    ``forward(image, edges, mask)``: image N x 3 x H x W in [0, 1], edges N x 1 x H x W in [0, 1] (the
    composite of predicted edges inside the hole and known edges outside), mask N x 1 x H x W, 1 = hole.
    Unlike the reference (4 input channels) the mask is a fifth input channel, so a white known pixel
    and a hole are told apart. Returns the raw prediction; compositing with the known pixels and
    clamping to [0, 1] are the caller's job.

    ``prefill`` says what the hole holds on input:
    - ``"white"`` (the reference): holes set to 1; the output is (tanh + 1) / 2, in [0, 1].
    - ``"pushpull"``: holes hold pushpull_fill's smooth interpolation of the known pixels, and the
      network predicts a correction to it: output = fill + tanh(net). The output layer starts at zero,
      so an untrained generator returns the interpolation itself, and training only has to learn what
      a smooth fill gets wrong (structure along the edges, texture). Trains far faster on small budgets,
      and the fill meets the known pixels without the seam a 1/4-resolution decoder leaves.
    """

    def __init__(self, width: int = 64, blocks: int = 8, use_spectral_norm: bool = False,
                 prefill: str = "white") -> None:
        if prefill not in PREFILLS:
            raise ValueError(f"unknown prefill {prefill!r}; choose one of {', '.join(PREFILLS)}")
        super().__init__(5, 3, width, blocks, use_spectral_norm)
        self.prefill = prefill
        if prefill == "pushpull":
            out = self.decoder[-1]
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)

    def forward(self, image: torch.Tensor, edges: torch.Tensor, mask: torch.Tensor, *,
                run: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """``run``: what stands in for the convolution body ``_run`` (the push-pull prefill, whose
        depth depends on the mask, stays here in PyTorch)."""
        body = run or self._run
        if self.prefill == "white":
            x = torch.cat([image * (1.0 - mask) + mask, edges, mask], dim=1)
            return (torch.tanh(body(x)) + 1.0) / 2.0
        base = pushpull_fill(image, mask)
        return base + torch.tanh(body(torch.cat([base, edges, mask], dim=1)))


class EdgeConnect(nn.Module):
    """The pair of generators EdgeConnect runs in sequence; ``.edge`` and ``.inpaint`` train separately."""

    def __init__(self, width: int = 64, blocks: int = 8, sigma: float = 2.0, prefill: str = "white") -> None:
        super().__init__()
        self.width, self.blocks, self.sigma, self.prefill = width, blocks, sigma, prefill
        self.edge = EdgeGenerator(width, blocks)
        self.inpaint = InpaintGenerator(width, blocks, prefill=prefill)

    pad_multiple = PAD_MULTIPLE

    def forward(
        self, image: torch.Tensor, mask: torch.Tensor, known_edges: torch.Tensor, guide: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both stages: returns (raw RGB prediction, edge map used). ``known_edges`` is canny_edges of the
        known pixels; ``guide``, if given, replaces the predicted edges (see compose_edges for where)."""
        predicted = self.edge(to_gray(image), known_edges, mask) if guide is None else guide
        edges = compose_edges(predicted, known_edges, mask)
        return self.inpaint(image, edges, mask), edges


def compose_edges(
    predicted: torch.Tensor, known: torch.Tensor, mask: torch.Tensor, margin: int = EDGE_MARGIN
) -> torch.Tensor:
    """The edge map the inpaint generator sees: predicted edges inside the hole and the ``margin`` px
    around it (where canny_edges drops the known edges, so lines run on into the hole without a gap),
    the known Canny edges elsewhere. All N x 1 x H x W; mask 1 = hole."""
    region = mask if margin <= 0 else F.max_pool2d(mask, 2 * margin + 1, stride=1, padding=margin)
    return predicted * region + known * (1.0 - region)


def _binomial_down(x: torch.Tensor) -> torch.Tensor:
    """Halve with the 4x4 binomial kernel ([1, 3, 3, 1] / 8 per axis), zeros beyond the border; an odd
    side is first padded by one zero, so each coarse pixel centres on a 2x2 block of the finer level."""
    k1 = torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=x.dtype, device=x.device) / 8.0
    c = x.shape[1]
    kernel = (k1[:, None] * k1[None, :]).expand(c, 1, 4, 4)
    x = F.pad(x, (1, 1 + x.shape[-1] % 2, 1, 1 + x.shape[-2] % 2))
    return F.conv2d(x, kernel, stride=2, groups=c)


def pushpull_fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The known pixels, with each hole filled by a smooth interpolation of them (push-pull,
    Gortler et al. 1996): N x C x H x W, mask N x 1 x H x W (1 = hole).

    Push: halve the image again and again (binomial filter), averaging known pixels only (colour
    premultiplied by the known weight, zeros beyond the border count as unknown), until every pixel
    has some known weight. Pull: from the coarsest level back up, a pixel keeps its own colour in
    proportion to its known weight and takes the rest from the bilinearly upsampled coarser level.
    Linear time, differentiable, no parameters; known pixels come back exactly. On the validation
    pairs it scores about 0.5 dB below Telea. A wholly masked image comes back mid-gray. Computed in
    float32 whatever the input dtype or autocast (deep levels divide by small known weights).
    """
    with torch.autocast(device_type=image.device.type, enabled=False):
        return _pushpull(image.float(), mask.float()).to(image.dtype)


def _pushpull(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    known = 1.0 - mask
    levels = [(image * known, known)]
    while True:
        v, w = levels[-1]
        if bool((w > 0).all()) or min(w.shape[-2:]) <= 1:
            break
        levels.append((_binomial_down(v), _binomial_down(w)))
    v, w = levels[-1]
    colour = torch.where(w > 0, v / w.clamp_min(1e-6), torch.full_like(v, 0.5))
    for v, w in reversed(levels[:-1]):
        h, wd = v.shape[-2:]
        up = F.interpolate(colour, size=(h + h % 2, wd + wd % 2), mode="bilinear", align_corners=False)
        colour = v + (1.0 - w) * up[..., :h, :wd]
    return colour


def to_gray(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W -> N x 1 x H x W with skimage's rgb2gray weights."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image * w).sum(dim=1, keepdim=True)


def canny_edges(
    gray: np.ndarray,
    mask: np.ndarray | None = None,
    sigma: float = 2.0,
    low: float = 0.1,
    high: float = 0.2,
    margin: int = EDGE_MARGIN,
) -> np.ndarray:
    """Canny edges of the known pixels: float32 H x W in {0, 1}, zero inside the hole.

    ``gray``: float H x W in [0, 1]; ``mask``: bool H x W, True = hole (None = no hole).
    Approximates skimage.feature.canny(gray, sigma, low, high) (the reference's preprocessing) with
    OpenCV: Gaussian blur, unnormalised 3x3 Sobel gradients (as skimage uses), thresholds on the L2
    magnitude, hysteresis by cv2.Canny on the gradients. The hole is first filled with a smooth guess
    (Telea), so its border makes no step; edges inside the hole or within ``margin`` px of it are then
    dropped, since damage often bleeds a pixel or two past the mask a user paints.
    """
    img: np.ndarray = np.asarray(gray, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError("canny_edges expects a 2-D gray image")
    hole = None
    if mask is not None:
        hole = np.asarray(mask, dtype=bool)
        if hole.shape != img.shape:
            raise ValueError(f"mask shape {hole.shape} differs from image shape {img.shape}")
        if hole.all():
            return np.zeros_like(img)
        if hole.any():
            img = cv2.inpaint(np.ascontiguousarray(img), hole.astype(np.uint8), 3.0, cv2.INPAINT_TELEA)
    if sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT)
    dx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    # cv2.Canny accepts int16 gradients: scale so a [0, 1] image keeps ~12 bits of gradient precision
    # (the Sobel response of a [0, 1] image is at most 4, and 4 * 4096 fits int16).
    scale = 4096.0
    dx16 = np.clip(np.rint(dx * scale), -32767, 32767).astype(np.int16)
    dy16 = np.clip(np.rint(dy * scale), -32767, 32767).astype(np.int16)
    edges = cv2.Canny(dx16, dy16, low * scale, high * scale, L2gradient=True)
    out = (edges > 0).astype(np.float32)
    if hole is not None and hole.any():
        near = hole
        if margin > 0:
            k = 2 * margin + 1
            near = cv2.dilate(hole.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        out[near] = 0.0
    return out



def known_edges(gray: torch.Tensor, mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """canny_edges of every item of a batch: gray and mask N x 1 x H x W (mask 1 = hole) -> float32
    N x 1 x H x W on gray's device. The one batch wrapper inference and training both use."""
    # Canny runs on the CPU in numpy (OpenCV); it is a small part of the time next to the network.
    g = gray.float().cpu().numpy()
    holes = mask.cpu().numpy() > 0.5
    maps = [canny_edges(g[n, 0], holes[n, 0], sigma=sigma) for n in range(len(g))]
    return torch.from_numpy(np.stack(maps)[:, None]).to(gray.device)

def build_network(config: dict[str, Any]) -> EdgeConnect:
    """Build the generator pair from a model card's config, e.g.
    {"arch": "edgeconnect", "width": 32, "blocks": 4, "sigma": 2.0, "prefill": "pushpull"}
    (no prefill: the reference's white holes)."""
    arch = config.get("arch", "edgeconnect")
    if arch != "edgeconnect":
        raise ValueError(f"config is for {arch!r}, not 'edgeconnect'")
    return EdgeConnect(
        width=int(config.get("width", 64)),
        blocks=int(config.get("blocks", 8)),
        sigma=float(config.get("sigma", 2.0)),
        prefill=str(config.get("prefill", "white")),
    )
