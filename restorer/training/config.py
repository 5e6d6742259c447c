"""TrainConfig: everything one training run is, as a typed, frozen record (no torch).

Built from the command line in one place (``restorer.training.commands.train_config``), saved into
every checkpoint and RUN_DIR/config.json as a plain dict (``as_dict``), and read back from
checkpoints of any age with ``TrainConfig.from_dict``: keys it does not know are ignored (logged),
keys an older run did not save take the defaults below. The defaults are those of
``restorer-cli train``'s options (the parser takes them from here), with the model-dependent ones
(``stage``, ``beta1``, ``beta2``) resolved by ``train_config`` before the record is made.

A run's config never changes in place: the loop derives the next one with ``dataclasses.replace``
(the card's architecture of --init weights, the lineage behind them, a resumption's overrides).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    # --- what is trained -----------------------------------------------------------------------
    model: str = "partialconv"          # partialconv | edgeconnect | damage-unet
    stage: str = "pconv"                # pconv; edgeconnect: edge | inpaint | joint; damage-unet: detect
    run: str = "runs/run"               # the run folder: checkpoint, log, config.json
    resume: bool = False                # continue from RUN_DIR/latest.pt with its saved config
    overwrite: bool = False             # start afresh even if RUN_DIR holds a checkpoint
    init: tuple[str, ...] = ()          # [PREFIX=]CKPT or shipped weights the generator starts from

    # --- data ------------------------------------------------------------------------------------
    data: str | None = None             # folder of training photos
    mask_dir: str | None = None         # irregular masks mixed into the generated ones (None/'' = none)
    crop: int = 128
    batch: int = 8                      # per process
    seed: int = 0
    workers: int = 1

    # --- the networks (network_config in tasks.py turns these into a card's config) --------------
    width: int = 32
    depth: int = 7                      # partialconv: U-Net depth
    refine: int = 0                     # partialconv: refinement head layers (0 = none)
    refine_width: int = 32
    refine_only: bool = False           # partialconv: train the refinement head alone
    blocks: int = 4                     # edgeconnect: residual blocks
    sigma: float = 2.0                  # edgeconnect: Canny sigma
    prefill: str = "white"              # edgeconnect: white | pushpull
    disc_width: int = 32

    # --- optimisation and losses -----------------------------------------------------------------
    steps: int = 10000                  # total steps (a resumed run may raise it)
    lr: float = 2e-4
    finetune_lr: float = 5e-5
    freeze_bn_at: int = -1              # partialconv: freeze encoder BatchNorm from this step (-1 never)
    beta1: float = 0.9
    beta2: float = 0.999
    d_lr_ratio: float = 0.1             # discriminator lr / generator lr
    gan: str = "nsgan"                  # nsgan | hinge | lsgan
    perceptual: str = "random"          # random | disc | none
    adv_pconv: bool = False             # partialconv: add the adversarial term
    weights: dict[str, float] = field(default_factory=dict)  # loss weights (a new run stores every one)
    feature_seed: int = 1234            # the fixed random perceptual features
    feature_widths: tuple[int, ...] = (16, 32, 64)

    # --- where and how it runs -------------------------------------------------------------------
    threads: int | None = None          # torch CPU threads
    device: str = "auto"
    no_amp: bool = False                # fp32 on CUDA too
    ckpt_every: int = 250
    log_every: int = 25
    quiet: bool = False

    # --- validation during training --------------------------------------------------------------
    val_every: int = 0                  # 0 = never
    val_photos: str | None = None
    val_masks: str | None = None
    val_pairs: int = 20
    val_size: int = 256

    # --- provenance (set by the command and the loop, not by options) ----------------------------
    explicit: tuple[str, ...] = ()      # the options the command line set (a resumption keeps only these)
    argv: str = ""                      # the command, for the model card
    lineage: dict[str, int] = field(default_factory=dict)  # run folder -> steps behind the --init weights
    init_steps: int = 0                 # the sum of lineage

    def as_dict(self) -> dict[str, Any]:
        """Plain types, for checkpoints and config.json."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, saved: Mapping[str, Any]) -> TrainConfig:
        """A config from a checkpoint's (or any older run's) dict: unknown keys are ignored with a
        note in the log, missing ones take the defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in saved if k not in known)
        if unknown:
            log.info("training config: ignoring keys this version does not know: %s", ", ".join(unknown))
        values = {k: v for k, v in saved.items() if k in known}
        for name in ("init", "explicit"):
            if name in values:
                values[name] = tuple(values[name] or ())
        if "feature_widths" in values:
            values["feature_widths"] = tuple(int(w) for w in values["feature_widths"])
        for name in ("weights", "lineage"):
            if name in values:
                values[name] = dict(values[name] or {})
        return cls(**values)


DEFAULTS = TrainConfig()
