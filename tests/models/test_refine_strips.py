"""The refinement head at inference runs only on strips around the hole, with the full pass's values there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.models.partialconv import RefineHead, build_network


def _net():
    torch.manual_seed(0)
    net = build_network({"arch": "partialconv", "width": 4, "depth": 3, "refine": 5, "refine_width": 8}).eval()
    torch.nn.init.normal_(net.refine.out.weight, std=0.2)  # a head that changes something
    return net


def _holes(kind: str, n: int = 2, h: int = 96, w: int = 128) -> torch.Tensor:
    m = torch.zeros(n, 1, h, w)
    if kind == "diagonal":
        for y in range(h):
            m[0, 0, y, max(0, y - 4) : y + 5] = 1
        m[1, 0, 40:47, :] = 1
    elif kind == "edges":  # holes on the input's own borders and corners: replicate padding must agree
        m[0, 0, :5, :20] = 1
        m[0, 0, -3:, -9:] = 1
        m[1, 0, :, :2] = 1
        m[1, 0, 50:52, 60:64] = 1  # a speck far from the rest: its own strip
    return m


@pytest.mark.parametrize("kind", ["diagonal", "edges"])
def test_hole_pixels_equal_the_full_pass(kind):
    net = _net()
    img = torch.rand(2, 3, 96, 128)
    hole = _holes(kind)
    assert net.refine.strips(hole[:, 0].numpy() > 0.5, 16) is not None  # the strip path really runs here
    with torch.enable_grad():
        full = net(img, hole).detach()
    with torch.inference_mode():
        sparse = net(img, hole)
    inside = (hole > 0.5).expand_as(full)
    np.testing.assert_allclose(sparse[inside].numpy(), full[inside].numpy(), atol=1e-5)
    coarse_net = _net()
    coarse_net.refine = None
    with torch.no_grad():
        coarse = coarse_net(img, hole)
    assert (full - coarse)[inside].abs().max() > 1e-2  # the head matters in the hole, so the check bites
    # Outside the strips the prediction is the U-Net's (callers composite it away).
    np.testing.assert_allclose(sparse[0, :, 60, 100].numpy() if kind == "diagonal" else sparse[1, :, 80, 100].numpy(),
                               (coarse[0, :, 60, 100] if kind == "diagonal" else coarse[1, :, 80, 100]).numpy(), atol=1e-6)


def test_strips_keep_the_head_reach_as_context_and_fall_back_for_big_holes():
    head = RefineHead(5, 8)
    assert head.reach == 1 + 2 + 4 + 1 + 1  # dilations 1, 2, 4, then 1 and the output layer
    thin = _holes("diagonal")
    boxes = head.strips(thin[:, 0].numpy() > 0.5, 32)
    assert boxes is not None
    for _, (y0, y1, x0, x1), (a0, a1, b0, b1) in boxes:
        assert a0 == max(0, y0 - head.reach) and a1 == min(96, y1 + head.reach)
        assert b0 == max(0, x0 - head.reach) and b1 == min(128, x1 + head.reach)
    covered = torch.zeros_like(thin, dtype=torch.bool)
    for n, (y0, y1, x0, x1), _ in boxes:
        covered[n, 0, y0:y1, x0:x1] = True
    assert not ((thin > 0.5) & ~covered).any()  # every hole pixel is refined
    big = torch.zeros(1, 1, 96, 128)
    big[:, :, 10:90, 10:120] = 1
    assert head.strips(big[:, 0].numpy() > 0.5, 32) is None  # most of the input: one full pass is cheaper


def test_engine_stages_give_the_one_call_result_on_one_tile(tmp_path):
    """coarse then refine (what the engine runs per region) equals the plain call on a whole input."""
    from restorer.models.neural import TorchInpainter

    net = _net()
    model = TorchInpainter("t", net, "cpu", net.pad_multiple)
    assert model.two_stage
    rng = np.random.default_rng(1)
    img = rng.random((2, 3, 96, 128), dtype=np.float32)
    hole = _holes("diagonal").numpy()
    whole = model(img, hole)
    staged = model.refine(model.coarse(img, hole), img, hole)
    np.testing.assert_allclose(staged, whole, atol=1e-5)
    assert np.array_equal(staged[hole.repeat(3, 1) < 0.5], img[hole.repeat(3, 1) < 0.5])  # the input outside
    net.refine = None
    assert not TorchInpainter("t", net, "cpu", net.pad_multiple).two_stage


def test_refine_in_place_writes_the_hole_into_the_given_array():
    from restorer.models.neural import TorchInpainter

    net = _net()
    model = TorchInpainter("t", net, "cpu", net.pad_multiple)
    img = np.random.default_rng(2).random((2, 3, 96, 128), dtype=np.float32)
    hole = _holes("edges").numpy()
    first = model.coarse(img, hole)
    expected = model.refine(first, img, hole)
    given = first.copy()
    got = model.refine(given, img, hole, out=given)
    assert got is given
    inside = hole.repeat(3, 1) > 0.5
    np.testing.assert_array_equal(got[inside], expected[inside])
