"""FIGR's own networks: parameter counts, shapes, vmap and one Reptile step."""
import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import batch, build, model_cfg, optim, params

from metagan_mm.architectures import (FIGROriginalDCGANDiscriminator,
                                      FIGROriginalDCGANGenerator,
                                      FIGROriginalResNetDiscriminator,
                                      FIGROriginalResNetGenerator)
from metagan_mm.core import check_pair
from metagan_mm.core.batching import vmap_blockers
from metagan_mm.core.params import functional_call, meta_params

PAIRS = [(FIGROriginalDCGANGenerator, FIGROriginalDCGANDiscriminator),
         (FIGROriginalResNetGenerator, FIGROriginalResNetDiscriminator)]


# Parameter counts of the layers FIGR's model.py builds (torch's formulas).
def conv(cin, cout, k):  # nn.Conv2d(cin, cout, (k, k)): weights + bias
    return cin * cout * k * k + cout


def linear(fin, fout):  # nn.Linear
    return fin * fout + fout


def norm(*shape):  # nn.LayerNorm(shape): weight and bias, one per element
    numel = 1
    for n in shape:
        numel *= n
    return 2 * numel


def prelu(n):  # nn.PReLU(n): one slope per channel
    return n


def figr_counts(channels, size=32, nz=100, h=64, blocks=4):
    """Expected (G, D) counts of FIGR's DCGAN and ResNet, from model.py.

    Block ``i`` of a generator works at ``h * 2**(blocks - i)`` channels on
    ``size / 2**(blocks - i)`` maps and of a discriminator at ``h * 2**i``
    channels on ``size / 2**i`` maps; every LayerNorm covers its whole map.
    """
    top = h * 2**blocks * (size // 2**blocks)**2  # first linear layer's width
    # DCGAN generator: linear + PReLU + LayerNorm, per block a 5x5 conv
    # halving the channels + PReLU + LayerNorm (before the 2x upsampling),
    # last a 5x5 conv to the image channels.
    dc_g = linear(nz, top) + prelu(top) + norm(top) + conv(h, channels, 5)
    for i in range(blocks):
        c, s = h * 2**(blocks - i), size // 2**(blocks - i)
        dc_g += conv(c, c // 2, 5) + prelu(c // 2) + norm(c // 2, s, s)
    # DCGAN discriminator: 5x5 conv to h + LayerNorm + PReLU, per block a 5x5
    # conv doubling the channels + LayerNorm + PReLU (before 2x2 pooling),
    # last a linear layer on the flattened 16h x size/16 x size/16 maps.
    dc_d = conv(channels, h, 5) + norm(h, size, size) + prelu(h)
    dc_d += linear(h * 2**blocks * (size // 2**blocks)**2, 1)
    for i in range(blocks):
        c, s = h * 2**i, size // 2**i
        dc_d += conv(c, 2 * c, 5) + norm(2 * c, s, s) + prelu(2 * c)
    # ResNet: per block four 3x3 convs keeping the channels (two residual
    # units of two), each + PReLU + LayerNorm, then a 3x3 transition conv
    # halving (G) / doubling (D) the channels + PReLU + LayerNorm.
    rn_g = linear(nz, top) + prelu(top) + norm(top) + conv(h, channels, 5)
    for i in range(blocks):
        c, s = h * 2**(blocks - i), size // 2**(blocks - i)
        rn_g += 4 * (conv(c, c, 3) + prelu(c) + norm(c, s, s))
        rn_g += conv(c, c // 2, 3) + prelu(c // 2) + norm(c // 2, s, s)
    # ResNet discriminator: 7x7 conv to h + PReLU + LayerNorm, the blocks,
    # global average pooling and a linear layer from 16h features.
    rn_d = conv(channels, h, 7) + prelu(h) + norm(h, size, size)
    rn_d += linear(h * 2**blocks, 1)
    for i in range(blocks):
        c, s = h * 2**i, size // 2**i
        rn_d += 4 * (conv(c, c, 3) + prelu(c) + norm(c, s, s))
        rn_d += conv(c, 2 * c, 3) + prelu(2 * c) + norm(2 * c, s, s)
    return {'dcgan': (dc_g, dc_d), 'resnet': (rn_g, rn_d)}


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_hand_counts_match_figr_published_size():
    # The figures for FIGR's DCGAN at 32x32: ~17.9M G, ~18.0M D.
    # Worked out for 1 channel: G = 413,696 (linear) + 4,096 + 8,192 +
    # 17,408,960 (convs 1024->512->256->128->64) + 960 + 61,440 + 1,601;
    # D = 1,664 + 131,072 + 64 + 17,409,920 (convs 64->...->1024) + 491,520
    # + 1,920 + 4,097.
    assert figr_counts(1)['dcgan'] == (17_898_945, 18_040_257)
    assert figr_counts(1)['resnet'] == (57_399_745, 20_422_081)


@pytest.mark.parametrize('channels', [1, 3])
def test_parameter_counts_at_32x32_equal_figr(channels):
    expected = figr_counts(channels)
    for name, (gcls, dcls) in zip(('dcgan', 'resnet'), PAIRS):
        got = (count(gcls(out_channels=channels)),
               count(dcls(in_channels=channels)))
        assert got == expected[name], name


def test_parameter_counts_at_64x64_equal_figr():
    expected = figr_counts(3, size=64)
    for name, (gcls, dcls) in zip(('dcgan', 'resnet'), PAIRS):
        got = (count(gcls(out_scale=64, out_channels=3)),
               count(dcls(in_scale=64, in_channels=3)))
        assert got == expected[name], name


@pytest.mark.parametrize('gcls, dcls', PAIRS)
@pytest.mark.parametrize('scale', [32, 64])
@pytest.mark.parametrize('channels', [1, 3])
def test_shapes_range_and_vmap(gcls, dcls, scale, channels):
    torch.manual_seed(0)
    g = gcls(
        noise_size=10, out_scale=scale, out_channels=channels, base_channels=2)
    d = dcls(in_scale=scale, in_channels=channels, base_channels=2)
    assert g.noise_size == 10 and gcls().noise_size == 100
    with torch.no_grad():
        img = g(torch.randn(3, 10) * 5)
    assert img.shape == (3, channels, scale, scale)
    assert float(img.abs().max()) <= 1.0
    assert d(img).shape == (3, 1)
    check_pair(g, d)
    assert vmap_blockers(g) == [] and vmap_blockers(d) == []
    assert not any(b.numel() for b in list(g.buffers()) + list(d.buffers()))
    if scale == 32 and channels == 1:  # vmapped forward with batched weights
        for net, x in ((d, img), (g, torch.randn(3, 10))):
            p = meta_params(net)
            stacked = {k: torch.stack([v, 2 * v]) for k, v in p.items()}
            out = torch.func.vmap(
                lambda q, net=net, x=x: functional_call(net, q, None, x))(
                    stacked)
            ref = functional_call(net, {
                k: 2 * v
                for k, v in p.items()
            }, None, x)
            torch.testing.assert_close(out[1], ref, rtol=1e-4, atol=1e-5)


def test_bad_arch_args():
    with pytest.raises(ValueError, match='out_scale=48'):
        FIGROriginalDCGANGenerator(out_scale=48)
    with pytest.raises(ValueError, match='in_channels=2'):
        FIGROriginalResNetDiscriminator(in_channels=2)


@pytest.mark.parametrize('arch', ['DCGAN', 'ResNet'])
@pytest.mark.parametrize('batched', [False, True])
def test_reptile_meta_trains_figr_nets_for_one_step(arch, batched):
    cfg = model_cfg()
    cfg['inner_loop']['batching'] = dict(mode='vmap' if batched else 'loop')
    cfg['generator'].update(
        type=f'FIGROriginal{arch}Generator', base_channels=2)
    cfg['discriminator'].update(
        type=f'FIGROriginal{arch}Discriminator', base_channels=2)
    model = build(cfg)
    before = params(model)
    logs = model.train_step(batch(), optim(model, lr=1.0))
    after = params(model)
    assert set(after) == set(before)
    assert all(torch.isfinite(v).all() for v in after.values())
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in logs.values())
