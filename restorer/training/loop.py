"""The training loop: optimisers, precision, checkpoints and resume, logs, validation, and DDP.

Single process:  restorer-cli train --model partialconv --run-dir runs/pconv ...
Several GPUs:    torchrun --standalone --nproc_per_node=4 -m restorer.training.commands train ...
(torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; each rank takes its own slots of every global batch,
gradients are averaged by DDP, and only rank 0 writes logs, checkpoints and validation.)
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from restorer.errors import RestorerError
from restorer.training import shipped
from restorer.training.config import TrainConfig
from restorer.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from restorer.training.data import make_loader
from restorer.training.runlog import LOG, Report, append_jsonl
from restorer.training.tasks import DEFAULT_WEIGHTS, OLD_DEFAULT_WEIGHTS, Task, make_task, network_config

CHECKPOINT = "latest.pt"
# What may differ between a run and its resumption; everything else comes from the checkpoint.
RESUME_OVERRIDES = ("run", "steps", "workers", "threads", "ckpt_every", "val_every", "log_every", "device", "quiet",
                    "freeze_bn_at")


# --- checkpoints (saved and loaded in restorer.training.checkpoint) -----------------------------


def _unwrap(module: torch.nn.Module) -> torch.nn.Module:
    inner = getattr(module, "module", module)  # DataParallel / DistributedDataParallel wrap the real one
    return inner if isinstance(inner, torch.nn.Module) else module


def init_from(task: Task, spec: str) -> dict[str, int]:
    """``--init [PREFIX=]PATH``: copy generator weights (all, or those under PREFIX, e.g. edge=...) from a checkpoint.

    Returns the steps that stand behind those weights, per run folder: the checkpoint's own run and
    the runs behind its inits (see merge_lineage).
    """
    prefix, _, path = spec.rpartition("=")
    if shipped.is_weights(path):  # shipped weights + card: the archivist's fine-tune of a released model
        src, own_steps = shipped.load_state(Path(path))
        ckpt: dict[str, Any] = {"config": {"lineage": {}}, "step": own_steps}
    else:
        ckpt = load_checkpoint(Path(path))
        src = ckpt["nets"]["generator"]
    keys = [k for k in src if not prefix or k.startswith(prefix + ".")]
    if not keys:
        raise RestorerError(f"{path}: no generator weights under {prefix!r}")
    result = task.generator.load_state_dict({k: src[k] for k in keys}, strict=False)
    # A whole-generator init may leave out only a refinement head the source did not have (it starts
    # as the identity); anything else missing or left over means the checkpoint does not fit.
    missing = [k for k in result.missing_keys if not prefix or k.startswith(prefix + ".")]
    missing = [k for k in missing if not k.startswith("refine.")]
    if missing or result.unexpected_keys:
        raise RestorerError(f"{path}: does not fit this generator (missing {missing[:3]}, "
                            f"unexpected {result.unexpected_keys[:3]})")
    src_cfg = ckpt["config"]
    # Checkpoints from before the lineage was kept count their inits under their own run.
    behind = src_cfg.get("lineage", {})
    own = int(ckpt["step"]) + (0 if "lineage" in src_cfg else int(src_cfg.get("init_steps", 0)))
    return merge_lineage(behind, {str(Path(path).resolve().parent): own})


def merge_lineage(*lineages: Mapping[str, int]) -> dict[str, int]:
    """Runs behind a set of weights -> steps. A run reached through two inits (an edge run that also
    started the image run, both given to the joint stage) counts once, at its furthest step."""
    merged: dict[str, int] = {}
    for lineage in lineages:
        for run, steps in lineage.items():
            merged[run] = max(merged.get(run, 0), int(steps))
    return merged


# --- validation --------------------------------------------------------------------------------


class Validator:
    """Scores the generator on a fixed, seeded set of validation pairs; Telea/NS are scored once per run."""

    def __init__(self, cfg: TrainConfig, run_dir: Path) -> None:
        from restorer.training import evaluate as E

        self.E = E
        self.pairs = E.make_pairs(Path(cfg.val_photos), Path(cfg.val_masks), size=int(cfg.val_size),
                                  pairs_per_bucket=int(cfg.val_pairs), seed=int(cfg.seed))
        cache = run_dir / f"val_baselines_{cfg.val_size}_{cfg.val_pairs}.json"
        if cache.is_file():
            self.baselines = json.loads(cache.read_text())
        else:
            self.baselines = E.score_models(self.pairs, E.classical_models())
            cache.write_text(json.dumps(self.baselines, indent=1))

    def __call__(self, task: Task) -> dict[str, Any]:
        scores = self.E.score_models(self.pairs, {"model": task.inpainter()})["model"]
        return {"model": scores, **self.baselines}


# --- the loop ------------------------------------------------------------------------------------


def _setup_distributed() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 0, 1
    import torch.distributed as dist

    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return dist.get_rank(), local, world


def _start(cfg: TrainConfig, ckpt_path: Path) -> tuple[TrainConfig, dict[str, Any] | None]:
    """The run's config and, when resuming, its checkpoint: a resumed run keeps its saved config but
    for what the command line set explicitly; a new one stores every loss weight it optimises."""
    if cfg.resume and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path)
        saved = dict(ckpt["config"])
        # Only what the command line set, not its defaults.
        saved.update({k: getattr(cfg, k) for k in RESUME_OVERRIDES if k in cfg.explicit and getattr(cfg, k) is not None})
        saved["resume"] = True
        if "perceptual" not in saved.get("weights", {}):  # saved before every weight was stored
            saved["weights"] = {**DEFAULT_WEIGHTS, **OLD_DEFAULT_WEIGHTS, **saved.get("weights", {})}
        return TrainConfig.from_dict(saved), ckpt
    if ckpt_path.is_file() and not cfg.overwrite:
        raise RestorerError(f"{ckpt_path.parent}: holds a checkpoint already; pass --resume to continue or --overwrite to restart")
    # Every loss weight goes into the run's config, so a later change of defaults cannot change
    # what a resumed run optimises.
    return cfg.replace(weights={**DEFAULT_WEIGHTS, **cfg.weights}), None


def _process(cfg: TrainConfig, rank: int, local_rank: int) -> torch.device:
    """This process's threads, device and seeds (each rank its own seed)."""
    if cfg.threads:
        import cv2

        torch.set_num_threads(int(cfg.threads))
        cv2.setNumThreads(int(cfg.threads))
    if cfg.device == "auto":
        device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(cfg.device)
    seed = int(cfg.seed)
    torch.manual_seed(seed + rank)
    np.random.seed(seed + rank)
    random.seed(seed + rank)
    return device


def _restore(ckpt: dict[str, Any], task: Task, cfg: TrainConfig, opt_g: torch.optim.Optimizer,
             opt_d: torch.optim.Optimizer | None, scaler: torch.amp.GradScaler,
             betas: tuple[float, float]) -> tuple[int, torch.optim.Optimizer]:
    """Load a checkpoint's networks, optimisers, scaler and RNG; returns (step, the generator's optimiser)."""
    task.generator.load_state_dict(ckpt["nets"]["generator"])
    for name, d in task.discs.items():
        d.load_state_dict(ckpt["nets"][name])
    step = int(ckpt["step"])
    if cfg.model == "partialconv" and 0 < int(cfg.freeze_bn_at) <= step:
        task.generator.freeze_encoder_bn(True)  # type: ignore[operator]
        opt_g = torch.optim.Adam(task.trainable(), lr=float(cfg.finetune_lr), betas=betas)
    opt_g.load_state_dict(ckpt["opt_g"])
    if opt_d is not None and ckpt.get("opt_d") is not None:
        opt_d.load_state_dict(ckpt["opt_d"])
    if ckpt.get("scaler"):
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"])
    return step, opt_g


def _step(task: Task, batch: dict[str, torch.Tensor], opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer | None,
          scaler: torch.amp.GradScaler, device: torch.device, amp: bool, step: int) -> dict[str, float]:
    """One optimisation step: the discriminators first (if any), then the generator; returns its logs."""
    with torch.autocast(device.type, enabled=amp):
        out = task.forward(batch)
    logs: dict[str, float] = {}
    if opt_d is not None:
        with torch.autocast(device.type, enabled=amp):
            d_loss, dlogs = task.d_loss(batch, out)
        opt_d.zero_grad(set_to_none=True)
        scaler.scale(d_loss).backward()
        scaler.step(opt_d)
        logs.update(dlogs)
    with torch.autocast(device.type, enabled=amp):
        g_loss, glogs = task.g_loss(batch, out)
    opt_g.zero_grad(set_to_none=True)
    scaler.scale(g_loss).backward()
    scaler.step(opt_g)
    scaler.update()
    logs.update(glogs)
    logs["loss"] = g_loss.item()
    if not np.isfinite(logs["loss"]):
        raise RestorerError(f"loss became {logs['loss']} at step {step}; lower --lr or check the data")
    return logs


@dataclass
class _Run:
    """One run's live state: what set-up builds and every later step reads or advances."""

    cfg: TrainConfig
    task: Task
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer | None
    scaler: torch.amp.GradScaler
    betas: tuple[float, float]
    device: torch.device
    amp: bool
    step: int
    rank: int
    world: int
    run_dir: Path
    ckpt_path: Path

    @property
    def main(self) -> bool:
        return self.rank == 0  # only rank 0 writes logs, checkpoints and validation


def _set_up(cfg: TrainConfig) -> _Run:
    """Config (resumed or new), process, networks, optimisers and, when resuming, their saved state."""
    run_dir = Path(cfg.run)
    ckpt_path = run_dir / CHECKPOINT
    cfg, ckpt = _start(cfg, ckpt_path)
    rank, local_rank, world = _setup_distributed()
    device = _process(cfg, rank, local_rank)
    amp = device.type == "cuda" and not cfg.no_amp

    if ckpt is None:
        cfg = shipped.adopt_card(cfg)  # --init NAME.safetensors: the card's architecture
    task = make_task(cfg, device)
    if ckpt is None:
        # Steps behind the initial weights, so the model card can count every iteration of a staged run.
        lineage = merge_lineage(*(init_from(task, spec) for spec in cfg.init))
        cfg = cfg.replace(lineage=lineage, init_steps=sum(lineage.values()))
    if cfg.model == "partialconv" and int(cfg.freeze_bn_at) == 0:
        task.generator.freeze_encoder_bn(True)  # type: ignore[operator]

    betas = (float(cfg.beta1), float(cfg.beta2))
    opt_g: torch.optim.Optimizer = torch.optim.Adam(task.trainable(), lr=float(cfg.lr), betas=betas)
    d_params = [p for d in task.discs.values() for p in d.parameters()]
    opt_d = torch.optim.Adam(d_params, lr=float(cfg.lr) * float(cfg.d_lr_ratio), betas=betas) if d_params else None
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    step = 0
    if ckpt is not None:
        step, opt_g = _restore(ckpt, task, cfg, opt_g, opt_d, scaler, betas)

    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [local_rank] if device.type == "cuda" else None
        task.wrap(lambda m: DDP(m, device_ids=ids))
    return _Run(cfg, task, opt_g, opt_d, scaler, betas, device, amp, step, rank, world, run_dir, ckpt_path)


def _train_step(run: _Run, batch: dict[str, torch.Tensor]) -> dict[str, float]:
    """One optimisation step of the run (PConv's BatchNorm freeze when its step comes); advances run.step."""
    cfg = run.cfg
    batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
    freeze_at = int(cfg.freeze_bn_at)
    if cfg.model == "partialconv" and freeze_at > 0 and run.step == freeze_at:
        # PConv's fine-tune step: encoder BatchNorm frozen, a fresh optimiser at the lower lr.
        run.task.generator.freeze_encoder_bn(True)  # type: ignore[operator]
        run.opt_g = torch.optim.Adam(run.task.trainable(), lr=float(cfg.finetune_lr), betas=run.betas)
    logs = _step(run.task, batch, run.opt_g, run.opt_d, run.scaler, run.device, run.amp, run.step)
    run.step += 1
    return logs


def _checkpoint(run: _Run) -> None:
    """Save everything a resumption needs (networks, optimisers, scaler, RNG, config) atomically."""
    task = run.task
    save_checkpoint(run.ckpt_path, {
        "config": run.cfg.as_dict(), "step": run.step,
        "nets": {"generator": task.generator.state_dict(),
                 **{k: _unwrap(d).state_dict() for k, d in task.discs.items()}},
        "opt_g": run.opt_g.state_dict(), "opt_d": run.opt_d.state_dict() if run.opt_d else None,
        "scaler": run.scaler.state_dict() if run.amp else None, "rng": rng_state(),
        "network_config": network_config(run.cfg),
    })


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training as ``cfg`` says; returns the final state summary {step, run_dir, ...}."""
    run = _set_up(cfg)
    cfg = run.cfg
    loader = make_loader(run.task.make_dataset(), int(cfg.batch), start_step=run.step, num_workers=int(cfg.workers),
                         rank=run.rank, world=run.world)
    if run.main:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        (run.run_dir / "config.json").write_text(json.dumps(cfg.as_dict(), indent=1, default=str))
    validator = Validator(cfg, run.run_dir) if run.main and int(cfg.val_every) > 0 and cfg.val_photos else None

    stop = {"flag": False}

    def _on_signal(signum: int, frame: Any) -> None:
        stop["flag"] = True  # finish the step, save, exit: a killed run loses nothing

    signals = (signal.SIGTERM, signal.SIGINT)
    old_handlers = {s: signal.signal(s, _on_signal) for s in signals} if run.main and _in_main_thread() else {}
    report = Report(run.run_dir, int(cfg.steps), int(cfg.log_every), run.step, bool(cfg.quiet))
    try:
        run.task.generator.train()
        for batch in loader:
            if run.step >= report.total or stop["flag"]:
                break
            logs = _train_step(run, batch)
            if run.main:
                report.add(run.step, logs)
            if run.main and int(cfg.ckpt_every) > 0 and run.step % int(cfg.ckpt_every) == 0:
                _checkpoint(run)
            if validator is not None and run.step % int(cfg.val_every) == 0:
                _validate(validator, run.task, run.run_dir, run.step, bool(cfg.quiet))
    finally:
        if run.main:
            _checkpoint(run)
            report.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        if run.world > 1:
            import torch.distributed as dist

            dist.destroy_process_group()
    return {"step": run.step, "run": str(run.run_dir), "checkpoint": str(run.ckpt_path), "config": cfg}


def _validate(validator: Validator, task: Task, run_dir: Path, step: int, quiet: bool) -> None:
    t0 = time.perf_counter()
    res = validator(task)
    append_jsonl(run_dir / LOG, {"step": step, "time": time.time(), "val": res, "val_seconds": time.perf_counter() - t0})
    if not quiet:
        line = " ".join(
            f"{b}: {res['model'][b]['psnr']:.2f}/{res['telea'][b]['psnr']:.2f}"
            for b in res["model"] if b != "all"
        )
        sys.stderr.write(f"\nval step {step} psnr model/telea {line}\n")


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
