"""The local-fusion generator and the class-head discriminator."""
import pytest
import torch

from metagan_mm.architectures import (ClassHeadResNetDiscriminator,
                                      LocalFusionGenerator)


@pytest.mark.parametrize('scale,channels', [(32, 1), (64, 3), (128, 3)])
def test_shapes_at_every_scale(scale, channels):
    g = LocalFusionGenerator(scale, channels, base_channels=2)
    d = ClassHeadResNetDiscriminator(scale, channels, 7, base_channels=2)
    shots = torch.rand(2, 3, channels, scale, scale) * 2 - 1
    img, matches = g(shots, g.sample_noise(2, 3))
    assert img.shape == (2, channels, scale, scale)
    assert matches.shape == (2, 2, 32)  # half of the 8x8 map
    assert img.abs().max() <= 1
    adv, cls = d(img)
    assert adv.shape == (2, 1) and cls.shape == (2, 7)


def test_lofgan_layer_sizes_at_128():
    """LoFGAN's conv weights (G, 779,779) and D (38,388,230 with 5
    classes), counted from its networks/lofgan.py."""
    g = LocalFusionGenerator(128, 3, base_channels=32)
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    assert sum(p.numel() for m in convs for p in m.parameters()) == 779779
    d = ClassHeadResNetDiscriminator(128, 3, 5, base_channels=64)
    assert sum(p.numel() for p in d.parameters()) == 38388230


@pytest.mark.parametrize('k', [1, 2, 3, 4, 5])
def test_any_k_and_batched_equals_sequential(k):
    torch.manual_seed(0)
    g = LocalFusionGenerator(32, 1, base_channels=4)
    shots = torch.rand(3, k, 1, 32, 32) * 2 - 1
    noise = g.sample_noise(3, k, torch.Generator().manual_seed(k))
    img, _ = g(shots, noise)
    for t in range(3):
        one, _ = g(shots[t:t + 1], type(noise)(*(v[t:t + 1] for v in noise)))
        torch.testing.assert_close(img[t:t + 1], one, atol=1e-5, rtol=1e-5)
    vmapped, _ = torch.func.vmap(
        lambda s, n: g(s[None],
                       type(noise)(*(v[None] for v in n))))(shots, noise)
    torch.testing.assert_close(vmapped[:, 0], img, atol=1e-5, rtol=1e-5)


def test_one_shot_reconstructs_it_whatever_the_noise():
    torch.manual_seed(0)
    g = LocalFusionGenerator(32, 1, base_channels=4)
    shot = torch.rand(1, 1, 1, 32, 32)
    a, m = g(shot, g.sample_noise(1, 1, torch.Generator().manual_seed(0)))
    b, _ = g(shot, g.sample_noise(1, 1, torch.Generator().manual_seed(1)))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, g.decoder(g.encoder(shot[:, 0])))
    assert m.shape == (1, 0, 32)


def test_more_shots_give_different_images_per_noise():
    torch.manual_seed(0)
    g = LocalFusionGenerator(32, 1, base_channels=4)
    shots = torch.rand(1, 3, 1, 32, 32)
    a, _ = g(shots, g.sample_noise(1, 3, torch.Generator().manual_seed(0)))
    b, _ = g(shots, g.sample_noise(1, 3, torch.Generator().manual_seed(1)))
    assert (a - b).abs().max() > 1e-3


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='scale=48'):
        LocalFusionGenerator(48, 1)
    with pytest.raises(ValueError, match='rate=2'):
        LocalFusionGenerator(32, 1, rate=2)
    with pytest.raises(ValueError, match='num_classes=0'):
        ClassHeadResNetDiscriminator(32, 1, 0)
    g = LocalFusionGenerator(32, 1, base_channels=2)
    with pytest.raises(ValueError, match=r'shots must be \[B, K, 1, 32, 32\]'):
        g(torch.zeros(2, 1, 32, 32), g.sample_noise(2, 1))
    with pytest.raises(ValueError, match='sample_noise'):
        g(torch.zeros(2, 3, 1, 32, 32), g.sample_noise(2, 2))
