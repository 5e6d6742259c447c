"""Training pipeline tests: data, masks, losses, metrics, real training steps, resume, export round trip, evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from restorer.training import commands
from restorer.training.data import InpaintingDataset, augment, make_loader
from restorer.training.masks import KINDS, MaskGenerator, draw_scratch
from restorer.training.metrics import mean_l1, psnr, ssim
from restorer.training.peers import pypatchmatch_available


def _photos(folder: Path, n: int = 6, size: tuple[int, int] = (72, 90), seed: int = 0) -> Path:
    """Smooth random colour photos with a few hard edges (something for Canny to find)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = cv2.GaussianBlur((rng.random((*size, 3)) * 255).astype(np.uint8), (9, 9), 3)
        cv2.rectangle(img, (10, 10), (40 + i, 50), tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
        cv2.imwrite(str(folder / f"p{i}.png" if i % 2 else folder / f"p{i}.jpg"), img)
    return folder


def _mask_set(folder: Path, per_bucket: int = 3, size: int = 64) -> Path:
    """The val/masks layout: ratio_A-B/no_border/N.png plus masks.csv."""
    rng = np.random.default_rng(1)
    rows = []
    for lo, hi in ((1, 10), (10, 20), (20, 30)):
        sub = folder / f"ratio_{lo:02d}-{hi:02d}" / "no_border"
        sub.mkdir(parents=True)
        for _ in range(per_bucket):
            target = rng.uniform(lo, hi) / 100
            m = np.zeros((size, size), np.uint8)
            flat = rng.permutation(size * size)[: int(target * size * size)]
            m.flat[flat] = 255
            m = cv2.dilate(m, np.ones((1, 1), np.uint8))
            name = f"{len(rows):05d}.png"
            cv2.imwrite(str(sub / name), m)
            rows.append({"file": f"{sub.relative_to(folder)}/{name}", "index": len(rows),
                         "hole_ratio": f"{(m > 0).mean():.4f}", "bucket": f"ratio_{lo:02d}-{hi:02d}", "touches_border": 0})
    with open(folder / "masks.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return folder


def _train(tmp: Path, run: str, *extra: str, data: Path | None = None) -> Path:
    data = data or _photos(tmp / "photos")
    args = ["train", "--run-dir", str(tmp / run), "--data", str(data), "--mask-dir", "", "--batch", "2",
            "--width", "8", "--workers", "0", "--threads", "1", "--log-every", "1", "--quiet", *extra]
    assert commands.main(args) == 0
    return tmp / run


def _ckpt(run: Path) -> dict:
    return torch.load(run / "latest.pt", weights_only=False)


# --- masks and data ------------------------------------------------------------------------------


def test_masks_spread_kinds_and_seeding(tmp_path: Path) -> None:
    gen = MaskGenerator(None)
    ratios, kinds = [], set()
    for i in range(150):
        m, kind = gen.draw((64, 64), np.random.default_rng(i))
        assert m.dtype == np.float32 and m.shape == (64, 64) and set(np.unique(m)) <= {0.0, 1.0}
        ratios.append(m.mean())
        kinds.add(kind)
    ratios = np.array(ratios)
    # Every validation bucket from 1-10 % to 50-60 % is represented, and little falls outside.
    counts = np.histogram(ratios, bins=[0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6])[0]
    assert (counts >= 5).all(), counts
    assert (ratios > 0.66).mean() < 0.05 and (ratios < 0.005).mean() < 0.05
    assert kinds == set(KINDS) - {"file"}
    a = gen(((48, 40)), np.random.default_rng(7))
    b = gen(((48, 40)), np.random.default_rng(7))
    assert np.array_equal(a, b) and a.shape == (48, 40)
    # A scratch is thin: its area is small compared with its extent.
    canvas = np.zeros((128, 128), np.uint8)
    draw_scratch(canvas, np.random.default_rng(3))
    assert 0 < (canvas > 127).mean() < 0.1


def test_masks_from_files_follow_buckets(tmp_path: Path) -> None:
    gen = MaskGenerator(_mask_set(tmp_path / "masks"), kinds={"file": 1.0}, max_ratio=0.3)
    leads = {gen.draw((32, 32), np.random.default_rng(i))[1] for i in range(10)}
    assert leads == {"file"}


def test_dataset_crops_tones_and_exact_resume(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "photos")
    ds = InpaintingDataset(photos, 32, MaskGenerator(None), seed=3, edge_sigma=2.0)
    batches = iter(make_loader(ds, 3, num_workers=0))
    first = [next(batches) for _ in range(3)]
    b = first[0]
    assert b["image"].shape == (3, 3, 32, 32) and b["mask"].shape == (3, 1, 32, 32)
    assert b["edges"].shape == (3, 1, 32, 32) and float(b["image"].min()) >= 0 and float(b["image"].max()) <= 1
    # Known edges never lie in the hole.
    assert float((b["known_edges"] * b["mask"]).sum()) == 0
    resumed = next(iter(make_loader(ds, 3, start_step=2, num_workers=0)))
    assert all(torch.equal(resumed[k], first[2][k]) for k in resumed)
    # Gray samples have equal channels; sepia ones have R >= G >= B.
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    gray = augment(img, 32, np.random.default_rng(0), scale_range=(0.5, 1), p_gray=1.0, p_sepia=0.0)
    assert np.allclose(gray[..., 0], gray[..., 2])
    sepia = augment(img, 32, np.random.default_rng(0), scale_range=(0.5, 1), p_gray=0.0, p_sepia=1.0)
    assert (sepia[..., 0] >= sepia[..., 2] - 1e-6).all()


# --- losses and metrics --------------------------------------------------------------------------


def test_losses_behave() -> None:
    from restorer.training import losses as L

    x = torch.rand(2, 3, 16, 16)
    mask = torch.zeros(2, 1, 16, 16)
    mask[..., 4:8, 4:8] = 1
    pred = x.clone()
    pred[..., 4:8, 4:8] += 0.5
    hole, valid = L.hole_valid_l1(pred, x, mask)
    assert float(valid) == 0 and abs(float(hole) - 0.5 * 16 / 256) < 1e-6
    assert float(L.total_variation(torch.ones(1, 3, 8, 8), torch.ones(1, 1, 8, 8))) == 0
    f1, f2 = L.RandomFeatures(5, (4, 8, 8)), L.RandomFeatures(5, (4, 8, 8))
    assert all(torch.equal(a, b) for a, b in zip(f1(x), f2(x)))  # rebuilt from the seed alone
    assert not any(p.requires_grad for p in f1.parameters())
    perc, style = L.perceptual_style([f1(pred)], f1(x))
    same_p, same_s = L.perceptual_style([f1(x)], f1(x))
    assert float(perc) > 0 and float(style) > 0 and float(same_p) == 0 and float(same_s) == 0
    perc_only, no_style = L.perceptual_style([f1(pred)], f1(x), with_style=False)
    assert no_style is None and torch.equal(perc_only, perc)
    # The SSIM loss is 1 - the SSIM metric (same window and constants).
    a, b = torch.rand(1, 3, 24, 24, dtype=torch.float64), torch.rand(1, 3, 24, 24, dtype=torch.float64)
    ref = ssim(a[0].permute(1, 2, 0).numpy(), b[0].permute(1, 2, 0).numpy())
    assert abs(1 - float(L.ssim_loss(a, b)) - ref) < 1e-5 and float(L.ssim_loss(a, a)) < 1e-6
    for kind in L.GAN_KINDS:
        good = L.d_loss(torch.full((4,), 5.0), torch.full((4,), -5.0), kind)
        bad = L.d_loss(torch.full((4,), -5.0), torch.full((4,), 5.0), kind)
        assert float(good) < float(bad)
        assert float(L.g_loss(torch.full((4,), 5.0), kind)) < float(L.g_loss(torch.full((4,), -5.0), kind))


def test_metrics_match_skimage() -> None:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(0)
    a = rng.random((40, 52, 3))
    b = np.clip(a + rng.normal(0, 0.08, a.shape), 0, 1)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=1.0, channel_axis=2)
    assert abs(ssim(a, b) - ref) < 1e-6
    assert abs(ssim(a[..., 0], b[..., 0]) - structural_similarity(
        a[..., 0], b[..., 0], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)) < 1e-6
    assert abs(psnr(a, b) - peak_signal_noise_ratio(a, b, data_range=1.0)) < 1e-9
    assert abs(mean_l1(a, b) - np.abs(a - b).mean()) < 1e-12
    assert ssim(a, a) == pytest.approx(1.0) and psnr(a, a) == float("inf")


# --- training ------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [
    ("--model", "partialconv", "--depth", "5", "--crop", "32", "--steps", "6", "--lr", "1e-3"),
    ("--model", "partialconv", "--depth", "5", "--crop", "32", "--steps", "3", "--perceptual", "disc", "--adv-pconv",
     "--freeze-bn-at", "2", "--weight", "style=100"),
    ("--model", "edgeconnect", "--stage", "edge", "--blocks", "1", "--crop", "32", "--steps", "3"),
    ("--model", "edgeconnect", "--stage", "inpaint", "--blocks", "1", "--crop", "32", "--steps", "3", "--gan", "hinge"),
    ("--model", "edgeconnect", "--stage", "joint", "--blocks", "1", "--crop", "32", "--steps", "3",
     "--perceptual", "none", "--weight", "edge_bce=1", "--weight", "ssim=1"),
], ids=["pconv", "pconv-adv-disc-freeze", "edge", "inpaint", "joint"])
def test_training_steps_change_the_trained_generator(tmp_path: Path, extra: tuple[str, ...]) -> None:
    from restorer.training.config import TrainConfig
    from restorer.training.tasks import make_task

    run = _train(tmp_path, "run", *extra)
    ckpt = _ckpt(run)
    cfg = ckpt["config"]
    torch.manual_seed(cfg["seed"])  # the loop seeds torch just before building, so this is the initial state
    initial = make_task(TrainConfig.from_dict({**cfg, "perceptual": "none"}), torch.device("cpu")).generator.state_dict()
    trained = ckpt["nets"]["generator"]
    changed = {k.split(".")[0] for k, v in trained.items() if v.is_floating_point() and not torch.equal(v, initial[k])}
    stage = cfg["stage"]
    if stage == "pconv":
        assert changed == {"encoder", "decoder"}
    else:  # a stage trains only its own generator
        assert changed == {"edge": {"edge"}, "inpaint": {"inpaint"}, "joint": {"edge", "inpaint"}}[stage]
    logs = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(logs) == cfg["steps"] and all(np.isfinite(r["loss"]) for r in logs)
    assert ckpt["step"] == cfg["steps"]
    if stage == "pconv" and cfg["perceptual"] == "random":
        # The default: the random-feature perceptual term, without the style term (not even computed).
        assert {"hole", "valid", "tv", "perc"} <= set(logs[0]) and "style" not in logs[0]
        assert np.mean([r["hole"] for r in logs[-2:]]) < np.mean([r["hole"] for r in logs[:2]])
    if cfg["weights"].get("style", 0) > 0:
        assert all(r["style"] > 0 for r in logs)
    if cfg.get("freeze_bn_at") == 2:
        bn = [k for k in trained if k.startswith("encoder.1.bn.running_mean")][0]
        assert torch.equal(trained[bn], initial[bn]) is False  # it learned before the freeze ...
    if "d" in logs[-1] or "d_edge" in logs[-1]:
        assert any(k in ckpt["nets"] for k in ("image", "edge"))


def test_resume_continues_exactly(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    common = ("--model", "partialconv", "--depth", "5", "--crop", "32", "--adv-pconv", "--ckpt-every", "0",
              "--freeze-bn-at", "0")
    straight = _ckpt(_train(tmp_path, "a", *common, "--steps", "4", data=data))
    # A run started from another's weights counts the steps behind them.
    chained = _ckpt(_train(tmp_path, "c", *common, "--steps", "1", "--init", str(tmp_path / "a" / "latest.pt"), data=data))
    assert chained["config"]["init_steps"] == 4
    # A run reached through two inits counts once: a (4 steps) -> c (1 step); a joint-like run
    # started from both stands on 5 steps, not 9.
    both = _ckpt(_train(tmp_path, "d", *common, "--steps", "1", "--init", str(tmp_path / "a" / "latest.pt"),
                        "--init", str(tmp_path / "c" / "latest.pt"), data=data))
    assert both["config"]["init_steps"] == 5 and sorted(both["config"]["lineage"].values()) == [1, 4]
    _train(tmp_path, "b", *common, "--steps", "2", data=data)
    assert commands.main(["train", "--run-dir", str(tmp_path / "b"), "--resume", "--steps", "4", "--quiet"]) == 0
    resumed = _ckpt(tmp_path / "b")
    assert resumed["step"] == straight["step"] == 4
    # Settings not given again keep their saved values (not the parser's defaults).
    assert resumed["config"]["freeze_bn_at"] == 0 and resumed["config"]["ckpt_every"] == 0
    for net in ("generator", "image"):
        for k, v in straight["nets"][net].items():
            assert torch.equal(v, resumed["nets"][net][k]), f"{net}.{k} differs after resume"
    assert straight["opt_g"]["state"][0]["step"] == resumed["opt_g"]["state"][0]["step"]
    # Starting over without --resume or --overwrite is refused with a one-line message.
    assert commands.main(["train", "--run-dir", str(tmp_path / "b"), "--data", str(data), "--quiet"]) == 1


def test_loss_weights_are_stored_in_full_and_old_runs_resume_with_theirs(tmp_path: Path) -> None:
    from restorer.training.loop import CHECKPOINT
    from restorer.training.tasks import DEFAULT_WEIGHTS, OLD_DEFAULT_WEIGHTS

    data = _photos(tmp_path / "photos")
    run = _train(tmp_path, "new", "--depth", "5", "--crop", "32", "--steps", "1", "--weight", "ssim=2", data=data)
    ckpt = _ckpt(run)
    assert ckpt["config"]["weights"] == {**DEFAULT_WEIGHTS, "ssim": 2.0}
    # A checkpoint from before kept only its overrides and ran with the old perceptual/style defaults.
    ckpt["config"]["weights"] = {"ssim": 2.0}
    torch.save(ckpt, run / CHECKPOINT)
    assert commands.main(["train", "--run-dir", str(run), "--resume", "--steps", "2", "--quiet"]) == 0
    resumed = _ckpt(run)
    assert resumed["config"]["weights"] == {**DEFAULT_WEIGHTS, **OLD_DEFAULT_WEIGHTS, "ssim": 2.0}
    last = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 2 and last["style"] > 0  # the Gram term it was started with is back


def test_refine_head_trains_alone_from_a_headless_checkpoint(tmp_path: Path) -> None:
    data = _photos(tmp_path / "photos")
    common = ("--depth", "5", "--crop", "32", "--perceptual", "none")
    base = _train(tmp_path, "base", *common, "--steps", "2", data=data)
    run = _train(tmp_path, "head", *common, "--steps", "3", "--lr", "1e-2", "--refine", "2", "--refine-width", "4",
                 "--refine-only", "--init", str(base / "latest.pt"), data=data)
    before, after = _ckpt(base)["nets"]["generator"], _ckpt(run)["nets"]["generator"]
    for k, v in before.items():  # the U-Net, BatchNorm statistics included, is left as it was
        assert torch.equal(v, after[k]), k
    assert not torch.equal(after["refine.out.weight"], torch.zeros_like(after["refine.out.weight"]))
    assert _ckpt(run)["config"]["init_steps"] == 2
    # The head is part of the exported config, so the registry builds it back. The card keeps the
    # evaluation (without its list of pairs), keyed by the model's name rather than the run folder's.
    metrics = tmp_path / "evaluation.json"
    row = {"ratio_10-20": {"psnr": 30.0, "ssim": 0.9, "l1": 0.01, "n": 100}}
    metrics.write_text(json.dumps({"results": {"telea": row, "navier-stokes": row, "head": row}, "pairs": [{}]}))
    assert commands.main(["export", str(run / "latest.pt"), "--name", "partialconv-compact", "--out",
                          str(tmp_path / "w"), "--metrics", str(metrics)]) == 0
    card = json.loads((tmp_path / "w" / "partialconv-compact.json").read_text())
    assert card["config"]["refine"] == 2 and card["config"]["refine_width"] == 4
    assert set(card["metrics"]["results"]) == {"telea", "navier-stokes", "partialconv-compact"}
    assert "pairs" not in card["metrics"]
    # A checkpoint that does not fit is refused in one line, and --refine-only needs a head.
    assert commands.main(["train", "--run-dir", str(tmp_path / "x"), "--data", str(data), "--model", "edgeconnect",
                          "--init", str(base / "latest.pt"), "--quiet", "--crop", "32"]) == 1
    assert commands.main(["train", "--run-dir", str(tmp_path / "y"), "--data", str(data), "--refine-only",
                          "--quiet"]) == 1


def test_export_round_trip_through_registry(tmp_path: Path) -> None:
    from restorer.models import registry
    from restorer.training.export import checkpoint_inpainter

    data = _photos(tmp_path / "photos")
    runs = {
        "partialconv-compact": _train(tmp_path, "pc", "--depth", "5", "--crop", "32", "--steps", "2", data=data),
        "edgeconnect-compact": _train(tmp_path, "ec", "--model", "edgeconnect", "--stage", "joint", "--blocks", "1",
                                      "--crop", "32", "--steps", "2", "--prefill", "pushpull", data=data),
    }
    rng = np.random.default_rng(0)
    image = rng.random((2, 3, 32, 32)).astype(np.float32)
    mask = np.zeros((2, 1, 32, 32), np.float32)
    mask[:, :, 8:20, 6:26] = 1
    for name, run in runs.items():
        assert commands.main(["export", str(run / "latest.pt"), "--name", name, "--out", str(tmp_path / "w")]) == 0
        card = json.loads((tmp_path / "w" / f"{name}.json").read_text())
        assert card["iterations"] == 2 and card["config"]["width"] == 8 and "research" in card["licence"]
        # The card says how the network is built (a pushpull generator built as 'white' would differ).
        assert card["config"].get("prefill") == ("pushpull" if name.startswith("edgeconnect") else None)
        spec = registry.get_spec(name)
        assert registry.check(spec, tmp_path / "w").ready
        loaded = registry.load(name, device="cpu", folder=tmp_path / "w")(image * (1 - mask), mask)
        direct = checkpoint_inpainter(run / "latest.pt")(image * (1 - mask), mask)
        direct = direct * mask + image * (1 - mask)
        assert np.abs(loaded - direct).max() < 2e-2  # fp16 weights vs fp32 training generator
        assert np.abs(loaded - direct).mean() < 2e-3
        from safetensors import safe_open

        with safe_open(str(tmp_path / "w" / f"{name}.safetensors"), "pt") as f:
            assert json.loads(f.metadata()["config"]) == card["config"]
            assert all(f.get_tensor(k).dtype in (torch.float16, torch.int64) for k in f.keys())


def test_evaluate_writes_tables_with_baselines(tmp_path: Path) -> None:
    photos = _photos(tmp_path / "val", n=4)
    masks = _mask_set(tmp_path / "masks")
    run = _train(tmp_path, "pc", "--depth", "5", "--crop", "32", "--steps", "1", data=photos)
    out = tmp_path / "eval"
    args = ["evaluate", str(run / "latest.pt"), "--photos", str(photos), "--masks", str(masks), "--size", "32",
            "--pairs", "2", "--out", str(out)]
    assert commands.main(args) == 0
    doc = json.loads((out / "evaluation.json").read_text())
    peers = ["pypatchmatch"] if pypatchmatch_available() else []
    assert list(doc["results"]) == ["telea", "navier-stokes", *peers, "pc"]
    for model in doc["results"].values():
        assert set(model) == {"ratio_01-10", "ratio_10-20", "ratio_20-30", "all"}
        assert model["all"]["n"] == 6 and 0 < model["all"]["ssim"] <= 1
    # Larger holes score worse for Telea on the same photos.
    t = doc["results"]["telea"]
    assert t["ratio_01-10"]["psnr"] > t["ratio_20-30"]["psnr"]
    md = (out / "evaluation.md").read_text()
    assert f"| {' | '.join(doc['results'])} |" in md and "ratio_10-20 (n=2)" in md
    assert cv2.imread(str(out / "evaluation_samples.png")) is not None
    assert cv2.imread(str(out / "evaluation_crops.png")) is not None
    # The same seed gives the same pairs.
    assert commands.main(args[:1] + args[2:] + ["--no-grid"]) == 0
    assert json.loads((out / "evaluation.json").read_text())["pairs"] == doc["pairs"]


def test_bad_input_is_one_line_and_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["evaluate", "--photos", str(tmp_path / "nope"), "--masks", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope" in err
    assert commands.main(["train", "--run-dir", str(tmp_path / "r"), "--data", str(tmp_path / "none")]) == 1
    assert commands.main(["train", "--run-dir", str(tmp_path / "r"), "--data", str(tmp_path), "--crop", "100"]) == 1
    assert commands.main(["evaluate", "missing.pt", "--photos", str(tmp_path), "--masks", str(tmp_path)]) == 1


def test_shipping_bar_needs_both_baselines_beaten_from_10_percent(tmp_path: Path) -> None:
    from restorer.training.evaluate import beats_baselines

    def row(p: float, s: float) -> dict:
        return {"psnr": p, "ssim": s, "l1": 0.1, "n": 1}

    buckets = ["ratio_01-10", "ratio_10-20", "ratio_20-30"]
    base = {b: row(25.0, 0.8) for b in buckets}
    good = {"ratio_01-10": row(20.0, 0.5), "ratio_10-20": row(26.0, 0.85), "ratio_20-30": row(25.5, 0.81)}
    assert beats_baselines({"telea": base, "navier-stokes": base, "m": good}, "m") == []  # 1-10 % does not count
    bad = {**good, "ratio_20-30": row(26.0, 0.79)}
    fails = beats_baselines({"telea": base, "navier-stokes": base, "m": bad}, "m")
    assert len(fails) == 2 and all("ratio_20-30 ssim" in f for f in fails)
    # The CLI refuses to write a model that misses the bar into the repository's weights/.
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"results": {"telea": base, "navier-stokes": base, "m": bad}}))
    assert commands.main(["export", str(tmp_path / "x.pt"), "--name", "partialconv-compact", "--metrics", str(metrics)]) == 1


def test_pack_fits_the_budget_and_records_sources(tmp_path: Path) -> None:
    from restorer.cli import main as cli_main

    src = tmp_path / "src"
    src.mkdir()
    rng = np.random.default_rng(3)
    for i in range(12):
        cv2.imwrite(str(src / f"p{i}.png"), rng.integers(0, 255, (120 + i, 200, 3), dtype=np.uint8))
    out = tmp_path / "shard"
    assert cli_main(["pack", str(src), "-o", str(out), "--max-mb", "0.05", "--side", "64"]) == 0
    manifest = json.loads((out / "shard.json").read_text())
    files = sorted(p for p in out.iterdir() if p.suffix == ".jpg")
    assert 0 < len(files) == manifest["photos"] < 12  # the budget stopped it early
    assert sum(p.stat().st_size for p in files) == manifest["bytes"] <= 50_000
    assert min(cv2.imread(str(files[0])).shape[:2]) == 64
    assert {Path(f["source"]).parent for f in manifest["files"]} == {src}
    sq = tmp_path / "square"
    assert cli_main(["pack", str(src), "-o", str(sq), "--max-mb", "10", "--side", "48", "--square", "--format", "png"]) == 0
    pngs = sorted(sq.glob("*.png"))
    assert len(pngs) == 12 and all(cv2.imread(str(p)).shape == (48, 48, 3) for p in pngs)
    assert [p.stem for p in pngs] == sorted(f"p{i}" for i in range(12))  # evaluation shards keep names
    assert cli_main(["pack", str(src), "-o", str(sq), "--max-mb", "1"]) == 1  # not empty: refused
