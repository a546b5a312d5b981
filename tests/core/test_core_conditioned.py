"""A condition encoder as a third meta-module of every meta-learner."""
import copy

import pytest
import torch
from core_helpers import (ToyCondG, ToyE, ToyG, assert_same_losses,
                          make_conditioned_loop, max_diff, toy_tasks)

from metagan_mm.core import (MAML, InnerLoop, InnerLoopConfig, MetaSGD,
                             Reptile, Task, check_pair, draw_randomness,
                             gan_losses, meta_gradients)
from metagan_mm.core.objective import E

K, N, T = 3, 5, 3


def algorithms(loop):
    """Every meta-learner, by name, over ``loop``."""
    return {
        'reptile': Reptile(),
        'fomaml': MAML(K, first_order=True),
        'maml': MAML(K),
        'dawson': MAML(K, separate_disc_adaptation=True),
        'meta-sgd': MetaSGD(loop, K),
    }


def run(name, mode, gen_seed=7, **cfg):
    loop = make_conditioned_loop(mode=mode, **cfg)
    alg = algorithms(loop)[name]
    rand = draw_randomness(alg, loop, T, N,
                           torch.Generator().manual_seed(gen_seed))
    return meta_gradients(alg, loop, toy_tasks(T, N), rand)


@pytest.mark.parametrize('name',
                         ['reptile', 'fomaml', 'maml', 'dawson', 'meta-sgd'])
@pytest.mark.parametrize(
    'cfg', [
        dict(pooled=True, projection=True),
        dict(
            pooled=False,
            loss='ragan',
            recon_weight=1.0,
            mode_seeking_weight=0.5)
    ],
    ids=['pooled-projection', 'per-image-faml-losses'])
def test_batched_equals_sequential(name, cfg):
    # SGD: RaGAN's loss does not depend on D's last bias (it cancels), so
    # Adam would blow float noise of that zero gradient up to +-lr.
    batched = run(name, 'vmap', **cfg)
    looped = run(name, 'loop', **cfg)
    assert batched.batched and not looped.batched
    assert set(batched.grads) >= {'generator', 'discriminator', 'encoder'}
    for module in batched.grads:
        assert max_diff(batched.grads[module], looped.grads[module]) < 1e-5
    enc = torch.cat([g.flatten() for g in batched.grads[E].values()])
    assert enc.abs().max() > 1e-6  # the encoder is meta-trained
    assert_same_losses(batched, looped, atol=1e-5)


def test_meta_sgd_learns_encoder_rates():
    loop = make_conditioned_loop(mode='loop')
    alg = MetaSGD(loop, K)
    assert set(
        alg.inner_rates.rates()) == {'generator', 'discriminator', 'encoder'}
    rand = draw_randomness(alg, loop, T, N, torch.Generator().manual_seed(1))
    res = meta_gradients(alg, loop, toy_tasks(T, N), rand)
    rate_grads = res.grads['inner_rates']
    enc = [v for k, v in rate_grads.items() if k.startswith('e.')]
    assert len(enc) == len(list(loop.encoder.parameters()))
    assert max(float(v.abs().max()) for v in enc) > 1e-8


def _hand_reptile(loop, tasks, rand):
    """One SGD inner step of G, D and E per task, written with plain
    autograd on module copies; returns ``theta - mean_t(theta_t)``."""
    cfg = loop.cfg
    ends = []
    for t in range(tasks.shape[0]):
        g, d, e = (
            copy.deepcopy(m)
            for m in (loop.generator, loop.discriminator, loop.encoder))
        x = tasks[t]
        z_d = rand['inner']['d']['z'][t, 0, 0]
        z_g = rand['inner']['g']['z'][t, 0]
        with torch.enable_grad():
            c = e(x).detach()
            fake = g(z_d, c).detach()
            loss_d = gan_losses.d_loss(cfg.loss, d, real=x, fake=fake)
            grads = torch.autograd.grad(loss_d, list(d.parameters()))
            with torch.no_grad():
                for p, gr in zip(d.parameters(), grads):
                    p -= cfg.d_lr * gr
            c = e(x)
            loss_g = gan_losses.g_loss(cfg.loss, d(g(z_g, c)))
            params = list(g.parameters()) + list(e.parameters())
            grads = torch.autograd.grad(loss_g, params)
            with torch.no_grad():
                for p, gr in zip(params, grads):
                    p -= cfg.g_lr * gr
        ends.append({
            'generator': dict(g.named_parameters()),
            'discriminator': dict(d.named_parameters()),
            'encoder': dict(e.named_parameters())
        })
    return {
        n: {
            k: v.detach() - sum(end[n][k].detach() for end in ends) / len(ends)
            for k, v in m.named_parameters()
        }
        for n, m in loop.modules.items()
    }


def test_reptile_over_three_modules_equals_hand_computation(gen):
    loop = make_conditioned_loop(steps=1, loss='nonsaturating', mode='loop')
    tasks = toy_tasks(2, 4)
    rand = draw_randomness(Reptile(), loop, 2, 4, gen)
    res = meta_gradients(Reptile(), loop, tasks, rand)
    expected = _hand_reptile(loop, tasks, rand)
    for module in ('generator', 'discriminator', 'encoder'):
        assert max_diff(res.grads[module], expected[module]) < 1e-6
        assert max(float(v.abs().max())
                   for v in expected[module].values()) > 1e-6


def test_faml_losses_inner_loop_reconstructs_and_changes_every_module(gen):
    """FAML's inner objective (RaGAN + mode seeking + L1) on one toy task:
    the L1 term drops and G, D and E all move."""
    loop = make_conditioned_loop(
        pooled=False,
        steps=60,
        optimizer='adam',
        g_lr=0.01,
        d_lr=0.01,
        loss='ragan',
        recon_weight=1.0,
        mode_seeking_weight=0.01,
        mode='loop')
    x = toy_tasks(1, 4)[0]
    rand = loop.randomness(4, gen)

    def l1(params):
        with torch.no_grad():
            nets = loop.nets(params, {})
            fake = nets.generate(rand['g']['z'][0], nets.condition(x))
        return float((fake - x).abs().mean())

    before = loop.meta_params()
    res = loop.adapt(Task(x), rand)
    assert l1(res.params) < 0.7 * l1(before)
    assert res.g_losses[-1] < res.g_losses[0]
    for name in ('generator', 'discriminator', 'encoder'):
        assert max_diff(res.params[name], before[name]) > 1e-3
    assert torch.isfinite(res.d_losses).all()


def test_condition_rows_cycle_per_image_conditions():
    net = ToyCondG(3, 2)
    c = torch.arange(6.).reshape(3, 2)
    assert torch.equal(
        net.condition_rows(c, 5)[:, 0], torch.tensor([0., 2, 4, 0, 2]))
    assert torch.equal(net.condition_rows(c[0], 5), c[0].expand(5, 2))
    assert torch.equal(net.condition_rows(c[:1], 5), c[:1].expand(5, 2))
    with pytest.raises(ValueError, match=r'condition must be \[2\]'):
        net.condition_rows(torch.zeros(5, 3), 5)


def test_losses_need_an_encoder():
    with pytest.raises(ValueError, match='recon_weight and mode_seeking'):
        InnerLoop(ToyG(), ToyCondG(), InnerLoopConfig(recon_weight=1.0))


def test_check_pair_names_sizes_and_missing_encoder():
    g, e = ToyCondG(3, 2), ToyE(4)
    from core_helpers import ToyD
    with pytest.raises(
            ValueError, match='embed_size=4.*ToyCondG expects '
            'condition_size=2'):
        check_pair(g, ToyD(6), 3, e)
    with pytest.raises(
            ValueError,
            match='generator ToyCondG is conditioned '
            r"\(condition_size=2\) but the model has no encoder"):
        check_pair(g, ToyD(6), 3)
    check_pair(g, ToyD(6), 3, ToyE(2))
