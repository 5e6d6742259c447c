"""The PatchGAN discriminator EdgeConnect uses (spectral norm, LeakyReLU), returning its features for feature matching."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class PatchDiscriminator(nn.Module):
    """70x70-style PatchGAN of Nazeri et al. (2019): five 4x4 convolutions, strides 2, 2, 2, 1, 1.

    ``forward(x)`` returns (logits N x 1 x h x w, [features of each layer]); the features feed the
    feature-matching loss and, with ``--perceptual disc``, the perceptual/style losses.
    Channels are width, 2w, 4w, 8w (the paper: width 64).
    """

    def __init__(self, in_channels: int = 3, width: int = 64, use_spectral_norm: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.width = width

        def conv(cin: int, cout: int, stride: int) -> nn.Module:
            layer = nn.Conv2d(cin, cout, 4, stride, 1, bias=not use_spectral_norm)
            return spectral_norm(layer) if use_spectral_norm else layer

        w = width
        self.blocks = nn.ModuleList([
            nn.Sequential(conv(in_channels, w, 2), nn.LeakyReLU(0.2, inplace=True)),
            nn.Sequential(conv(w, 2 * w, 2), nn.LeakyReLU(0.2, inplace=True)),
            nn.Sequential(conv(2 * w, 4 * w, 2), nn.LeakyReLU(0.2, inplace=True)),
            nn.Sequential(conv(4 * w, 8 * w, 1), nn.LeakyReLU(0.2, inplace=True)),
            conv(8 * w, 1, 1),
        ])
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # EdgeConnect initialises with N(0, 0.02).
                nn.init.normal_(m.weight_orig if hasattr(m, "weight_orig") else m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = []
        for block in self.blocks:
            x = block(x)
            feats.append(x)
        return x, feats[:-1]
