"""Baselines: pooled (transfer) gradients, from-scratch adaptation,
TransferGAN."""
import copy

import pytest
import torch
import torch.nn.functional as F
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import batch, build, model_cfg, optim, params
from torch import nn

from metagan_mm.core import (InnerLoop, InnerLoopConfig, Pooled,
                             draw_randomness, meta_gradients)

NZ = 3


class TinyG(nn.Module):
    """noise [N, 3] -> images [N, 1, 2, 2]."""

    noise_size = NZ

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(NZ, 4)

    def forward(self, z):
        return torch.tanh(self.fc(z)).view(-1, 1, 2, 2)


class TinyD(nn.Module):
    """images [N, 1, 2, 2] -> scores [N, 1] (non-linear, so GP has a graph)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x.flatten(1))))


def reference_grads(G, D, real, z_d, alpha, z_g, loss, gp_weight):
    """Hand-written pooled GAN losses, differentiated by plain autograd."""
    fake = G(z_d).detach()
    if loss == 'wgan-gp':
        d = D(fake).mean() - D(real).mean()
        a = alpha.view(-1, 1, 1, 1)
        x_hat = (a * real + (1 - a) * fake).requires_grad_(True)
        gx, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        norm = (gx.flatten(1).pow(2).sum(1) + 1e-12).sqrt()
        d = d + gp_weight * ((norm - 1)**2).mean()
        g = -D(G(z_g)).mean()
    elif loss == 'nonsaturating':
        d = F.softplus(-D(real)).mean() + F.softplus(D(fake)).mean()
        g = F.softplus(-D(G(z_g))).mean()
    else:  # hinge
        d = F.relu(1 - D(real)).mean() + F.relu(1 + D(fake)).mean()
        g = -D(G(z_g)).mean()
    d_grads = torch.autograd.grad(d, list(D.parameters()))
    g_grads = torch.autograd.grad(g, list(G.parameters()))
    return ([x.detach() for x in g_grads], [x.detach() for x in d_grads],
            float(d.detach()), float(g.detach()))


@pytest.mark.parametrize('loss', ['wgan-gp', 'nonsaturating', 'hinge'])
def test_pooled_gradients_equal_autograd_of_pooled_gan_loss(loss):
    torch.manual_seed(0)
    G, D = TinyG().double(), TinyD().double()
    loop = InnerLoop(G, D, InnerLoopConfig(steps=2, loss=loss, gp_weight=10.0))
    algo = Pooled()
    T, N = 3, 4
    tasks = torch.rand(T, N, 1, 2, 2, dtype=torch.float64) * 2 - 1
    rand = draw_randomness(algo, loop, T, N, torch.Generator().manual_seed(1))
    assert rand['d']['z'].shape == (T, N, NZ)
    assert rand['d']['alpha'].shape == (T, N)
    before = {
        k: v.clone()
        for k, v in list(G.state_dict().items()) + list(D.state_dict().items())
    }
    out = meta_gradients(algo, loop, tasks, rand)
    g_grads, d_grads = out.grads['generator'], out.grads['discriminator']

    ref_g, ref_d, d_val, g_val = reference_grads(
        G, D, tasks.reshape(T * N, 1, 2, 2), rand['d']['z'].reshape(T * N, NZ),
        rand['d']['alpha'].reshape(T * N), rand['g']['z'].reshape(T * N, NZ),
        loss, 10.0)
    assert list(g_grads) == [k for k, _ in G.named_parameters()]
    assert list(d_grads) == [k for k, _ in D.named_parameters()]
    for got, want in zip(
            list(g_grads.values()) + list(d_grads.values()), ref_g + ref_d):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    assert any(float(g.abs().max()) > 0 for g in g_grads.values())
    # the pooled losses are the means of the tasks' D and G losses
    assert out.num_tasks == T and out.num_valid == T
    assert out.valid.tolist() == [True] * T
    losses = out.losses
    assert losses.inner_d is None and losses.inner_g is None
    assert losses.outer_d.shape == () and losses.outer_g.shape == ()
    assert float(losses.outer_d) == pytest.approx(d_val, rel=1e-10)
    assert float(losses.outer_g) == pytest.approx(g_val, rel=1e-10)
    assert out.buffers == {} and out.batched is True
    # the modules' own weights are untouched and hold no .grad
    for k, v in list(G.state_dict().items()) + list(D.state_dict().items()):
        assert torch.equal(v, before[k])
    assert all(
        p.grad is None for p in list(G.parameters()) + list(D.parameters()))


def test_pooled_drops_a_non_finite_task_like_every_algorithm():
    torch.manual_seed(0)
    G, D = TinyG(), TinyD()
    loop = InnerLoop(G, D, InnerLoopConfig(steps=1))
    algo = Pooled()
    tasks = torch.rand(2, 3, 1, 2, 2)
    tasks[1, 0, 0, 0, 0] = float('nan')
    rand = draw_randomness(algo, loop, 2, 3)
    out = meta_gradients(algo, loop, tasks, rand)
    ref = meta_gradients(algo, loop, tasks[:1], {
        k: {
            n: v[:1]
            for n, v in r.items()
        }
        for k, r in rand.items()
    })
    assert out.num_valid == 1 and out.num_tasks == 2
    assert out.valid.tolist() == [True, False]
    for module in ('generator', 'discriminator'):
        for k, v in out.grads[module].items():
            assert torch.isfinite(v).all()
            torch.testing.assert_close(v, ref.grads[module][k])
    all_bad = torch.full_like(tasks, float('nan'))
    none = meta_gradients(algo, loop, all_bad, rand)
    assert none.num_valid == 0
    assert all(
        float(v.abs().sum()) == 0 for m in none.grads.values()
        for v in m.values())


# ---------------------------------------------------------------- models
def test_random_fewshot_init_starts_from_fresh_repeatable_weights():
    model = build(model_cfg(fewshot_init='random'))
    meta_g, meta_d = params(model.generator), params(model.discriminator)
    rng_before = torch.random.get_rng_state()
    support = torch.rand(4, 1, 32, 32) * 2 - 1

    init_a = model.adapt(support, steps=0, seed=5)[0]['generator']
    init_b = model.adapt(support, steps=0, seed=5)[0]['generator']
    init_c = model.adapt(support, steps=0, seed=6)[0]['generator']
    for k in meta_g:
        assert init_a[k].shape == meta_g[k].shape
        assert torch.equal(init_a[k], init_b[k]), k  # repeatable
    weights = [
        k for k in meta_g if k.endswith('weight') and meta_g[k].dim() > 1
    ]
    assert weights
    for k in weights:
        assert not torch.equal(init_a[k], meta_g[k]), k  # not the meta-weights
        assert not torch.equal(init_a[k], init_c[k]), k  # seeded per class

    adapted_a = model.adapt(support, steps=2, seed=5)[0]['generator']
    adapted_b = model.adapt(support, steps=2, seed=5)[0]['generator']
    for k in meta_g:
        torch.testing.assert_close(adapted_a[k], adapted_b[k], rtol=0, atol=0)
    assert any(not torch.equal(adapted_a[k], init_a[k]) for k in meta_g)
    # it differs from adapting the meta-weights with the same noise
    model_meta = build(model_cfg())
    model_meta.load_state_dict(model.state_dict())
    from_meta = model_meta.adapt(support, steps=2, seed=5)[0]['generator']
    assert any(not torch.allclose(adapted_a[k], from_meta[k]) for k in meta_g)
    # meta-weights and the global RNG are untouched
    for k, v in params(model.generator).items():
        assert torch.equal(v, meta_g[k]), k
    for k, v in params(model.discriminator).items():
        assert torch.equal(v, meta_d[k]), k
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    out = model.generate_adapted(support, num=3, seed=5)
    assert out.shape == (3, 1, 32, 32)


def test_bad_fewshot_init_fails_at_build():
    with pytest.raises(ValueError, match='fewshot_init'):
        build(model_cfg(fewshot_init='pretrained'))


def test_transfer_gan_train_step_changes_weights_and_skips_nothing():
    model = build(model_cfg('TransferGAN'))
    data = batch(num_tasks=3)
    before_g, before_d = params(model.generator), params(model.discriminator)
    logs = model.train_step(copy.deepcopy(data), optim(model, lr=1e-3))
    assert float(logs['tasks_skipped']) == 0
    assert torch.isfinite(logs['loss_outer_d_loss'])
    assert torch.isfinite(logs['loss_outer_g_loss'])
    assert 'loss_inner_d_loss_first' not in logs
    assert float(logs['meta_grad_norm_g']) > 0
    assert float(logs['meta_grad_norm_d']) > 0
    after_g, after_d = params(model.generator), params(model.discriminator)
    assert any(not torch.equal(before_g[k], after_g[k]) for k in before_g)
    assert any(not torch.equal(before_d[k], after_d[k]) for k in before_d)
