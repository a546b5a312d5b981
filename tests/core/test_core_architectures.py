"""FIGR architectures and check_pair."""
import pytest
import torch

from metagan_mm.architectures import (FIGRDCGANDiscriminator,
                                      FIGRDCGANGenerator,
                                      FIGRResNetDiscriminator,
                                      FIGRResNetGenerator)
from metagan_mm.core import check_pair
from metagan_mm.core.batching import vmap_blockers
from metagan_mm.core.params import functional_call, meta_params

PAIRS = [(FIGRDCGANGenerator, FIGRDCGANDiscriminator),
         (FIGRResNetGenerator, FIGRResNetDiscriminator)]


@pytest.mark.parametrize('gcls, dcls', PAIRS)
@pytest.mark.parametrize('scale', [32, 64])
@pytest.mark.parametrize('channels', [1, 3])
def test_shapes_range_and_vmap(gcls, dcls, scale, channels):
    torch.manual_seed(0)
    g = gcls(
        noise_size=10, out_scale=scale, out_channels=channels, base_channels=4)
    d = dcls(in_scale=scale, in_channels=channels, base_channels=4)
    assert g.noise_size == 10
    with torch.no_grad():
        img = g(torch.randn(3, 10) * 5)
    assert img.shape == (3, channels, scale, scale)
    assert float(img.abs().max()) <= 1.0
    assert d(img).shape == (3, 1)
    check_pair(g, d)
    assert vmap_blockers(g) == [] and vmap_blockers(d) == []
    assert not any(b.numel() for b in list(g.buffers()) + list(d.buffers()))
    if scale == 32 and channels == 1:  # vmapped forward with batched weights
        dp = meta_params(d)
        stacked = {k: torch.stack([v, 2 * v]) for k, v in dp.items()}
        out = torch.func.vmap(lambda p: functional_call(d, p, None, img))(
            stacked)
        ref = functional_call(d, {k: 2 * v for k, v in dp.items()}, None, img)
        assert torch.allclose(out[1], ref, atol=1e-5)


def test_default_noise_size():
    assert FIGRDCGANGenerator().noise_size == 100
    assert FIGRResNetGenerator().noise_size == 100


def test_check_pair_mismatch_names_both_shapes():
    g = FIGRDCGANGenerator(noise_size=8, out_scale=64, base_channels=4)
    d = FIGRDCGANDiscriminator(in_scale=32, base_channels=4)
    with pytest.raises(ValueError) as info:
        check_pair(g, d)
    msg = str(info.value)
    assert '(1, 64, 64)' in msg and '(1, 32, 32)' in msg
    assert 'FIGRDCGANGenerator' in msg and 'FIGRDCGANDiscriminator' in msg


def test_bad_arch_args():
    with pytest.raises(ValueError, match='out_scale=48'):
        FIGRDCGANGenerator(out_scale=48)
    with pytest.raises(ValueError, match='in_channels=2'):
        FIGRResNetDiscriminator(in_channels=2)
