"""Export: a training checkpoint's generator as half-precision safetensors plus its JSON model card.

The card is what restorer/models/neural.py reads: ``config`` (build_network's dict), ``sha256`` (the
registry's integrity check), ``inference`` (half-precision safety on GPUs), and provenance (data,
command, iterations, metrics, licence). The safetensors ``__metadata__`` repeats the config, so the
file alone says how to build its network.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Mapping

import torch

from restorer.errors import RestorerError
from restorer.checksums import file_sha256

LICENCE_NOTE = ("Weights trained by the Restorer project on research-only photo collections (BSDS500, ImageNet "
                "samples, Urban100, Sun & Hays, Set14; masks include NVIDIA's irregular mask set, CC BY-NC-SA "
                "4.0). Research and non-commercial use only; the code is GPL-3.0-or-later.")
DATA_NOTE = ("../shared/data/train (BSDS500 431, ImageNet samples 1807, Urban100 100, Sun & Hays 80, Set14 10 "
             "photos), random crops with scale jitter, flips, 20 % gray and 10 % sepia; masks generated on the fly "
             "(brush strokes, scratches, cracks, dust, blotches, torn corners) mixed with the irregular masks of "
             "../shared/data/val/masks (flipped/rotated/cropped); hole ratios 1-60 %.")
DETECTOR_LICENCE_NOTE = ("Weights trained by the Restorer project on research-only photo collections (BSDS500, "
                         "ImageNet samples, Urban100, Sun & Hays, Set14). Research and non-commercial use only; "
                         "the code is GPL-3.0-or-later.")
DETECTOR_DATA_NOTE = ("../shared/data/train (BSDS500 431, ImageNet samples 1807, Urban100 100, Sun & Hays 80, Set14 10 "
                      "photos), random crops near the photos' own scale, flips; each made to look like an old print "
                      "(colour, gray or sepia, fading, softness) and damaged by restorer/detection/render.py "
                      "(scratches, dust, hairs, cracks), 25 % left clean, then grain and JPEG over all; the truth is "
                      "the pixels whose luminance the damage changed by at least 13/255.")



def half_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict with float tensors in fp16 (BatchNorm's counters stay integers), contiguous and unshared."""
    out = {}
    for k, v in module.state_dict().items():
        v = v.detach().cpu()
        out[k] = (v.half() if v.is_floating_point() else v).contiguous().clone()
    return out


def export_generator(generator: torch.nn.Module, config: Mapping[str, Any], name: str, out_dir: Path, *,
                     iterations: int, command: str | None = None, metrics: Mapping[str, Any] | None = None,
                     training: Mapping[str, Any] | None = None, data: str = DATA_NOTE,
                     licence: str = LICENCE_NOTE) -> tuple[Path, Path]:
    """Write OUT/NAME.safetensors (fp16, generator only) and OUT/NAME.json (its card); returns both paths."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    st_path, card_path = out_dir / f"{name}.safetensors", out_dir / f"{name}.json"
    meta = {"config": json.dumps(dict(config)), "name": name, "iterations": str(int(iterations))}
    tmp = st_path.with_name(st_path.name + ".tmp")
    save_file(half_state(generator), str(tmp), metadata=meta)
    os.replace(tmp, st_path)
    os.chmod(st_path, 0o644)  # safetensors writes owner-only files; weights are for everyone to read
    card = {
        "name": name,
        "config": dict(config),
        "inference": {"half": "fp16"},
        "format": "safetensors, fp16, generator only (build_network(config).state_dict())",
        "data": data,
        "training": dict(training or {}),
        "command": command,
        "iterations": int(iterations),
        "metrics": metrics,
        "sha256": file_sha256(st_path),
        "size_bytes": st_path.stat().st_size,
        "licence": licence,
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp_card = card_path.with_name(card_path.name + ".tmp")
    tmp_card.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp_card, card_path)
    return st_path, card_path


def _task_from_checkpoint(path: Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    from restorer.training.checkpoint import load_checkpoint
    from restorer.training.tasks import make_task

    if not Path(path).is_file():
        raise RestorerError(f"{path}: checkpoint does not exist")
    ckpt = load_checkpoint(Path(path))
    cfg = dict(ckpt["config"])
    cfg["perceptual"] = "none"  # the loss extractor is not needed to run or export the generator
    task = make_task(cfg, torch.device(device))
    task.generator.load_state_dict(ckpt["nets"]["generator"])
    task.generator.eval()
    return task, ckpt


def checkpoint_inpainter(path: Path, device: str = "cpu") -> Any:
    """A registry-style callable straight from a training checkpoint (for evaluate before export)."""
    task, _ = _task_from_checkpoint(path, device)
    return task.inpainter()


def _bias_text(bias: float | dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in bias.items()) if isinstance(bias, dict) else f"{bias:g}"


def export_checkpoint(path: Path, name: str, out_dir: Path, *, metrics: Mapping[str, Any] | None = None,
                      command: str | None = None, iterations: int | None = None,
                      logit_bias: float | dict[str, float] | None = None) -> tuple[Path, Path]:
    """``logit_bias``: the detector's calibration (restorer/detection/learned.py), written into its card's config."""
    from restorer.training.tasks import DETECTOR, network_config

    task, ckpt = _task_from_checkpoint(path)
    cfg = ckpt["config"]
    keep = ("model", "stage", "crop", "batch", "lr", "perceptual", "gan", "weights", "seed", "freeze_bn_at", "init",
            "init_steps")
    if iterations is None:
        iterations = int(ckpt["step"]) + int(cfg.get("init_steps", 0))
    detector = cfg["model"] == DETECTOR
    config = network_config(cfg)
    if logit_bias is not None:
        if not detector:
            raise RestorerError("--logit-bias calibrates a detector; this checkpoint is an inpainting model")
        config["logit_bias"] = dict(logit_bias) if isinstance(logit_bias, dict) else float(logit_bias)
        from restorer.detection.learned import config_problem

        problem = config_problem(config)
        if problem:
            raise RestorerError(f"--logit-bias: {problem}")
    return export_generator(task.generator, config, name, out_dir, iterations=iterations,
                            command=command or cfg.get("argv"), metrics=metrics,
                            training={**{k: cfg.get(k) for k in keep}, **({} if logit_bias is None else {
                                "calibration": f"logits - {_bias_text(logit_bias)} at inference: threshold 0.5 is the operating "
                                               "point chosen on training photos, never the validation ones "
                                               "(benchmarks/calibrate_combined.py, calibrate_detector.py or an "
                                               "evaluate-detection threshold sweep)"})},
                            data=DETECTOR_DATA_NOTE if detector else DATA_NOTE,
                            licence=DETECTOR_LICENCE_NOTE if detector else LICENCE_NOTE)
