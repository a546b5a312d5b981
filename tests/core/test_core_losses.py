"""Functional GAN losses."""
import pytest
import torch
import torch.nn.functional as F
from core_helpers import ToyD

from metagan_mm.core import d_loss, g_loss, gradient_penalty
from metagan_mm.core.params import functional_call, meta_params


def _setup():
    torch.manual_seed(0)
    disc = ToyD(hidden=5).double()
    real = torch.randn(4, 1, 2, 2, dtype=torch.double)
    fake = torch.randn(4, 1, 2, 2, dtype=torch.double)
    alpha = torch.rand(4, dtype=torch.double)
    return disc, real, fake, alpha


def test_loss_formulas():
    disc, real, fake, alpha = _setup()
    r, f = disc(real), disc(fake)
    ns = d_loss('nonsaturating', disc, real=real, fake=fake)
    assert torch.allclose(ns, F.softplus(-r).mean() + F.softplus(f).mean())
    hinge = d_loss('hinge', disc, real=real, fake=fake)
    assert torch.allclose(hinge, F.relu(1 - r).mean() + F.relu(1 + f).mean())
    wgan = d_loss(
        'wgan-gp', disc, real=real, fake=fake, alpha=alpha, gp_weight=0.0)
    assert torch.allclose(wgan, f.mean() - r.mean())
    assert torch.allclose(g_loss('wgan-gp', f), -f.mean())
    assert torch.allclose(g_loss('hinge', f), -f.mean())
    assert torch.allclose(g_loss('nonsaturating', f), F.softplus(-f).mean())


def test_gp_matches_reference_and_default_weight():
    disc, real, fake, alpha = _setup()
    x = (alpha.view(-1, 1, 1, 1) * real +
         (1 - alpha.view(-1, 1, 1, 1)) * fake).requires_grad_(True)
    grad = torch.autograd.grad(disc(x).sum(), x)[0]
    ref = (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    gp = gradient_penalty(disc, real, fake, alpha)
    assert abs(float((gp - ref).detach())) < 1e-9
    total = d_loss('wgan-gp', disc, real=real, fake=fake, alpha=alpha)
    base = disc(fake).mean() - disc(real).mean()
    assert abs(float((total - base - 10.0 * gp).detach())) < 1e-9


def test_gp_backends_agree_and_are_twice_differentiable():
    disc, real, fake, alpha = _setup()
    params = meta_params(disc)

    def loss(backend, p):
        return d_loss(
            'wgan-gp',
            lambda x: functional_call(disc, p, None, x),
            real=real,
            fake=fake,
            alpha=alpha,
            gp_weight=10.0,
            backend=backend)

    # the last bias cancels in mean(fake) - mean(real) + GP: not used
    g_auto = torch.autograd.grad(
        loss('autograd', params),
        list(params.values()),
        create_graph=True,
        allow_unused=True)
    assert torch.equal(g_auto[-1], torch.zeros(1, dtype=torch.double))
    g_func = torch.func.grad(lambda p: loss('func', p))(params)
    assert torch.equal(g_func['net.2.bias'],
                       torch.zeros(1, dtype=torch.double))
    for a, k in zip(g_auto, params):
        assert torch.allclose(a, g_func[k], atol=1e-12)
    # second order through the GP
    s_auto = torch.autograd.grad(
        sum(a.pow(2).sum() for a in g_auto[:-1]),
        list(params.values())[:-1])
    s_func = torch.autograd.grad(
        sum(v.pow(2).sum() for v in g_func.values()),
        list(params.values())[:-1])
    for a, b in zip(s_auto, s_func):
        assert torch.allclose(a, b, atol=1e-10)
        assert a.abs().sum() > 0


def test_gp_under_vmap():
    disc, real, fake, alpha = _setup()
    params = meta_params(disc)
    reals = torch.stack([real, real * 0.5])

    def one(r):
        return d_loss(
            'wgan-gp',
            lambda x: functional_call(disc, params, None, x),
            real=r,
            fake=fake,
            alpha=alpha,
            gp_weight=10.0,
            backend='func')

    batched = torch.func.vmap(one)(reals)
    seq = torch.stack([
        d_loss('wgan-gp', disc, real=r, fake=fake, alpha=alpha) for r in reals
    ])
    assert batched.shape == (2, )
    assert torch.allclose(batched, seq, atol=1e-12)


def test_unknown_loss_and_missing_alpha():
    disc, real, fake, _ = _setup()
    with pytest.raises(ValueError, match="loss='lsgan'"):
        d_loss('lsgan', disc, real=real, fake=fake)
    with pytest.raises(ValueError, match='alpha'):
        d_loss(
            'wgan-gp', disc, real=real, fake=fake, alpha=None, gp_weight=10.0)
