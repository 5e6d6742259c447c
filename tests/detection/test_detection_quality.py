"""The classical detector on damage rendered onto clean photos: what it finds, and what it flags on clean ones.

Levels were set from measurement (the numbers are in the comments) with a margin, so a change that
makes the detector clearly worse fails here. Photos are generated or come from scikit-image's data
module; nothing is read from shared data sets.
"""

from __future__ import annotations

import numpy as np
import pytest

from restorer.detection import detect_damage
from restorer.detection.evaluate import Score, flagged_share, score
from restorer.detection.render import DamageCounts, add_grain, render_damage

skdata = pytest.importorskip("skimage.data")


def test_finds_rendered_damage_on_smooth_grainy_photos(make_smooth_photo) -> None:
    total = Score()
    for seed in range(4):
        damaged = render_damage(make_smooth_photo(seed), seed)
        total = total + score(detect_damage(damaged.pixels, "classical").mask(0.5), damaged.any)
    # measured: recall 0.87, precision 0.97 (seeds 0-3, threshold 0.5)
    assert total.recall >= 0.75, total
    assert total.precision >= 0.9, total


def test_clean_grainy_photos_have_almost_no_false_alarms(make_smooth_photo) -> None:
    shares = [flagged_share(detect_damage(make_smooth_photo(seed), "classical").mask(0.5)) for seed in range(4)]
    # measured: 0 flagged pixels on every one; the target is at most 0.1 %
    assert max(shares) <= 0.0005, shares


@pytest.mark.slow
def test_photos_with_real_detail_recall_and_false_alarms() -> None:
    """Real photos hold thin bright and dark detail (a tripod, rims, creases) that the classical
    detector cannot tell from damage; these levels guard against it getting worse."""
    total, shares = Score(), []
    for i, name in enumerate(("camera", "astronaut", "coffee")):
        clean = add_grain(getattr(skdata, name)(), np.random.default_rng(i), 0.012)
        damaged = render_damage(clean, 10 + i)
        total = total + score(detect_damage(damaged.pixels, "classical").mask(0.5), damaged.any)
        shares.append(flagged_share(detect_damage(clean, "classical").mask(0.5)))
    # measured: recall 0.50, precision 0.31; clean photos 1.8-2.3 % flagged (the target,
    # 0.1 %, is far off: the classical detector is a fallback, its proposals are for review)
    assert total.recall >= 0.4, total
    assert total.precision >= 0.25, total
    assert max(shares) <= 0.03, shares


@pytest.mark.parametrize(("rendered", "kind"), [("scratches", "scratches"), ("dust", "dust"), ("hairs", "cracks")])
def test_each_kind_is_reported_under_its_own_name(rendered: str, kind: str, make_smooth_photo) -> None:
    counts = DamageCounts(**{k: (4.0 if k == rendered else 0.0) for k in ("scratches", "dust", "hairs", "cracks")})
    found, own_px, other_px = Score(), 0, 0
    for seed in (7, 8, 9):
        damaged = render_damage(make_smooth_photo(seed), seed, counts)
        damage = detect_damage(damaged.pixels, "classical")
        own = damage.mask(0.5, [kind])
        found = found + score(own, damaged.truth[kind])
        own_px += int(own.sum())
        other_px += int(damage.mask(0.5, [k for k in damage.maps if k != kind]).sum())
    # measured: recall scratches 0.79, dust 0.97, hairs (as cracks) 0.71; a straight hair is
    # sometimes a scratch (0.47 x the cracks pixels), scratches are 0.11 other kinds, specks 0
    assert found.recall >= 0.6, found
    assert other_px <= 0.6 * own_px, (other_px, own_px)


def test_threshold_trades_misses_for_false_alarms(make_smooth_photo) -> None:
    damaged = render_damage(make_smooth_photo(3), 3)
    damage = detect_damage(damaged.pixels, "classical")
    low, high = damage.mask(0.2), damage.mask(0.9)
    assert (high & ~low).sum() == 0  # a higher threshold only removes
    assert low.sum() > high.sum()
