"""EdgeConnect generators (shapes, ranges, spectral norm) and the Canny preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data
from skimage.feature import canny as sk_canny

from restorer.models.edgeconnect import (
    EdgeConnect,
    EdgeGenerator,
    InpaintGenerator,
    build_network,
    canny_edges,
    compose_edges,
    pushpull_fill,
    to_gray,
)


@pytest.mark.parametrize("size", [(32, 32), (48, 64), (64, 36)])
def test_generators_shapes_and_ranges(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = build_network({"arch": "edgeconnect", "width": 8, "blocks": 2, "sigma": 1.5}).eval()
    assert net.sigma == 1.5 and net.pad_multiple == 4
    image = torch.rand(2, 3, *size)
    mask = (torch.rand(2, 1, *size) > 0.6).float()
    known = (torch.rand(2, 1, *size) > 0.9).float()
    with torch.inference_mode():
        edges = net.edge(to_gray(image), known, mask)
        out = net.inpaint(image, edges, mask)
        out2, composite = net(image, mask, known)
    assert edges.shape == (2, 1, *size) and out.shape == (2, 3, *size)
    for t in (edges, out, out2, composite):
        assert t.min() >= 0.0 and t.max() <= 1.0
    assert edges.std() > 0 and out.std() > 0
    # Away from the hole (beyond the 2 px ring) the composite keeps the known edges exactly.
    far = 1 - torch.nn.functional.max_pool2d(mask, 5, stride=1, padding=2)
    assert torch.equal(composite * far, known * far)


def test_guide_edges_replace_prediction_inside_hole() -> None:
    torch.manual_seed(0)
    net = EdgeConnect(width=4, blocks=1).eval()
    image = torch.rand(1, 3, 16, 16)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    known = torch.zeros(1, 1, 16, 16)
    guide = torch.zeros(1, 1, 16, 16)
    guide[..., 8, :] = 1
    with torch.inference_mode():
        _, used = net(image, mask, known, guide=guide)
    ring = torch.zeros(1, 1, 16, 16)
    ring[..., 2:14, 2:14] = 1  # the hole grown by the 2 px margin
    assert torch.equal(used, guide * ring)


def test_compose_edges_fills_the_ring_canny_drops() -> None:
    mask = torch.zeros(1, 1, 12, 12)
    mask[..., 5:7, 5:7] = 1
    predicted, known = torch.full((1, 1, 12, 12), 0.25), torch.ones(1, 1, 12, 12)
    out = compose_edges(predicted, known, mask)
    grown = np.zeros((12, 12), bool)
    grown[3:9, 3:9] = True
    np.testing.assert_array_equal(out[0, 0].numpy(), np.where(grown, 0.25, 1.0))
    # canny_edges drops exactly that ring: a known edge through the hole stops at the ring's edge.
    gray = np.zeros((12, 12), np.float32)
    gray[:, 6:] = 1.0
    edges = canny_edges(gray, mask[0, 0].numpy() > 0, sigma=0.5)
    assert edges[grown].sum() == 0 and edges[~grown].sum() > 0
    np.testing.assert_array_equal(compose_edges(predicted, known, mask, margin=0)[0, 0].numpy(),
                                  np.where(mask[0, 0].numpy() > 0, 0.25, 1.0))


def test_spectral_norm_only_in_edge_generator() -> None:
    edge, inpaint = EdgeGenerator(width=4, blocks=2), InpaintGenerator(width=4, blocks=2)
    sn_edge = [m for m in edge.modules() if hasattr(m, "parametrizations")]
    assert len(sn_edge) == 3 + 2 * 2 + 2  # encoder 3, two per block, decoder 2 (not the output layer)
    assert not any(hasattr(m, "parametrizations") for m in inpaint.modules())
    dilations = [m.dilation[0] for m in edge.middle.modules() if isinstance(m, torch.nn.Conv2d)]
    assert dilations == [2, 1, 2, 1]


def test_generators_ignore_hole_contents() -> None:
    torch.manual_seed(0)
    net = EdgeConnect(width=4, blocks=1).eval()
    image = torch.rand(1, 3, 16, 16)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1
    other = image.clone()
    other[..., 4:12, 4:12] = 0.0
    edges = torch.rand(1, 1, 16, 16)
    with torch.inference_mode():
        assert torch.allclose(net.edge(to_gray(image), edges, mask), net.edge(to_gray(other), edges, mask))
        assert torch.allclose(net.inpaint(image, edges, mask), net.inpaint(other, edges, mask))


def test_rejects_sizes_off_the_pad_multiple() -> None:
    with pytest.raises(ValueError):
        EdgeGenerator(width=4, blocks=1)(torch.rand(1, 1, 18, 16), torch.zeros(1, 1, 18, 16), torch.zeros(1, 1, 18, 16))
    with pytest.raises(ValueError):
        build_network({"arch": "partialconv"})


def test_canny_flat_image_with_hole_has_no_edges() -> None:
    gray = np.full((64, 64), 0.6, np.float32)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 15:45] = True
    gray[mask] = 0.0  # the damage is black: a strong step at the hole's border
    assert canny_edges(gray, None).sum() > 0  # without the mask the step is an edge...
    assert canny_edges(gray, mask).sum() == 0  # ...with it, nothing inside nor along the border


def test_canny_keeps_known_edges_and_none_in_hole() -> None:
    gray = np.zeros((64, 64), np.float32)
    gray[:, 32:] = 1.0  # one vertical edge
    mask = np.zeros((64, 64), bool)
    mask[10:30, 20:44] = True
    edges = canny_edges(gray, mask)
    assert edges.dtype == np.float32 and set(np.unique(edges)) <= {0.0, 1.0}
    assert edges[mask].sum() == 0
    # The edge survives away from the hole: rows 40..60 have it near column 31/32.
    assert all(edges[r, 30:34].sum() >= 1 for r in range(40, 60))


def test_canny_approximates_skimage() -> None:
    gray = data.camera()[::4, ::4].astype(np.float32) / 255.0
    ours = canny_edges(gray, None, sigma=2.0) > 0
    ref = sk_canny(gray, sigma=2.0, low_threshold=0.1, high_threshold=0.2)
    # Agreement within one pixel: most of our edge pixels lie next to one of skimage's and vice versa.
    from scipy.ndimage import binary_dilation

    near_ref = binary_dilation(ref, iterations=1)
    near_ours = binary_dilation(ours, iterations=1)
    assert ours.sum() > 100
    assert (ours & near_ref).sum() / ours.sum() > 0.85
    assert (ref & near_ours).sum() / ref.sum() > 0.85


def test_pushpull_fill_keeps_known_pixels_and_interpolates_holes() -> None:
    # A smooth ramp with holes of several sizes (odd image size: ceil-mode pooling at every level).
    h, w = 37, 53
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    image = torch.stack([xx, yy, 0.5 * (xx + yy)])[None]
    mask = torch.zeros(1, 1, h, w)
    mask[..., 5:9, 6:10] = 1
    mask[..., 15:33, 20:45] = 1
    filled = pushpull_fill(image * (1 - mask) + mask * 0.9, mask)  # hole contents must not matter
    assert torch.equal(filled * (1 - mask), image * (1 - mask))
    err = (filled - image).abs() * mask
    # A linear ramp is filled close to itself, even across the 18 x 25 px hole (Telea, for scale:
    # mean 0.048, max 0.22 on this image).
    assert err.sum() / (3 * mask.sum()) < 0.04 and err.max() < 0.15
    # Each hole value lies within the range of the known pixels (an average of them, no overshoot).
    assert filled.min() >= 0 and filled.max() <= 1
    # No known pixel anywhere: mid-gray.
    assert torch.allclose(pushpull_fill(image, torch.ones(1, 1, h, w)), torch.full_like(image, 0.5))


def test_pushpull_inpaint_generator_starts_as_the_interpolation_and_learns_a_correction() -> None:
    torch.manual_seed(0)
    net = build_network({"arch": "edgeconnect", "width": 4, "blocks": 1, "prefill": "pushpull"})
    assert net.prefill == "pushpull" and build_network({"arch": "edgeconnect"}).prefill == "white"
    image = torch.rand(2, 3, 32, 32)
    mask = (torch.rand(2, 1, 32, 32) > 0.7).float()
    edges = (torch.rand(2, 1, 32, 32) > 0.9).float()
    out = net.inpaint(image, edges, mask)
    assert torch.allclose(out, pushpull_fill(image, mask), atol=1e-6)
    # One optimiser step moves it off the interpolation, towards the target.
    opt = torch.optim.Adam(net.inpaint.parameters(), lr=1e-4)
    loss0 = ((out - image).abs() * mask).mean()
    loss0.backward()
    opt.step()
    loss1 = ((net.inpaint(image, edges, mask) - image).abs() * mask).mean()
    assert loss1 < loss0
    with pytest.raises(ValueError, match="prefill"):
        build_network({"arch": "edgeconnect", "prefill": "telea"})


def test_pushpull_fill_runs_in_float32_for_half_inputs() -> None:
    image = torch.rand(1, 3, 64, 64)
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 8:60, 4:60] = 1  # large hole: deep levels have tiny known weights
    half = pushpull_fill(image.half(), mask.half())
    assert half.dtype == torch.float16
    assert torch.allclose(half.float(), pushpull_fill(image, mask), atol=2e-3)
