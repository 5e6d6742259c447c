"""Work that follows a hole's shape: the network only on a hole's thick parts, thin holes synthesised in blocks."""

from __future__ import annotations

import cv2
import numpy as np

from restorer.inference import engine, texture
from restorer.inference.tiles import hole_blocks
from restorer.synthesis.compose import NET_MARGIN, network_part

from tests.inference.test_synthesis_engine import _detail, _grainy


def _scratches_with_a_blob(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    lines = np.zeros((h, w), np.uint8)
    cv2.line(lines, (10, 20), (w - 10, h - 30), 1, 8)
    cv2.line(lines, (10, h - 20), (w - 10, 40), 1, 8)
    blob = np.zeros((h, w), np.uint8)
    cv2.circle(blob, (w // 3, h // 2), 30, 1, -1)
    return lines.astype(bool) | blob.astype(bool), blob.astype(bool)


def test_the_network_part_is_the_thick_blob_and_a_margin_of_scratch_around_it() -> None:
    hole, blob = _scratches_with_a_blob(300, 400)
    part = network_part(hole, 16.0)
    assert part[blob].all()  # the blob is thick all over
    assert not (part & ~hole).any()
    dist = cv2.distanceTransform((~blob).view(np.uint8), cv2.DIST_L2, 3)
    assert (dist[part] <= 8 + NET_MARGIN + 2).all()  # no scratch far from the blob
    assert part.sum() < 0.6 * hole.sum()
    thin_only = hole & ~cv2.dilate(blob.view(np.uint8), np.ones((141, 141), np.uint8)).astype(bool)
    assert not network_part(thin_only, 16.0).any()


def test_hole_blocks_serve_every_hole_pixel_once_inside_their_context() -> None:
    hole, _ = _scratches_with_a_blob(1200, 1600)
    blocks = hole_blocks(hole, 256, 48)
    owned = np.zeros(hole.shape, int)
    for tile, inner in blocks:
        assert tile.y0 <= inner.y0 and inner.y1 <= tile.y1 and tile.x0 <= inner.x0 and inner.x1 <= tile.x1
        todo = hole & (owned == 0)
        served = np.zeros_like(hole)
        served[inner.slices] = todo[inner.slices]
        owned += served
    assert (owned[hole] == 1).all() and not owned[~hole].any()


def test_a_guided_fill_runs_its_network_only_on_the_blob_and_fills_everything() -> None:
    img = _grainy((300, 400, 3), np.uint8)
    hole, blob = _scratches_with_a_blob(300, 400)
    job = engine.plan(img, hole, "guided-ensemble")
    (region,) = job.regions
    assert region.net_mask is not None and region.net_mask[blob].all()
    assert region.net_mask.sum() < hole.sum()
    out, _ = engine.inpaint(img, hole, "guided-ensemble")
    assert np.array_equal(out[~hole], img[~hole])
    assert _detail(out, img, hole) > 0.6
    # no seam where the network's guide meets Navier-Stokes': the fill is as far from the truth along
    # the scratches next to the blob as far from it
    near = hole & ~blob & (cv2.distanceTransform((~blob).view(np.uint8), cv2.DIST_L2, 3) < NET_MARGIN + 8)
    far = hole & ~region.net_mask
    err = np.abs(out.astype(float) - img).mean(axis=2)
    assert err[near].mean() < 1.5 * err[far].mean() + 2


def test_a_long_thin_scratch_on_a_big_crop_is_synthesised_in_blocks(monkeypatch) -> None:
    img = _grainy((1400, 1800, 3), np.uint8)
    line = np.zeros(img.shape[:2], np.uint8)
    cv2.line(line, (20, 30), (1780, 1370), 1, 8)
    hole = line.astype(bool)
    calls: list[tuple[int, ...]] = []
    real = texture._blockwise

    def spy(region, synth, guide_work, thin_guide):
        calls.append(region.mask.shape)
        return (yield from real(region, synth, guide_work, thin_guide))

    monkeypatch.setattr(texture, "_blockwise", spy)
    out, _ = engine.inpaint(img, hole, "guided-ensemble")
    assert calls, "a thin scratch over a crop of more than four blocks goes block by block"
    assert np.array_equal(out[~hole], img[~hole])
    assert not np.array_equal(out[hole], img[hole])
    assert _detail(out, img, hole) > 0.6
    again, _ = engine.inpaint(img, hole, "guided-ensemble")
    assert np.array_equal(out, again)  # deterministic


def test_one_tile_lets_the_network_guide_the_whole_hole() -> None:
    # at the network's size the tiles cost nothing more: the thin parts keep its (better) guide too
    img = _grainy((240, 240, 3), np.uint8)
    hole, _ = _scratches_with_a_blob(240, 240)
    (region,) = engine.plan(img, hole, "guided-ensemble").regions
    assert len(region.tiles) == 1 and region.net_mask is None
