"""PartialConv2d against the paper's formula, and the PConvUNet's shapes, masks and BN freeze."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.models.partialconv import PartialConv2d, PConvUNet, build_network, pad_multiple


def _reference(x: np.ndarray, valid: np.ndarray, w: np.ndarray, b: float, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's formula by explicit loops for one output channel, stride 1.

    x: C x H x W, valid: C x H x W (1 = known), w: C x k x k. Zero padding counts as a hole.
    """
    c, h, wd = x.shape
    k = w.shape[-1]
    xp = np.pad(x * valid, ((0, 0), (pad, pad), (pad, pad)))
    mp = np.pad(valid, ((0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((h, wd))
    new = np.zeros((h, wd))
    for i in range(h):
        for j in range(wd):
            msum = mp[:, i : i + k, j : j + k].sum()
            if msum > 0:
                out[i, j] = (w * xp[:, i : i + k, j : j + k]).sum() * (c * k * k) / msum + b
                new[i, j] = 1.0
    return out, new


def _layer(cin: int, k: int, w: np.ndarray, b: float | None) -> PartialConv2d:
    conv = PartialConv2d(cin, 1, k, padding=k // 2, bias=b is not None)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w[None]).float())
        if b is not None:
            conv.bias.fill_(b)
    return conv


def test_hand_computed_3x3_with_hole_and_border() -> None:
    # 1 channel, 3x3 image, 3x3 all-ones kernel, bias 0.5, the centre pixel is a hole.
    x = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    valid = torch.ones(1, 1, 3, 3)
    valid[0, 0, 1, 1] = 0.0
    conv = _layer(1, 3, np.ones((1, 3, 3)), 0.5)
    out, new = conv(x, valid)
    # Centre: sees all 8 known pixels (45 - 5 = 40), window of 9 -> 40 * 9 / 8 + 0.5.
    assert out[0, 0, 1, 1].item() == pytest.approx(40 * 9 / 8 + 0.5)
    # Top-left corner: window holds 1, 2, 4 (the hole 5 excluded) and 5 padded zeros -> 7 * 9 / 3 + 0.5.
    assert out[0, 0, 0, 0].item() == pytest.approx(7 * 9 / 3 + 0.5)
    # Top edge middle: 1, 2, 3, 4, 6 known (5 is the hole), 3 padded -> 16 * 9 / 5 + 0.5.
    assert out[0, 0, 0, 1].item() == pytest.approx(16 * 9 / 5 + 0.5)
    assert torch.equal(new, torch.ones(1, 1, 3, 3))  # every window saw a known pixel


def test_all_hole_window_gives_zero_and_mask_stays_hole() -> None:
    x = torch.rand(1, 1, 7, 7)
    valid = torch.ones(1, 1, 7, 7)
    valid[..., 1:6, 1:6] = 0.0  # 5x5 hole: with a 3x3 kernel the inner 3x3 sees no known pixel
    conv = _layer(1, 3, np.random.default_rng(0).normal(size=(1, 3, 3)), 0.7)
    out, new = conv(x, valid)
    assert torch.all(out[..., 2:5, 2:5] == 0)  # bias not added where sum(M) == 0
    assert torch.all(new[..., 2:5, 2:5] == 0)
    assert new.sum().item() == 49 - 9
    assert torch.all(out[..., 0, :] != 0)


@pytest.mark.parametrize("channels", [1, 3])
def test_matches_formula_single_and_multi_channel_mask(channels: int) -> None:
    rng = np.random.default_rng(1)
    cin, k, size = 3, 3, 6
    x = rng.normal(size=(cin, size, size))
    valid = (rng.random((channels, size, size)) > 0.5).astype(np.float64)
    w = rng.normal(size=(cin, k, k))
    conv = _layer(cin, k, w, -0.3)
    out, new = conv(torch.from_numpy(x[None]).float(), torch.from_numpy(valid[None]).float())
    full_valid = np.broadcast_to(valid, (cin, size, size))
    ref, ref_new = _reference(x, full_valid, w, -0.3, k // 2)
    np.testing.assert_allclose(out[0, 0].detach().numpy(), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(new[0, 0].numpy(), ref_new)


def test_multi_channel_mask_differs_from_its_first_channel() -> None:
    # A hole in one channel only must change the result: the mask really is per channel.
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.normal(size=(1, 2, 5, 5))).float()
    valid = torch.ones(1, 2, 5, 5)
    valid[0, 1, 2, 2] = 0.0
    conv = _layer(2, 3, rng.normal(size=(2, 3, 3)), None)
    out_multi, _ = conv(x, valid)
    out_single, _ = conv(x, valid[:, :1])
    assert not torch.allclose(out_multi[..., 1:4, 1:4], out_single[..., 1:4, 1:4])
    ref, _ = _reference(x[0].double().numpy(), valid[0].double().numpy(), conv.weight[0].detach().double().numpy(), 0.0, 1)
    np.testing.assert_allclose(out_multi[0, 0].detach().numpy(), ref, rtol=1e-4, atol=1e-4)


def test_stride_two_mask_update() -> None:
    conv = PartialConv2d(1, 1, 3, stride=2, padding=1, bias=False)
    valid = torch.ones(1, 1, 8, 8)
    valid[..., :5, :5] = 0.0
    _, new = conv(torch.rand(1, 1, 8, 8), valid)
    assert new.shape == (1, 1, 4, 4)
    # Output (i, j) sees input rows 2i-1..2i+1: with rows/cols 0..4 holes, only (0..1, 0..1) sees none.
    expected = torch.ones(1, 1, 4, 4)
    expected[..., :2, :2] = 0.0
    assert torch.equal(new, expected)


@pytest.mark.parametrize("size", [(128, 128), (128, 256), (256, 128)])
def test_unet_shapes_and_range(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    net = build_network({"arch": "partialconv", "width": 8, "depth": 7}).eval()
    assert net.pad_multiple == 128 == pad_multiple({"depth": 7})
    image = torch.rand(2, 3, *size)
    mask = (torch.rand(2, 1, *size) > 0.7).float()
    with torch.inference_mode():
        out = net(image, mask)
    assert out.shape == (2, 3, *size)
    assert torch.isfinite(out).all()
    assert out.std() > 0


def test_unet_output_ignores_hole_contents() -> None:
    torch.manual_seed(0)
    net = PConvUNet(width=8, depth=4).eval()
    image = torch.rand(1, 3, 32, 32)
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:20, 10:24] = 1.0
    other = image.clone()
    other[..., 8:20, 10:24] = torch.rand(1, 3, 12, 14)
    with torch.inference_mode():
        assert torch.allclose(net(image, mask), net(other, mask), atol=1e-6)


def test_unet_rejects_sizes_off_the_pad_multiple() -> None:
    net = PConvUNet(width=4, depth=3)
    with pytest.raises(ValueError):
        net(torch.rand(1, 3, 20, 24), torch.zeros(1, 1, 20, 24))


def test_layer_counts_and_batchnorm_placement() -> None:
    net = PConvUNet(width=8, depth=5)
    assert len(net.encoder) == 5 and len(net.decoder) == 5
    assert net.encoder[0].bn is None and all(b.bn is not None for b in net.encoder[1:])
    assert net.decoder[-1].bn is None and net.decoder[-1].act is None
    assert [b.conv.kernel_size[0] for b in net.encoder] == [7, 5, 5, 3, 3]
    assert net.decoder[-1].conv.out_channels == 3
    with pytest.raises(ValueError):
        build_network({"arch": "edgeconnect"})


def test_freeze_encoder_bn_survives_train() -> None:
    net = PConvUNet(width=4, depth=3)
    net.freeze_encoder_bn()
    net.train()
    enc_bn = [b.bn for b in net.encoder if b.bn is not None]
    dec_bn = [b.bn for b in net.decoder if b.bn is not None]
    assert all(not bn.training for bn in enc_bn)
    assert all(bn.training for bn in dec_bn)
    assert all(not p.requires_grad for bn in enc_bn for p in bn.parameters())
    before = enc_bn[0].running_mean.clone()
    net(torch.rand(2, 3, 16, 16), (torch.rand(2, 1, 16, 16) > 0.5).float()).mean().backward()
    assert torch.equal(before, enc_bn[0].running_mean)
    net.freeze_encoder_bn(False)
    assert all(bn.training for bn in enc_bn)


def test_refine_head_starts_as_identity_and_learns() -> None:
    torch.manual_seed(0)
    plain = PConvUNet(width=4, depth=3).eval()
    net = build_network({"arch": "partialconv", "width": 4, "depth": 3, "refine": 3, "refine_width": 8}).eval()
    assert net.refine is not None and net.refine.layers == 3
    net.load_state_dict(plain.state_dict(), strict=False)
    image = torch.rand(2, 3, 16, 16)
    mask = (torch.rand(2, 1, 16, 16) > 0.6).float()
    with torch.no_grad():
        assert torch.equal(net(image, mask), plain(image, mask))  # zero-initialised output layer
    # A full-resolution head: with its output layer non-zero it changes the fill pixel by pixel.
    torch.nn.init.normal_(net.refine.out.weight, std=0.1)
    with torch.no_grad():
        assert not torch.allclose(net(image, mask), plain(image, mask))
    with pytest.raises(ValueError):
        PConvUNet(width=4, depth=3).freeze_backbone()


def test_freeze_backbone_trains_only_the_head() -> None:
    torch.manual_seed(0)
    net = PConvUNet(width=4, depth=3, refine=2, refine_width=4)
    torch.nn.init.normal_(net.refine.out.weight, std=0.1)
    net.freeze_backbone()
    net.train()
    assert all(not m.training for m in net.encoder.modules()) and all(not m.training for m in net.decoder.modules())
    assert net.refine.training
    trainable = {n.split(".")[0] for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"refine"}
    stats = net.encoder[1].bn.running_mean.clone()
    net(torch.rand(2, 3, 16, 16), (torch.rand(2, 1, 16, 16) > 0.5).float()).mean().backward()
    assert torch.equal(stats, net.encoder[1].bn.running_mean)
    assert net.refine.out.weight.grad is not None and net.encoder[0].conv.weight.grad is None
