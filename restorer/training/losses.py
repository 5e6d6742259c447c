"""Loss terms: masked L1 (PConv's hole/valid), total variation, adversarial + feature matching, and the
perceptual/style replacement for ImageNet VGG (a fixed random-weight feature extractor, or our discriminator).

Why random features stand in for VGG: perceptual and style losses need a fixed bank of local,
multi-scale, nonlinear filters more than they need ImageNet semantics. Ustyuzhaninov et al. (2017,
"What does it take to generate natural textures?", ICLR) showed that Gram matrices of a *random*
single-layer multi-scale conv net synthesise textures about as well as VGG's; He et al. (2016,
"A powerful generative model using random weights for the deep image representation") showed that
random-weight deep features also carry enough to reconstruct content. So the extractor is a small
fixed random conv net at three scales: recreated bit-exactly from its seed (nothing to download or
store), cheap on a CPU, and it never adapts to the generator, so it cannot be gamed the way a
learned critic can. ``--perceptual disc`` instead uses our own discriminator's features (moving, but
learned on photos); ``--perceptual none`` turns both terms off, for the ablation.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

# --- pixel terms ---------------------------------------------------------------------------------


def hole_valid_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """PConv's L_hole and L_valid: L1 inside / outside the hole, each normalised by the element count (not by area)."""
    diff = (pred - target).abs()
    hole = (diff * mask).mean()
    valid = (diff * (1.0 - mask)).mean()
    return hole, valid


def total_variation(comp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PConv's L_tv: smoothness across the 1-pixel dilation of the hole (where the fill meets the known pixels)."""
    region = F.max_pool2d(mask, 3, 1, 1)
    dx = (comp[..., :, 1:] - comp[..., :, :-1]).abs() * (region[..., :, 1:] * region[..., :, :-1])
    dy = (comp[..., 1:, :] - comp[..., :-1, :]).abs() * (region[..., 1:, :] * region[..., :-1, :])
    return dx.mean() + dy.mean()


def _gauss_window(sigma: float = 1.5, radius: int = 5) -> torch.Tensor:
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


def ssim_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - mean SSIM (11x11 Gaussian window, sigma 1.5, per channel, valid region), in fp32.

    Not in the PConv/EdgeConnect papers: L1 + SSIM is the restoration loss of Zhao et al. (2017, "Loss
    functions for image restoration with neural networks"), used here because L1 alone converges to
    fills that match Telea's PSNR long before they match its structure (SSIM) on a CPU budget.
    """
    x, y = pred.float(), target.float()
    c = x.shape[1]
    g = _gauss_window().to(x.device)
    kx = g.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    ky = g.view(1, 1, -1, 1).repeat(c, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, kx, groups=c), ky, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x * mu_x
    var_y = blur(y * y) - mu_y * mu_y
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return 1.0 - s.mean()


# --- perceptual and style ------------------------------------------------------------------------


class RandomFeatures(nn.Module):
    """A fixed random conv net with three scales (full, 1/2, 1/4) and ReLU: the VGG replacement.

    Weights come from ``torch.Generator().manual_seed(seed)`` in a fixed order, so the same seed and
    widths rebuild the same extractor anywhere; only (seed, widths) go in the checkpoint's config.
    Filters are made zero-mean (they respond to structure, not to flat colour) and scaled to keep
    the activation variance of each layer near that of its input (He init), so no layer dominates.
    """

    def __init__(self, seed: int = 1234, widths: Sequence[int] = (32, 64, 128)) -> None:
        super().__init__()
        self.seed, self.widths = int(seed), tuple(int(w) for w in widths)
        gen = torch.Generator().manual_seed(self.seed)
        self.convs = nn.ModuleList()
        cin = 3
        for cout in self.widths:
            for _ in range(2):
                conv = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
                w = torch.randn(cout, cin, 3, 3, generator=gen)
                w = w - w.mean(dim=(1, 2, 3), keepdim=True)
                w = w / w.std(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6) * (2.0 / (cin * 9)) ** 0.5
                conv.weight.data.copy_(w)
                conv.weight.requires_grad_(False)
                self.convs.append(conv)
                cin = cout
        self.eval()

    def train(self, mode: bool = True) -> RandomFeatures:  # always frozen
        return super().train(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = x * 2.0 - 1.0
        feats = []
        for i in range(len(self.widths)):
            if i > 0:
                x = F.avg_pool2d(x, 2)
            x = F.relu(self.convs[2 * i](x))
            x = F.relu(self.convs[2 * i + 1](x))
            feats.append(x)
        return feats

    def config(self) -> dict[str, Any]:
        return {"seed": self.seed, "widths": list(self.widths)}


def gram(f: torch.Tensor) -> torch.Tensor:
    """Gram matrix normalised by C*H*W, as in PConv's style loss (computed in fp32 for stability)."""
    n, c, h, w = f.shape
    f = f.float().reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def perceptual_style(feats_out: Sequence[Sequence[torch.Tensor]], feats_gt: Sequence[torch.Tensor],
                     with_style: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Sum over outputs (e.g. raw output and composite) and layers of L1 of features and of Gram matrices
    (the Gram term is None when ``with_style`` is false: it is skipped, not computed and weighted by 0)."""
    perc = feats_gt[0].new_zeros(())
    style = feats_gt[0].new_zeros(()) if with_style else None
    for feats in feats_out:
        for fo, fg in zip(feats, feats_gt):
            fg = fg.detach()
            perc = perc + (fo - fg).abs().mean()
            if style is not None:
                style = style + (gram(fo) - gram(fg)).abs().mean()
    return perc, style


# --- adversarial ---------------------------------------------------------------------------------

GAN_KINDS = ("nsgan", "hinge", "lsgan")


def d_loss(real: torch.Tensor, fake: torch.Tensor, kind: str = "nsgan") -> torch.Tensor:
    """Discriminator loss on logits of real and generated samples (each averaged, then halved as in EdgeConnect)."""
    real, fake = real.float(), fake.float()
    if kind == "nsgan":
        return (F.softplus(-real).mean() + F.softplus(fake).mean()) / 2
    if kind == "hinge":
        return (F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()) / 2
    if kind == "lsgan":
        return (((real - 1) ** 2).mean() + (fake ** 2).mean()) / 2
    raise ValueError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_KINDS)}")


def g_loss(fake: torch.Tensor, kind: str = "nsgan") -> torch.Tensor:
    """The generator's adversarial term on the discriminator's logits for its output."""
    fake = fake.float()
    if kind == "nsgan":
        return F.softplus(-fake).mean()
    if kind == "hinge":
        return -fake.mean()
    if kind == "lsgan":
        return ((fake - 1) ** 2).mean()
    raise ValueError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_KINDS)}")


def feature_matching(fake_feats: Sequence[torch.Tensor], real_feats: Sequence[torch.Tensor]) -> torch.Tensor:
    """EdgeConnect's L_FM: L1 between discriminator activations of generated and real inputs."""
    total = fake_feats[0].new_zeros(())
    for f, r in zip(fake_feats, real_feats):
        total = total + (f - r.detach()).abs().mean()
    return total


# --- the damage detector's (training/tasks.py, DetectorTask) ---------------------------------------


def kind_dice(prob: torch.Tensor, target: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over kinds of 1 - soft F1, each kind's summed over the batch (N x K x H x W in, a scalar out);
    ``keep`` (0/1 like ``target``, 1 on every damaged pixel) drops the other pixels' flags from the count.

    A kind absent from the batch scores 1 - 1 / (1 + its predicted sum): its map is pushed to zero."""
    dims = (0, 2, 3)
    inter = (prob * target).sum(dims)
    flagged = (prob if keep is None else prob * keep).sum(dims)
    return (1 - (2 * inter + 1) / (flagged + target.sum(dims) + 1)).mean()


def near_keep(target: torch.Tensor, near: int) -> torch.Tensor | None:
    """1 where a flag counts in the loss, 0 on undamaged pixels within ``near`` px (a square) of damage of
    any kind; None for ``near`` 0. The evaluation counts such flags as right (3 px), the loss punished
    them: a rim the truth's 13/255 cut leaves out held 46 % of the shipped weights' Dice false-alarm
    mass on training crops, gradient not spent on false alarms on texture (what sets the threshold)."""
    if near <= 0:
        return None
    band = F.max_pool2d(target.amax(1, keepdim=True), 2 * near + 1, stride=1, padding=near)
    return 1 - band * (1 - target)
