"""The learned detector: a compact U-Net that maps a gray tile to a damage probability per kind.

Trained by restorer/training (``restorer-cli train --model damage-unet``) on damage rendered onto
clean photos made to look like old prints (render.damaged_print), with clean prints as negatives.
Shipped as fp16 safetensors plus a JSON card whose ``config`` builds the network; the registry
checks both before this module is imported, so importing torch here costs nothing until a
learned detector is asked for.

Shape: two 3 x 3 convolutions at full size (thin scratches are one pixel wide), two at 1/2, and at
1/4 three dilated ones (dilation 1, 2, 4) for about 90 px of context: enough to tell a line that
runs on from the edge of an object or a patch of texture. Decoder: bilinear upsampling with skip
connections. Every convolution but the last is followed by BatchNorm and ReLU.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from restorer.detection.damage import KINDS
from restorer.errors import ModelUnavailable
from restorer.models.runtime import Runtime

ARCH = "damage-unet"
PAD_MULTIPLE = 4
MARGIN = 48  # px of context a tile gets on each side (the receptive field reaches ~45 px each way)
# Smaller than the classical detector's: a 1024 px tile's activations take ~550 MB, 768 px ~330 MB, 512 px
# ~150 MB; on 2 threads 768 px tiles ran 1.2-1.4x faster than 512 px ones (fewer margin pixels, less
# threading overhead per call), 1024 px little more.
TILE = 768


def _block(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DamageUNet(nn.Module):
    """gray N x 1 x H x W in [0, 1] -> logits N x len(KINDS) x H x W (H, W multiples of 4)."""

    pad_multiple = PAD_MULTIPLE

    def __init__(self, width: int = 12, kinds: int = len(KINDS)) -> None:
        super().__init__()
        w1, w2, w3 = width, 2 * width, 3 * width
        self.enc0 = nn.Sequential(_block(1, w1), _block(w1, w1))
        self.enc1 = nn.Sequential(_block(w1, w2, stride=2), _block(w2, w2))
        self.mid = nn.Sequential(_block(w2, w3, stride=2), _block(w3, w3, dilation=2), _block(w3, w3, dilation=4))
        self.dec1 = _block(w3 + w2, w2)
        self.dec0 = _block(w2 + w1, w1)
        self.head = nn.Conv2d(w1, kinds, 1)

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        x0 = self.enc0(gray * 2.0 - 1.0)
        x1 = self.enc1(x0)
        x2 = self.mid(x1)
        up = F.interpolate(x2, size=x1.shape[-2:], mode="bilinear", align_corners=False)
        y1 = self.dec1(torch.cat([up, x1], 1))
        up = F.interpolate(y1, size=x0.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(self.dec0(torch.cat([up, x0], 1)))


def config_problem(config: Any) -> str | None:
    """Why a card's config cannot build this network (None when it can)."""
    if not isinstance(config, dict) or config.get("arch") != ARCH:
        return f"config is not a {ARCH} config"
    width, kinds = config.get("width"), config.get("kinds")
    if not isinstance(width, int) or not 4 <= width <= 64:
        return f"config width {width!r} is not a whole number from 4 to 64"
    if kinds != list(KINDS):
        return f"config kinds {kinds!r} are not {list(KINDS)}"
    bias = config.get("logit_bias", 0.0)
    values = list(bias.values()) if isinstance(bias, dict) else [bias]
    if isinstance(bias, dict) and sorted(bias) != sorted(KINDS):
        return f"config logit_bias {bias!r} does not give one number for each of {list(KINDS)}"
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not -20 <= v <= 20 for v in values):
        return f"config logit_bias {bias!r} is not a number (or one per kind) from -20 to 20"
    return None


Bias = float | dict[str, float]  # one logit bias for every kind, or one per kind


def build_network(config: dict[str, Any]) -> DamageUNet:
    problem = config_problem(config)
    if problem:
        raise ValueError(problem)
    return DamageUNet(int(config["width"]), len(config["kinds"]))


def network_config(width: int, logit_bias: Bias = 0.0) -> dict[str, Any]:
    """A card's config. ``logit_bias`` (a number, or kind -> number) is subtracted from the logits at
    inference: the calibration that puts the operating point chosen on calibration photos at threshold
    0.5 (training uses none). Per kind, because each kind's map reaches its best F1 at its own point."""
    config: dict[str, Any] = {"arch": ARCH, "width": int(width), "kinds": list(KINDS)}
    if isinstance(logit_bias, dict):
        config["logit_bias"] = {k: float(logit_bias[k]) for k in KINDS}
    elif logit_bias:
        config["logit_bias"] = float(logit_bias)
    return config


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """An inference copy of ``net`` with each conv + BatchNorm (eval statistics) folded into one conv with a bias.

    The same function up to float rounding (about 1e-5 on the probabilities): one pass over the
    activations fewer per layer."""
    import copy

    net = copy.deepcopy(net).eval()
    for module in net.modules():
        if isinstance(module, nn.Sequential) and len(module) >= 2 and isinstance(module[0], nn.Conv2d) \
                and isinstance(module[1], nn.BatchNorm2d):
            conv, bn = module[0], module[1]
            assert bn.running_var is not None and bn.running_mean is not None
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            bias = bn.bias.detach() - bn.running_mean * scale
            if conv.bias is not None:
                bias = bias + conv.bias.detach() * scale
            conv.weight = nn.Parameter(conv.weight.detach() * scale[:, None, None, None], requires_grad=False)
            conv.bias = nn.Parameter(bias, requires_grad=False)
            module[1] = nn.Identity()
    return net


class LearnedDetector:
    """A trained DamageUNet with the tiles.Detector call; one forward pass per tile, in float32 on the CPU.

    It runs a copy of ``net`` with BatchNorm folded into the convolutions, through OpenVINO when the
    ``fast`` extra is installed (models/runtime.py: converted once, kept on disk; 1.9x eager PyTorch
    per 864 px tile on one thread), else in channels-last memory layout under inference_mode (about
    twice the plain network's speed: its 12-36 channel convolutions are memory-bound in NCHW). Either
    way the probabilities are the plain network's within 1e-4 (benchmarks/bench_detect.py
    --compare-plain; tests/detection/test_learned.py). ``runtime``: "auto", "torch" or "openvino",
    as for fills (RESTORER_RUNTIME=torch turns OpenVINO off).
    """

    margin = MARGIN
    tile = TILE
    align = PAD_MULTIPLE
    kinds = KINDS
    # A proposal must reach 0.9 somewhere at the default 0.5 (damage.proposals): chosen for damage-unet's
    # calibrated maps on the calibration pairs (training photos; README, "How well"): F1 0.8757 ->
    # 0.8760 with 15 % fewer clean pixels flagged (0.061 -> 0.052 %).
    confirm = 0.8

    def __init__(self, net: DamageUNet, name: str = ARCH, logit_bias: Bias = 0.0, *, fast: bool = True,
                 runtime: str = "auto") -> None:

        self.net = net.eval()
        self.name = name
        self.logit_bias: Bias = dict(logit_bias) if isinstance(logit_bias, dict) else float(logit_bias)
        per_kind = [float(self.logit_bias[k]) if isinstance(self.logit_bias, dict) else float(self.logit_bias)
                    for k in self.kinds]
        self._bias = torch.tensor(per_kind, dtype=torch.float32)[:, None, None]
        self.fast = fast
        self._run: nn.Module = self.net
        self.runtime = Runtime(runtime if fast else "torch")
        if fast:
            self._run = fold_batchnorm(net)
            self._run.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # (torch's stubs lack it)

    def __call__(self, gray: np.ndarray) -> dict[str, np.ndarray]:
        h, w = gray.shape
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(gray, np.float32))[None, None]
            ph, pw = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
            if ph or pw:
                x = F.pad(x, (0, pw, 0, ph), mode="replicate")
            if self.runtime.active("cpu"):
                logits = self.runtime.run(self.name, self._run, self._run, x)
            else:
                if self.fast:
                    x = x.contiguous(memory_format=torch.channels_last)
                logits = self._run(x)
            prob = torch.sigmoid(logits[0, :, :h, :w] - self._bias).contiguous().numpy()
        return {kind: prob[i] for i, kind in enumerate(self.kinds)}


def load_weights(path: Path) -> tuple[DamageUNet, dict[str, Any]]:
    """The network in ``path`` (safetensors) and the card config beside it that built it; ModelUnavailable
    when either is wrong."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        config = card.get("config") if isinstance(card, dict) else None
        net = build_network(config)  # type: ignore[arg-type]
        state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
        net.load_state_dict(state)
    except (OSError, ValueError, SafetensorError, RuntimeError, TypeError) as exc:
        raise ModelUnavailable(f"detector weights {path.name} cannot be loaded: {str(exc).splitlines()[0]}") from None
    return net, config  # type: ignore[return-value]


def build(spec: Any, weights: Path | None = None) -> LearnedDetector:
    if weights is None:
        raise ModelUnavailable(f"detector {spec.name!r} needs weights")
    net, config = load_weights(Path(weights))
    return LearnedDetector(net, spec.name, config.get("logit_bias", 0.0))
