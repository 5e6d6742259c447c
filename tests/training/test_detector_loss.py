"""The damage detector's loss: per-kind soft Dice and the band around damage where a flag is not punished."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from restorer.training.losses import kind_dice, near_keep


def _target() -> torch.Tensor:
    t = torch.zeros(1, 3, 16, 16)
    t[0, 1, 8, 8] = 1  # one dust pixel
    return t


def test_near_keep_drops_only_undamaged_pixels_within_the_band_of_any_kind() -> None:
    t = _target()
    assert near_keep(t, 0) is None
    keep = near_keep(t, 2)
    assert keep is not None and keep.shape == t.shape
    assert float(keep[0, 1, 8, 8]) == 1  # the damage itself always counts
    for k in range(3):  # every kind's map may flag beside damage of any kind
        assert float(keep[0, k, 6:11, 6:11].sum()) == (1 if k == 1 else 0)
        assert float(keep[0, k].sum()) == 16 * 16 - 25 + (1 if k == 1 else 0)


def test_a_flag_beside_damage_costs_nothing_with_the_band_and_one_further_out_still_does() -> None:
    t = _target()
    keep = near_keep(t, 2)
    beside, far = t.clone(), t.clone()
    beside[0, 1, 8, 10] = 1  # 2 px off: the evaluation counts it right
    far[0, 1, 8, 11] = 1  # 3 px off: outside the band
    assert float(kind_dice(beside, t, keep)) == float(kind_dice(t, t, keep))
    assert float(kind_dice(far, t, keep)) > float(kind_dice(t, t, keep))
    assert float(kind_dice(beside, t)) > float(kind_dice(t, t))  # without the band it is punished
    logits = (beside * 2 - 1) * 8
    perfect = (t * 2 - 1) * 8
    assert torch.isclose(F.binary_cross_entropy_with_logits(logits, t, weight=keep),
                         F.binary_cross_entropy_with_logits(perfect, t, weight=keep))


def test_a_run_with_the_band_trains_and_stores_it(tmp_path) -> None:
    import cv2
    import numpy as np

    from restorer.training import commands

    rng = np.random.default_rng(0)
    (tmp_path / "photos").mkdir()
    for i in range(2):
        img = cv2.GaussianBlur((rng.random((80, 96, 3)) * 255).astype(np.uint8), (0, 0), 4)
        cv2.imwrite(str(tmp_path / "photos" / f"p{i}.jpg"), img)
    args = ["train", "--model", "damage-unet", "--run-dir", str(tmp_path / "run"), "--data", str(tmp_path / "photos"),
            "--crop", "32", "--batch", "2", "--width", "4", "--workers", "0", "--threads", "1", "--quiet",
            "--steps", "2", "--ckpt-every", "0", "--weight", "near=2"]
    assert commands.main(args) == 0
    ckpt = torch.load(tmp_path / "run" / "latest.pt", weights_only=True)
    assert ckpt["step"] == 2 and ckpt["config"]["weights"]["near"] == 2
