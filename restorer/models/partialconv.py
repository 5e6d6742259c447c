"""Partial Convolutions (Liu et al. 2018, arXiv 1804.07723): the PartialConv2d layer and the PConvUNet built from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from restorer.models.architectures import partialconv_pad_multiple

__all__ = ["PartialConv2d", "PConvUNet", "RefineHead", "build_network", "pad_multiple"]

# The refinement head at inference runs on bands of this many rows around the hole ...
STRIP_ROWS = 32
# ... unless the bands with their context would cover this share of the input or more.
FULL_PASS_SHARE = 0.7


class PartialConv2d(nn.Conv2d):
    """A convolution that sees only valid pixels and renormalises for the ones it misses.

    ``forward(x, valid)`` takes ``valid`` with 1 = known pixel, 0 = hole (the paper's M; note that the
    rest of Restorer uses 1 = hole, and PConvUNet converts). Per output pixel::

        out = W^T (X * M) * sum(1) / sum(M) + b     where sum(M) > 0
        out = 0                                     where sum(M) == 0
        M'  = 1 if sum(M) > 0 else 0

    sum(1) counts the whole window, padding included, so zero padding is treated as a hole and border
    pixels are renormalised too: this is the "partial padding" of Liu et al. (2018b).

    ``valid`` may have 1 channel (shared by all input channels) or ``in_channels`` channels (the
    multi-channel mask, e.g. concatenated decoder features with their own masks). Either way the
    result is the same as convolving the mask with an all-ones kernel of in_channels x k x k, but the
    channel sum is taken first so the mask costs one 1-channel convolution, not a full one.
    The updated mask is returned with 1 channel; it broadcasts over the output channels.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kh, kw = self.kernel_size
        self.register_buffer("_ones", torch.ones(1, 1, kh, kw), persistent=False)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        if valid.shape[1] not in (1, x.shape[1]):
            raise ValueError(f"mask has {valid.shape[1]} channels; expected 1 or {x.shape[1]}")
        if self.groups != 1:
            raise ValueError("PartialConv2d supports groups=1 only")
        channels = valid.shape[1]
        with torch.autocast(device_type=x.device.type, enabled=False):
            coverage = valid.float().sum(dim=1, keepdim=True) if channels > 1 else valid.float()
        return self.masked(x * valid.to(x.dtype), coverage, channels)

    def masked(self, xv: torch.Tensor, coverage: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``forward`` with the input already multiplied by its mask and the mask summed over its
        ``channels`` channels (``coverage``, 1 channel): the decoder builds both without ever making
        its concatenated many-channel mask (the same numbers, a fraction of the memory traffic)."""
        # Mask arithmetic stays in float32 even under autocast: window sums are small integers and the
        # ratio's division must not overflow or underflow in half precision.
        with torch.autocast(device_type=xv.device.type, enabled=False):
            window = F.conv2d(
                coverage.float(), self._ones.float(), None, self.stride, self.padding, self.dilation
            )
            updated = (window > 0).to(window.dtype)
            total = float(channels * self.kernel_size[0] * self.kernel_size[1])
            ratio = total / window.clamp(min=1.0) * updated
        raw = F.conv2d(xv, self.weight, None, self.stride, self.padding, self.dilation)
        out = raw * ratio
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1) * updated
        return out.to(raw.dtype), updated


class _PConvBlock(nn.Module):
    """PartialConv2d + optional BatchNorm + activation, passing the mask along."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, bn: bool, act: str | None) -> None:
        super().__init__()
        self.conv = PartialConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=not bn)
        self.bn = nn.BatchNorm2d(cout) if bn else None
        self.act: nn.Module | None
        if act == "relu":
            self.act = nn.ReLU(inplace=True)
        elif act == "leaky":
            self.act = nn.LeakyReLU(0.2, inplace=True)
        else:
            self.act = None

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._after(*self.conv(x, valid))

    def masked(self, xv: torch.Tensor, coverage: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._after(*self.conv.masked(xv, coverage, channels))

    def _after(self, x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x, valid


class RefineHead(nn.Module):
    """A full-resolution refinement of the U-Net's fill (not in the paper; ``refine`` in the card's config).

    The U-Net's first layer halves the resolution, so only its last 3x3 layer sees the photo at full
    size, and its fill is weakest right at the hole's edge, where a classical method like Navier-Stokes
    is strongest (measured on the validation set: mean error in the first 1.5 px of the hole 26 % above
    Navier-Stokes'). The head takes the composite (fill inside the hole, photo outside) and the mask,
    runs ``layers`` 3x3 convolutions at full size with dilations 1, 2, 4, 8, ... (receptive field about
    35 px for 5 layers) and adds a correction. Its last layer starts at zero, so a head added to a
    trained U-Net starts out as the identity and training can only move it from there.
    """

    def __init__(self, layers: int = 5, width: int = 32) -> None:
        super().__init__()
        if layers < 2:
            raise ValueError("a refinement head needs at least 2 layers")
        self.layers, self.width = layers, width
        dilations = [min(2**i, 16) for i in range(layers - 2)] + [1]
        convs: list[nn.Module] = []
        cin = 4
        for d in dilations:
            convs += [nn.Conv2d(cin, width, 3, padding=d, dilation=d, padding_mode="replicate"),
                      nn.LeakyReLU(0.2, inplace=True)]
            cin = width
        self.body = nn.Sequential(*convs)
        self.out = nn.Conv2d(width, 3, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @property
    def reach(self) -> int:
        """How far (pixels) an output pixel sees: the sum of every layer's padding."""
        convs = [m for m in self.modules() if isinstance(m, nn.Conv2d)]
        return sum(int(c.dilation[0]) * (int(c.kernel_size[0]) // 2) for c in convs)

    def forward(self, coarse: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, *,
                dense: Callable[..., torch.Tensor] | None = None) -> torch.Tensor:
        """coarse, image: N x 3 x H x W in [0, 1]; mask: 1 = hole. Returns the refined prediction.
        ``dense`` stands in for ``self.dense`` (a faster runtime, models/runtime.py).

        Without gradients (inference) only strips that hold hole pixels are refined, each with
        ``reach`` pixels of context: every hole pixel gets the same value as a full-size pass (the
        replicate padding at the input's own edges is the same too, as strips are clipped there, not
        padded), while the rest keeps ``coarse``, which callers composite away. A thin scratch
        across a tile then costs a fraction of the full-size pass.
        """
        boxes = None if torch.is_grad_enabled() else self.strips((mask[:, 0] > 0.5).cpu().numpy())
        dense = dense or self.dense
        if boxes is None:
            return dense(coarse, image, mask)
        out = coarse.clone()
        for n, (y0, y1, x0, x1), (a0, a1, b0, b1) in boxes:
            part = (slice(n, n + 1), slice(None), slice(a0, a1), slice(b0, b1))
            sub = dense(coarse[part], image[part], mask[part])
            out[n : n + 1, :, y0:y1, x0:x1] = sub[:, :, y0 - a0 : y1 - a0, x0 - b0 : x1 - b0]
        return out

    def dense(self, coarse: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The refined prediction at every pixel of the input."""
        hole = mask.to(coarse.dtype)
        comp = coarse * hole + image * (1.0 - hole)
        # Channels-last input makes these full-size convolutions about 1.5x faster on the CPU (oneDNN;
        # benchmarks/bench_engine.py), with the same results to rounding.
        x = torch.cat([comp * 2.0 - 1.0, hole], dim=1).contiguous(memory_format=torch.channels_last)
        return coarse + self.out(self.body(x)).contiguous()

    def strips(self, hole: np.ndarray, rows: int = STRIP_ROWS) -> list[tuple[int, tuple, tuple]] | None:
        """For bool ``hole`` N x H x W: (item, box, box with ``reach`` of context) for each run of hole
        columns in each band of ``rows`` rows; None when they would cover most of the input anyway
        (one full pass is then cheaper). Boxes are (y0, y1, x0, x1)."""
        n, h, w = hole.shape
        r = self.reach
        boxes, area = [], 0
        for k in range(n):
            for y0 in range(0, h, rows):
                y1 = min(h, y0 + rows)
                cols = np.flatnonzero(hole[k, y0:y1].any(axis=0))
                if cols.size == 0:
                    continue
                # Runs of hole columns closer than two contexts apart share one strip.
                breaks = np.flatnonzero(np.diff(cols) > 2 * r + 1)
                for c0, c1 in zip(np.r_[cols[0], cols[breaks + 1]], np.r_[cols[breaks], cols[-1]] + 1):
                    inner = (y0, y1, int(c0), int(c1))
                    outer = (max(0, y0 - r), min(h, y1 + r), max(0, int(c0) - r), min(w, int(c1) + r))
                    boxes.append((k, inner, outer))
                    area += (outer[1] - outer[0]) * (outer[3] - outer[2])
        return boxes if area < FULL_PASS_SHARE * n * h * w else None


class PConvUNet(nn.Module):
    """The paper's U-Net of partial convolutions.

    Encoder: ``depth`` stride-2 PConv layers (7x7, 5x5, 5x5, then 3x3), channels width, 2w, 4w, 8w, 8w...
    (the paper: width 64, depth 8 at 512 px), ReLU, BatchNorm except on the first layer.
    Decoder: nearest 2x upsampling of features and mask, concatenation with the encoder's skip (and
    finally the input image), 3x3 PConv, LeakyReLU(0.2), BatchNorm except on the last layer, which is
    linear and gives 3 channels.

    ``forward(image, mask)``: image N x 3 x H x W in [0, 1], mask N x 1 x H x W with 1 = hole (Restorer's
    convention). Returns the raw prediction N x 3 x H x W, roughly in [0, 1] but not clamped (the loss
    wants the linear output); compositing with the known pixels is the caller's job.
    H and W must be multiples of ``2 ** depth``.

    ``refine`` > 0 adds a RefineHead of that many layers (``refine_width`` channels) after the U-Net.
    """

    def __init__(self, width: int = 64, depth: int = 7, in_channels: int = 3, refine: int = 0,
                 refine_width: int = 32) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError("depth must be at least 2")
        if width < 1:
            raise ValueError("width must be positive")
        self.width, self.depth, self.in_channels = width, depth, in_channels
        channels = [min(width * 2**i, width * 8) for i in range(depth)]
        kernels = [7, 5, 5] + [3] * max(0, depth - 3)
        self.encoder = nn.ModuleList()
        cin = in_channels
        for i, (cout, k) in enumerate(zip(channels, kernels)):
            self.encoder.append(_PConvBlock(cin, cout, k, 2, bn=i > 0, act="relu"))
            cin = cout
        # decoder[j] undoes encoder[depth-1-j]: upsample, concat the skip of the level above, convolve.
        skips = [in_channels] + channels[:-1]
        self.decoder = nn.ModuleList()
        for j in range(depth):
            level = depth - 1 - j
            skip = skips[level]
            last = level == 0
            cout = in_channels if last else skip
            self.decoder.append(
                _PConvBlock(cin + skip, cout, 3, 1, bn=not last, act=None if last else "leaky")
            )
            cin = cout
        self.refine = RefineHead(refine, refine_width) if refine else None
        self._encoder_bn_frozen = False
        self._backbone_frozen = False

    @property
    def pad_multiple(self) -> int:
        return partialconv_pad_multiple({"depth": self.depth})

    def forward(self, image: torch.Tensor, mask: torch.Tensor, head: bool = True) -> torch.Tensor:
        """``head=False``: the U-Net's prediction alone (the engine runs the head once per region)."""
        m = self.pad_multiple
        if image.shape[-2] % m or image.shape[-1] % m:
            raise ValueError(f"input {tuple(image.shape[-2:])} is not a multiple of {m}")
        valid = 1.0 - mask.to(image.dtype)
        x = (image * 2.0 - 1.0) * valid  # zero-centred, holes at 0
        feats: list[tuple[torch.Tensor, torch.Tensor]] = [(x, valid)]
        h, v = x, valid
        for block in self.encoder:
            h, v = block(h, v)
            feats.append((h, v))
        feats.pop()  # the deepest level is h itself, not a skip
        for block in self.decoder:
            skip, skip_v = feats.pop()
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            v = F.interpolate(v, scale_factor=2.0, mode="nearest")
            # Each half keeps its own mask: a multi-channel mask over the concatenation, passed as the
            # masked input and the mask's channel sum (PartialConv2d.masked).
            xv = torch.cat([h * v.to(h.dtype), skip * skip_v.to(skip.dtype)], dim=1)
            with torch.autocast(device_type=h.device.type, enabled=False):
                coverage = v.float() * h.shape[1] + skip_v.float() * skip.shape[1]
            h, v = block.masked(xv, coverage, h.shape[1] + skip.shape[1])
        out = h * 0.5 + 0.5
        if self.refine is not None and head:
            out = self.refine(out, image, mask)
        return out

    def freeze_encoder_bn(self, frozen: bool = True) -> None:
        """The paper's fine-tuning step: encoder BatchNorm uses its running statistics and stops learning.

        Stays in force across ``.train()`` calls until called with ``frozen=False``.
        """
        self._encoder_bn_frozen = frozen
        for block in self.encoder:
            if block.bn is not None:
                for p in block.bn.parameters():
                    p.requires_grad_(not frozen)
        self.train(self.training)

    def freeze_backbone(self, frozen: bool = True) -> None:
        """Train the refinement head alone: the U-Net stops learning and its BatchNorm uses running statistics."""
        if self.refine is None:
            raise ValueError("this network has no refinement head to train alone")
        self._backbone_frozen = frozen
        for part in (self.encoder, self.decoder):
            for p in part.parameters():
                p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> PConvUNet:
        super().train(mode)
        if self._backbone_frozen:
            self.encoder.eval()
            self.decoder.eval()
        if self._encoder_bn_frozen:
            for block in self.encoder:
                if block.bn is not None:
                    block.bn.eval()
        return self


def pad_multiple(config: dict[str, Any]) -> int:
    """The input size multiple a network built from ``config`` needs (declared in architectures.py)."""
    return partialconv_pad_multiple(config)


def build_network(config: dict[str, Any]) -> PConvUNet:
    """Build a PConvUNet from a model card's config, e.g. {"arch": "partialconv", "width": 32, "depth": 7}
    (optionally "refine": layers and "refine_width": channels of a RefineHead)."""
    arch = config.get("arch", "partialconv")
    if arch != "partialconv":
        raise ValueError(f"config is for {arch!r}, not 'partialconv'")
    return PConvUNet(width=int(config.get("width", 64)), depth=int(config.get("depth", 7)),
                     refine=int(config.get("refine", 0)), refine_width=int(config.get("refine_width", 32)))
