"""The synthetic damage renderer and the pixel-tolerance scores the evaluation is built on."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.detection.evaluate import flagged_share, score
from restorer.detection.render import VISIBLE, DamageCounts, render_damage, to_float


def test_same_seed_same_damage_and_the_contract_kept(make_smooth_photo) -> None:
    clean = make_smooth_photo(1, 300, 400)
    a, b, c = render_damage(clean, 5), render_damage(clean, 5), render_damage(clean, 6)
    assert np.array_equal(a.pixels, b.pixels) and not np.array_equal(a.pixels, c.pixels)
    assert a.pixels.dtype == clean.dtype and a.pixels.shape == clean.shape
    deep = render_damage(np.repeat(clean[..., None], 3, 2).astype(np.uint16) * 257, 5)
    assert deep.pixels.dtype == np.uint16 and deep.pixels.shape == (300, 400, 3)


def test_truth_is_exactly_the_visibly_changed_pixels(make_smooth_photo) -> None:
    clean = make_smooth_photo(2)
    damaged = render_damage(clean, 3)
    change = np.abs(to_float(damaged.pixels) - to_float(clean))[..., 0]
    truth = damaged.any
    assert truth.sum() > 500
    assert (change[truth] >= VISIBLE - 1 / 255).all()
    assert (change[~truth] < VISIBLE + 1 / 255).all()
    kinds = list(damaged.truth.values())
    assert not any((kinds[i] & kinds[j]).any() for i in range(3) for j in range(i + 1, 3))  # one kind per pixel


def test_scores_count_tolerances_of_three_and_one_pixels() -> None:
    truth = np.zeros((30, 30), bool)
    truth[10:20, 15] = True  # a 1-px line, 10 px long
    detected = np.zeros_like(truth)
    detected[10:20, 16] = True  # one px beside it: every true pixel found
    detected[10:20, 18] = True  # three px beside: right for precision
    detected[10:20, 22] = True  # seven px: a false alarm
    s = score(detected, truth)
    assert s.recall == 1.0
    assert s.precision == 20 / 30
    assert score(np.zeros_like(truth), truth).recall == 0.0
    assert flagged_share(detected) == 30 / 900


def test_hard_scratches_are_even_hard_edged_and_all_in_the_truth() -> None:
    """A share of the scratches is drawn like cv2.line: 1-4 whole pixels, one tone end to end, no rim;
    on a flat photo the truth mask is exactly the pixels the line changed."""
    flat = np.full((160, 200), 128, np.uint8)
    only_scratches = DamageCounts(scratches=1.0, dust=0, hairs=0, cracks=0, per_pixels=160 * 200)
    hard, tones = 0, set()
    for seed in range(60):
        damaged = render_damage(flat, seed, only_scratches)
        changed = damaged.pixels != flat
        values = np.unique(damaged.pixels[changed])
        if not changed.any() or len(values) != 1:
            continue  # no scratch, a soft one, or two crossing
        hard += 1
        tones.add(bool(values[0] > 128))
        assert np.array_equal(damaged.truth["scratches"], changed)
        assert not damaged.truth["dust"].any() and not damaged.truth["cracks"].any()
        # 1-4 px wide: no drawn pixel lies more than 2.5 px inside the line
        inside = cv2.distanceTransform(changed.astype(np.uint8), cv2.DIST_L2, 5)
        assert inside.max() <= 2.5
        assert changed.sum() >= 0.15 * np.hypot(160, 200) * 0.5  # a long line, not a speck
    assert hard >= 8  # about a third of the scratches
    assert tones == {True, False}  # bright and dark ones

