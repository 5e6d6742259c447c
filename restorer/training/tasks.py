"""What one training step computes for each model and stage: the networks, their losses, and the
inference wrapper used for validation. The loop (loop.py) owns optimisers, precision, checkpoints.

Tasks: ``partialconv`` (Liu et al. 2018) and ``edgeconnect`` in its stages ``edge`` (edge generator),
``inpaint`` (image generator on ground-truth edges) and ``joint`` (both, image generator on the
edge generator's output), as in Nazeri et al. (2019).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from restorer.training import losses as L
from restorer.training.config import TrainConfig
from restorer.training.discriminators import PatchDiscriminator

DETECTOR = "damage-unet"  # the learned damage detector (restorer/detection/learned.py)
STAGES = {"partialconv": ("pconv",), "edgeconnect": ("edge", "inpaint", "joint"), DETECTOR: ("detect",)}
PERCEPTUAL = ("random", "disc", "none")

# Loss weights. PConv's (hole 6, valid 1, tv 0.1) and EdgeConnect's (adversarial 0.1 for the image,
# feature matching 10 for the edges) are the papers'; the perceptual weight is set for the
# random-feature extractor (VGG's 0.05 was tuned to VGG's activation scale, which these features do
# not have): at 2 the term is ~30 % of the PConv pixel loss; it beat no term in PSNR and SSIM for
# each of three seeds, and weight 0.5 in SSIM. The style (Gram) term is off by default: at 500 it cost 0.6 dB
# and 0.02 SSIM, at 50 (beside perceptual 2) it changed nothing measurable (restorer/training/README.md);
# ``--weight style=W`` turns it back on.
DEFAULT_WEIGHTS: dict[str, float] = {
    "hole": 6.0, "valid": 1.0, "tv": 0.1, "perceptual": 2.0, "style": 0.0,
    "adv": 0.1, "fm": 0.0, "edge_adv": 1.0, "edge_fm": 10.0, "edge_bce": 0.0, "ssim": 0.0,
    "bce": 1.0, "dice": 0.5,  # the detector's: per-kind cross-entropy, per-kind soft Dice (1 - F1)
    "near": 0.0,  # the detector's: px around damage where a flag is no false alarm (0 = off; see near_keep)
}
# The defaults that differed before the ablation. Run configs then kept only the --weight overrides,
# so a run saved then resumes with these (new runs store every weight; see loop.train).
OLD_DEFAULT_WEIGHTS: dict[str, float] = {"perceptual": 0.5, "style": 500.0}


def network_config(cfg: TrainConfig) -> dict[str, Any]:
    """The architecture config a model card carries (what build_network takes)."""
    if cfg.model == DETECTOR:
        from restorer.detection.learned import network_config as detector_config

        return detector_config(int(cfg.width))
    if cfg.model == "partialconv":
        config = {"arch": "partialconv", "width": int(cfg.width), "depth": int(cfg.depth)}
        if int(cfg.refine):
            config.update(refine=int(cfg.refine), refine_width=int(cfg.refine_width))
        return config
    config = {"arch": "edgeconnect", "width": int(cfg.width), "blocks": int(cfg.blocks),
              "sigma": float(cfg.sigma)}
    if cfg.prefill != "white":
        config["prefill"] = str(cfg.prefill)
    return config


def build_generator(cfg: TrainConfig) -> nn.Module:
    if cfg.model == DETECTOR:
        from restorer.detection.learned import build_network as build_detector

        return build_detector(network_config(cfg))
    from restorer.models.neural import build_network

    return build_network(network_config(cfg))


class Task:
    """One model/stage: ``generator`` (what export writes), optional discriminators, and the losses."""

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device
        self.w = {**DEFAULT_WEIGHTS, **cfg.weights}
        self.generator = build_generator(cfg).to(device)
        self.net: nn.Module = self.generator  # what forward() calls: the generator, or its DDP wrapper
        self.discs: dict[str, nn.Module] = {}
        self.features: nn.Module | None = None
        if cfg.perceptual == "random":
            self.features = L.RandomFeatures(cfg.feature_seed, cfg.feature_widths).to(device)
        if cfg.perceptual not in PERCEPTUAL:
            raise ValueError(f"unknown perceptual option {cfg.perceptual!r}")

    def wrap(self, wrapper: Any) -> None:
        """Wrap the trained modules for DDP (the unwrapped ``generator`` stays what is saved)."""
        self.net = wrapper(self.generator)
        self.discs = {k: wrapper(d) for k, d in self.discs.items()}

    # which generator parameters the optimiser updates
    def trainable(self) -> list[nn.Parameter]:
        return [p for p in self.generator.parameters() if p.requires_grad]

    def needs_edges(self) -> bool:
        return False

    def make_dataset(self) -> Dataset:
        """The training samples this task learns from (photos with masks; the detector's: damaged prints)."""
        from pathlib import Path

        from restorer.training.data import InpaintingDataset
        from restorer.training.masks import MaskGenerator

        cfg = self.cfg
        masks = MaskGenerator(Path(cfg.mask_dir) if cfg.mask_dir else None)
        return InpaintingDataset(Path(cfg.data), int(cfg.crop), masks, int(cfg.seed),
                                 edge_sigma=float(cfg.sigma) if self.needs_edges() else None)

    @property
    def pad_multiple(self) -> int:
        """The input size multiple the generator needs (the network knows its own)."""
        return int(self.generator.pad_multiple)  # type: ignore[arg-type]

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def d_loss(self, batch: dict[str, torch.Tensor], out: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        return torch.zeros((), device=self.device), {}

    def g_loss(self, batch: dict[str, torch.Tensor], out: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    # shared image losses (PConv's, with the perceptual replacement and an optional GAN)
    def image_losses(self, disc: nn.Module | None, pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor
                     ) -> tuple[torch.Tensor, dict[str, float]]:
        w = self.w
        comp = pred * mask + gt * (1.0 - mask)
        hole, valid = L.hole_valid_l1(pred, gt, mask)
        tv = L.total_variation(comp, mask)
        total = w["hole"] * hole + w["valid"] * valid + w["tv"] * tv
        logs = {"hole": hole.item(), "valid": valid.item(), "tv": tv.item()}
        if w["ssim"] > 0:
            ssim = L.ssim_loss(comp, gt)
            total = total + w["ssim"] * ssim
            logs["ssim"] = ssim.item()
        fake_feats = real_feats = None
        if disc is not None:
            disc = _plain(disc)  # the generator step needs no discriminator gradients (nor DDP sync)
            for p in disc.parameters():
                p.requires_grad_(False)
            logits, fake_feats = disc(pred)
            adv = L.g_loss(logits, self.cfg.gan)
            total = total + w["adv"] * adv
            logs["g_adv"] = adv.item()
            if w["fm"] > 0 or self.cfg.perceptual == "disc":
                with torch.no_grad():
                    _, real_feats = disc(gt)
            if w["fm"] > 0:
                fm = L.feature_matching(fake_feats, real_feats)
                total = total + w["fm"] * fm
                logs["fm"] = fm.item()
            for p in disc.parameters():
                p.requires_grad_(True)
        feats = None
        if self.cfg.perceptual == "random":
            assert self.features is not None
            # Only the composite: its gradient reaches exactly the hole, where the fill is judged.
            feats = [self.features(comp)], self.features(gt)
        elif self.cfg.perceptual == "disc" and disc is not None:
            assert fake_feats is not None and real_feats is not None
            feats = [fake_feats], real_feats
        if feats is not None:
            perc, style = L.perceptual_style(*feats, with_style=w["style"] > 0)
            total = total + w["perceptual"] * perc
            logs["perc"] = perc.item()
            if style is not None:
                total = total + w["style"] * style
                logs["style"] = style.item()
        return total, logs

    def image_d_loss(self, disc: nn.Module, fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        real_logits, _ = disc(real)
        fake_logits, _ = disc(fake.detach())
        loss = L.d_loss(real_logits, fake_logits, self.cfg.gan)
        return loss, {"d": loss.item()}

    def inpainter(self) -> Any:
        """A registry-style callable (numpy NCHW float32, mask 1 = hole) around the current generator."""
        return GeneratorInpainter(self)


class PConvTask(Task):
    """PConv U-Net: L1 hole/valid + TV + perceptual/style; a discriminator only if asked for (adv > 0 or --perceptual disc)."""

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(cfg, device)
        if cfg.adv_pconv or cfg.perceptual == "disc":
            self.discs["image"] = PatchDiscriminator(3, int(cfg.disc_width)).to(device)
        if not cfg.adv_pconv:
            self.w["adv"] = 0.0
        if cfg.refine_only:
            self.generator.freeze_backbone(True)  # type: ignore[operator]

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"pred": self.net(batch["image"] * (1 - batch["mask"]), batch["mask"])}

    def d_loss(self, batch, out):  # type: ignore[override]
        if "image" not in self.discs:
            return super().d_loss(batch, out)
        return self.image_d_loss(self.discs["image"], out["pred"], batch["image"])

    def g_loss(self, batch, out):  # type: ignore[override]
        return self.image_losses(self.discs.get("image"), out["pred"], batch["image"], batch["mask"])

    def run(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.generator(image * (1 - mask), mask)


class EdgeConnectTask(Task):
    """EdgeConnect's three stages, each with the paper's losses (see module docstring)."""

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        super().__init__(cfg, device)
        self.stage = cfg.stage
        dw = int(cfg.disc_width)
        net = self.generator
        if self.stage in ("edge", "joint"):
            self.discs["edge"] = PatchDiscriminator(2, dw).to(device)
        if self.stage in ("inpaint", "joint"):
            self.discs["image"] = PatchDiscriminator(3, dw).to(device)
        # A stage trains only its own generator; the other is frozen (inference-only input).
        for p in net.edge.parameters():  # type: ignore[union-attr]
            p.requires_grad_(self.stage in ("edge", "joint"))
        for p in net.inpaint.parameters():  # type: ignore[union-attr]
            p.requires_grad_(self.stage in ("inpaint", "joint"))
        self.edge_net: nn.Module = net.edge  # type: ignore[assignment]
        self.inpaint_net: nn.Module = net.inpaint  # type: ignore[assignment]

    def wrap(self, wrapper: Any) -> None:
        # Only the generator(s) this stage trains go through DDP (a frozen module has nothing to sync).
        if self.stage in ("edge", "joint"):
            self.edge_net = wrapper(self.generator.edge)  # type: ignore[union-attr]
        if self.stage in ("inpaint", "joint"):
            self.inpaint_net = wrapper(self.generator.inpaint)  # type: ignore[union-attr]
        self.discs = {k: wrapper(d) for k, d in self.discs.items()}
    def needs_edges(self) -> bool:
        return True

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        from restorer.models.edgeconnect import to_gray

        image, mask = batch["image"], batch["mask"]
        out: dict[str, torch.Tensor] = {}
        gray = to_gray(image)
        if self.stage in ("edge", "joint"):
            out["edge"] = self.edge_net(gray, batch["known_edges"], mask)
        if self.stage in ("inpaint", "joint"):
            if self.stage == "inpaint":
                edges = batch["edges"]  # ground-truth edges: stage 2 learns to follow edges it is given
            else:
                edges = out["edge"].detach() * mask + batch["known_edges"] * (1 - mask)
            out["pred"] = self.inpaint_net(image, edges, mask)
        out["gray"] = gray
        return out

    def d_loss(self, batch, out):  # type: ignore[override]
        total = torch.zeros((), device=self.device)
        logs: dict[str, float] = {}
        if "edge" in self.discs:
            d = self.discs["edge"]
            real_logits, _ = d(torch.cat([batch["edges"], out["gray"]], 1))
            fake_logits, _ = d(torch.cat([out["edge"].detach(), out["gray"]], 1))
            loss = L.d_loss(real_logits, fake_logits, self.cfg.gan)
            total = total + loss
            logs["d_edge"] = loss.item()
        if "image" in self.discs:
            loss, _ = self.image_d_loss(self.discs["image"], out["pred"], batch["image"])
            total = total + loss
            logs["d"] = loss.item()
        return total, logs

    def g_loss(self, batch, out):  # type: ignore[override]
        total = torch.zeros((), device=self.device)
        logs: dict[str, float] = {}
        w = self.w
        if "edge" in out:
            d = _plain(self.discs["edge"])
            for p in d.parameters():
                p.requires_grad_(False)
            fake_logits, fake_feats = d(torch.cat([out["edge"], out["gray"]], 1))
            with torch.no_grad():
                _, real_feats = d(torch.cat([batch["edges"], out["gray"]], 1))
            for p in d.parameters():
                p.requires_grad_(True)
            adv = L.g_loss(fake_logits, self.cfg.gan)
            fm = L.feature_matching(fake_feats, real_feats)
            total = total + w["edge_adv"] * adv + w["edge_fm"] * fm
            logs.update(e_adv=adv.item(), e_fm=fm.item())
            if w["edge_bce"] > 0:
                # Not in the paper: a direct edge target speeds up short CPU runs (off by default).
                bce = F.binary_cross_entropy(out["edge"].float().clamp(1e-6, 1 - 1e-6), batch["edges"].float())
                total = total + w["edge_bce"] * bce
                logs["e_bce"] = bce.item()
        if "pred" in out:
            loss, ilogs = self.image_losses(self.discs["image"], out["pred"], batch["image"], batch["mask"])
            total = total + loss
            logs.update(ilogs)
        return total, logs

    def run(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from restorer.models.edgeconnect import known_edges, to_gray

        known_t = known_edges(to_gray(image * (1 - mask)), mask, float(self.cfg.sigma)).to(image.dtype)
        pred, _ = self.generator(image, mask, known_t)
        return pred


class DetectorTask(Task):
    """The damage detector: per-kind binary cross-entropy plus a soft Dice (1 - F1) of each kind over the
    batch, on damaged and clean prints alike.

    The Dice is per kind, not of all kinds together: a Dice of the kinds' maximum sends its gradient to
    whichever map is highest at a pixel, so the first map to rise (cracks) learned every kind and the
    others, left to a cross-entropy dominated by background pixels, stayed near zero (the first
    shipped weights put 100 % of what they found above 0.5 in the cracks map)."""

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"logits": self.net(batch["gray"])}

    def g_loss(self, batch, out):  # type: ignore[override]
        logits, target = out["logits"], batch["damage"]
        keep = L.near_keep(target, int(self.w["near"]))
        bce = F.binary_cross_entropy_with_logits(logits, target, weight=keep)
        dice = L.kind_dice(torch.sigmoid(logits), target, keep)
        total = self.w["bce"] * bce + self.w["dice"] * dice
        return total, {"bce": bce.item(), "dice": dice.item()}

    def make_dataset(self) -> Dataset:
        from pathlib import Path

        from restorer.training.data import DamageDataset

        return DamageDataset(Path(self.cfg.data), int(self.cfg.crop), int(self.cfg.seed))

    def inpainter(self) -> Any:
        raise NotImplementedError("a detector does not inpaint; score it with restorer-cli evaluate-detection")


def _plain(module: nn.Module) -> nn.Module:
    return module.module if hasattr(module, "module") else module  # type: ignore[return-value]


def make_task(cfg: TrainConfig, device: torch.device) -> Task:
    if cfg.model not in STAGES:
        raise ValueError(f"unknown model {cfg.model!r}; choose {', '.join(STAGES)}")
    if cfg.stage not in STAGES[cfg.model]:
        raise ValueError(f"{cfg.model} has stages {', '.join(STAGES[cfg.model])}, not {cfg.stage!r}")
    if cfg.model == DETECTOR:
        return DetectorTask(cfg, device)
    return PConvTask(cfg, device) if cfg.model == "partialconv" else EdgeConnectTask(cfg, device)


class GeneratorInpainter:
    """The registry call (numpy float32 NCHW image, mask 1 = hole) around a task's generator, for validation."""

    device = "cpu"

    def __init__(self, task: Task, name: str = "training", batch: int = 8) -> None:
        self.task, self.name, self.batch = task, name, batch

    @torch.no_grad()
    def __call__(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        gen = self.task.generator
        was_training = gen.training
        gen.eval()
        try:
            m = self.task.pad_multiple
            h, w = image.shape[-2:]
            ph, pw = (-h) % m, (-w) % m
            outs = []
            for i in range(0, len(image), self.batch):
                x = torch.from_numpy(np.ascontiguousarray(image[i:i + self.batch])).to(self.task.device)
                k = torch.from_numpy(np.ascontiguousarray(mask[i:i + self.batch])).to(self.task.device)
                if ph or pw:
                    x = F.pad(x, (0, pw, 0, ph), mode="reflect")
                    k = F.pad(k, (0, pw, 0, ph), mode="constant", value=0.0)
                y = self.task.run(x, k)[..., :h, :w]  # type: ignore[attr-defined]
                outs.append(y.float().clamp(0, 1).cpu().numpy())
            return np.concatenate(outs, 0)
        finally:
            gen.train(was_training)
