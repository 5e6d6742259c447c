"""evaluate's texture columns, its 100 % crops, what --no-grid says, and peers kept out of the shipping bar."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from restorer.training import commands
from restorer.training.evaluate import Pairs, make_pairs, sample_indices, score
from restorer.training.report import crop_window, markdown_table


def _val_set(tmp: Path, size: int = 80) -> tuple[Path, Path]:
    """Grainy photos (detail everywhere) and blob masks in two buckets, the val/ layout with masks.csv."""
    rng = np.random.default_rng(0)
    photos, masks = tmp / "photos", tmp / "masks"
    photos.mkdir()
    for i in range(3):
        img = cv2.GaussianBlur((rng.random((size, size + 10, 3)) * 255).astype(np.uint8), (0, 0), 0.8 + 0.2 * i)
        cv2.imwrite(str(photos / f"p{i}.png"), img)
    rows = []
    for bucket, radius in (("ratio_01-10", 8), ("ratio_30-40", 22)):
        (masks / bucket).mkdir(parents=True)
        for j in range(2):
            m = np.zeros((size, size), np.uint8)
            cv2.circle(m, (30 + 10 * j, 40), radius, 255, -1)
            name = f"{bucket}/{j}.png"
            cv2.imwrite(str(masks / name), m)
            rows.append({"file": name, "bucket": bucket})
    with open(masks / "masks.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "bucket"])
        w.writeheader()
        w.writerows(rows)
    return photos, masks


def test_evaluate_reports_texture_and_writes_true_100_percent_crops(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    photos, masks = _val_set(tmp_path)
    out = tmp_path / "eval"
    assert commands.main(["evaluate", "--photos", str(photos), "--masks", str(masks), "--size", "64", "--pairs", "2",
                          "--out", str(out)]) == 0
    assert "evaluation_samples.png, evaluation_crops.png" in capsys.readouterr().out
    doc = json.loads((out / "evaluation.json").read_text())
    for model, res in doc["results"].items():
        big = res["ratio_30-40"]
        assert big["n_detail"] == 2 and 0 < big["detail"] < 3 and big["patch"] > 0, model
        assert res["all"]["s_per_image"] > 0
    # Telea and Navier-Stokes smooth a grainy hole.
    assert doc["results"]["telea"]["ratio_30-40"]["detail"] < 0.6
    md = (out / "evaluation.md").read_text()
    assert "Detail, inside the hole" in md and "Patch distance" in md and "ratio_30-40 (n=2, d=2)" in md
    assert "| model | PSNR | SSIM | L1 | detail | patch distance | s / image |" in md
    # The crops are the pixels themselves: the 'original' column is a 1:1 copy of the pair's original.
    pairs = make_pairs(photos, masks, 64, 2, 0)
    idx = sample_indices(pairs, per_bucket=2, buckets=2)
    crops = cv2.cvtColor(cv2.imread(str(out / "evaluation_crops.png")), cv2.COLOR_BGR2RGB)
    ncols = len(doc["results"]) + 2
    step = 64 + 4
    assert crops.shape == (18 + step * len(idx), step * ncols, 3)
    for r, i in enumerate(idx):
        y, x = crop_window(pairs.masks[i, 0] > 0.5, 64)
        want = (pairs.images[i].transpose(1, 2, 0)[y:y + 64, x:x + 64] * 255 + 0.5).astype(np.uint8)
        top, left = 18 + r * step, (ncols - 1) * step
        assert np.array_equal(crops[top:top + 64, left:left + 64], want)


def test_no_grid_writes_and_claims_no_pictures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos, masks = _val_set(tmp_path)
    out = tmp_path / "eval"
    assert commands.main(["evaluate", "--photos", str(photos), "--masks", str(masks), "--size", "32", "--pairs", "1",
                          "--out", str(out), "--no-grid"]) == 0
    said = capsys.readouterr().out
    assert "written:" in said and "evaluation.md" in said
    assert ".png" not in said and not list(out.glob("*.png"))


def test_crop_window_shows_hole_and_context() -> None:
    hole = np.zeros((256, 256), bool)
    hole[150:230, 20:120] = True
    y, x = crop_window(hole, 128)
    frac = hole[y:y + 128, x:x + 128].mean()
    assert 0.4 < frac < 0.7 and 0 <= y <= 128 and 0 <= x <= 128
    assert crop_window(np.ones((40, 40), bool), 128) == (0, 0)  # a crop larger than the image is the image


def test_score_tells_blur_from_the_truth() -> None:
    rng = np.random.default_rng(0)
    img = np.clip(0.5 + 0.2 * rng.standard_normal((2, 3, 48, 48)), 0, 1).astype(np.float32)
    mask = np.zeros((2, 1, 48, 48), np.float32)
    mask[:, :, 10:34, 12:40] = 1
    pairs = Pairs(img, mask, ["ratio_10-20", "ratio_20-30"], ["a", "b"], ["m", "n"])
    truth = score(img, pairs)
    assert truth["all"]["detail"] == pytest.approx(1.0) and truth["all"]["patch"] == pytest.approx(0.0, abs=1e-9)
    blur = np.stack([cv2.GaussianBlur(x.transpose(1, 2, 0), (0, 0), 2).transpose(2, 0, 1) for x in img])
    blurred = score(blur * mask + img * (1 - mask), pairs)
    assert blurred["all"]["detail"] < 0.3 and blurred["all"]["patch"] > 0.2 and blurred["all"]["n_detail"] == 2
    assert "detail" not in score(img, pairs, texture=False)["all"]


def test_table_of_results_saved_before_texture_still_renders() -> None:
    old = {"telea": {"ratio_01-10": {"psnr": 30.0, "ssim": 0.9, "l1": 0.01, "n": 5},
                     "all": {"psnr": 30.0, "ssim": 0.9, "l1": 0.01, "n": 5, "seconds": 1.0}}}
    md = markdown_table(old)
    assert "PSNR" in md and "Detail" not in md and "s / image" not in md


def test_peer_baselines_are_not_taken_for_the_learned_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = {"psnr": 25.0, "ssim": 0.8, "l1": 0.1, "n": 1}
    worse = {**row, "psnr": 24.0}
    results = {"telea": {"ratio_10-20": row}, "navier-stokes": {"ratio_10-20": row},
               "pypatchmatch": {"ratio_10-20": row}, "m": {"ratio_10-20": worse}}
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps({"results": results}))
    assert commands.main(["export", str(tmp_path / "x.pt"), "--name", "partialconv-compact", "--metrics",
                          str(metrics)]) == 1
    assert "m misses the shipping bar" in capsys.readouterr().err
