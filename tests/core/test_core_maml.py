"""MAML-GAN meta-gradients (first/second order, DAWSON)."""
import pytest
import torch
from core_helpers import (OnceDiffD, ToyG, assert_bitwise_equal, grads_of,
                          make_loop, max_diff, num_skipped, snapshot, to_dtype,
                          toy_tasks)

from metagan_mm.core import (MAML, InnerLoop, InnerLoopConfig, draw_randomness,
                             gan_losses, meta_gradients)
from metagan_mm.core.params import functional_call, index_dict, meta_params

K, N, T = 3, 5, 2


def _reference_fomaml(loop, tasks, rand):
    """Hand-written first-order MAML (plain autograd, no InnerLoop)."""
    cfg, G, D = loop.cfg, loop.generator, loop.discriminator
    gd = lambda p, z: functional_call(G, p, None, z)  # noqa: E731
    dd = lambda p: (lambda x: functional_call(D, p, None, x))  # noqa: E731

    def grad(loss, params):
        return dict(
            zip(
                params,
                torch.autograd.grad(
                    loss, list(params.values()), allow_unused=True)))

    def leaves(p):
        return {
            k: v.detach().clone().requires_grad_(True)
            for k, v in p.items()
        }

    g_sum, d_sum = None, None
    for t in range(tasks.shape[0]):
        sup, qry = tasks[t, :K], tasks[t, K:]
        r, o = rand['inner'], rand['outer']
        g, d = leaves(meta_params(G)), leaves(meta_params(D))
        for s in range(cfg.steps):
            fake = gd(g, r['d']['z'][t, s, 0]).detach()
            gr = grad(
                gan_losses.d_loss(
                    cfg.loss,
                    dd(d),
                    real=sup,
                    fake=fake,
                    alpha=r['d']['alpha'][t, s, 0],
                    gp_weight=cfg.gp_weight), d)
            d = leaves({
                k: d[k] - cfg.d_lr * (gr[k] if gr[k] is not None else 0)
                for k in d
            })
            gr = grad(
                gan_losses.g_loss(cfg.loss,
                                  dd(d)(gd(g, r['g']['z'][t, s]))), g)
            g = leaves({k: g[k] - cfg.g_lr * gr[k] for k in g})
        ld = gan_losses.d_loss(
            cfg.loss,
            dd(d),
            real=qry,
            fake=gd(g, o['d']['z'][t]).detach(),
            alpha=o['d']['alpha'][t],
            gp_weight=cfg.gp_weight)
        lg = gan_losses.g_loss(cfg.loss, dd(d)(gd(g, o['g']['z'][t])))
        gd_, gg_ = grad(ld, d), grad(lg, g)
        gd_ = {
            k: torch.zeros_like(d[k]) if v is None else v
            for k, v in gd_.items()
        }
        d_sum = gd_ if d_sum is None else {k: d_sum[k] + gd_[k] for k in d_sum}
        g_sum = gg_ if g_sum is None else {k: g_sum[k] + gg_[k] for k in g_sum}
    n = tasks.shape[0]
    return ({
        k: v / n
        for k, v in g_sum.items()
    }, {
        k: v / n
        for k, v in d_sum.items()
    })


@pytest.mark.parametrize('loss', ['wgan-gp', 'nonsaturating'])
def test_first_order_matches_reference_and_drops_second_order(gen, loss):
    loop = make_loop(loss=loss, steps=2, mode='loop')
    tasks = toy_tasks(T, N)
    fo = MAML(K, first_order=True)
    rand = draw_randomness(fo, loop, T, N, gen)
    before = snapshot(loop.generator, loop.discriminator)
    out = meta_gradients(fo, loop, tasks, rand)
    g_fo, d_fo = grads_of(out)
    g_ref, d_ref = _reference_fomaml(loop, tasks, rand)
    assert max_diff(g_fo, g_ref) <= 1e-6 and max_diff(d_fo, d_ref) <= 1e-6
    g_so, d_so = grads_of(meta_gradients(MAML(K), loop, tasks, rand))
    assert max_diff(g_so, g_fo) > 1e-4 and max_diff(d_so, d_fo) > 1e-4
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    assert num_skipped(out) == 0
    assert out.losses.outer_d.shape == ()
    assert out.losses.inner_g.shape == (2, )


def _directional_fd(loop, alg, tasks, rand, module, key, grads, h=1e-5):
    torch.manual_seed(7)
    params = list(module.parameters())
    dirs = [torch.randn_like(p) for p in params]
    saved = [p.detach().clone() for p in params]
    vals = []
    for sign in (1, -1):
        with torch.no_grad():
            for p, s, v in zip(params, saved, dirs):
                p.copy_(s + sign * h * v)
        vals.append(
            getattr(meta_gradients(alg, loop, tasks, rand).losses, key))
    with torch.no_grad():
        for p, s in zip(params, saved):
            p.copy_(s)
    fd = float((vals[0] - vals[1]) / (2 * h))
    analytic = sum(float((g * v).sum()) for g, v in zip(grads.values(), dirs))
    return fd, analytic


@pytest.mark.parametrize('optimizer, loss, dawson',
                         [('sgd', 'wgan-gp', False),
                          ('adam', 'nonsaturating', False),
                          ('sgd', 'hinge', True)])
def test_second_order_matches_finite_differences(gen, optimizer, loss, dawson):
    loop = make_loop(
        dtype=torch.float64,
        optimizer=optimizer,
        loss=loss,
        steps=2,
        g_lr=0.1 if optimizer == 'sgd' else 0.02,
        d_lr=0.1 if optimizer == 'sgd' else 0.02,
        mode='loop')
    tasks = toy_tasks(T, N, torch.float64)
    alg = MAML(K, first_order=False, separate_disc_adaptation=dawson)
    rand = to_dtype(draw_randomness(alg, loop, T, N, gen), torch.float64)
    g_grads, d_grads = grads_of(meta_gradients(alg, loop, tasks, rand))
    for module, key, grads in ((loop.discriminator, 'outer_d', d_grads),
                               (loop.generator, 'outer_g', g_grads)):
        fd, analytic = _directional_fd(loop, alg, tasks, rand, module, key,
                                       grads)
        assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(fd)), (key, fd,
                                                                analytic)
        assert abs(analytic) > 1e-3


@pytest.mark.parametrize('first_order, dawson, optimizer',
                         [(True, False, 'sgd'), (False, False, 'sgd'),
                          (False, True, 'sgd'), (True, False, 'adam'),
                          (False, False, 'adam')])
def test_batched_equals_sequential(gen, first_order, dawson, optimizer):
    loops = {
        mode:
        make_loop(
            optimizer=optimizer,
            steps=2,
            d_steps_per_g_step=2,
            mode=mode,
            g_lr=0.05 if optimizer == 'sgd' else 0.01,
            d_lr=0.05 if optimizer == 'sgd' else 0.01)
        for mode in ('vmap', 'loop')
    }
    tasks = toy_tasks(3, N)
    alg = MAML(K, first_order=first_order, separate_disc_adaptation=dawson)
    rand = draw_randomness(alg, loops['loop'], 3, N, gen)
    b = meta_gradients(alg, loops['vmap'], tasks, rand)
    s = meta_gradients(alg, loops['loop'], tasks, rand)
    assert b.batched and not s.batched
    assert max_diff(grads_of(b)[0], grads_of(s)[0]) <= 1e-5
    assert max_diff(grads_of(b)[1], grads_of(s)[1]) <= 1e-5
    for key in ('outer_d', 'outer_g', 'inner_d', 'inner_g'):
        assert torch.allclose(
            getattr(b.losses, key), getattr(s.losses, key), atol=1e-5), key
    n_inner_d = 4 * (2 if dawson else 1)
    assert b.losses.inner_d.shape == (n_inner_d, )


@pytest.mark.parametrize('mode', ['vmap', 'loop'])
@pytest.mark.parametrize('first_order', [True, False])
def test_nan_task_skipped_and_counted(gen, mode, first_order):
    loop = make_loop(mode=mode)
    tasks = toy_tasks(3, N)
    tasks[2, K, 0, 1, 1] = float('nan')  # a query image
    alg = MAML(K, first_order=first_order)
    rand = draw_randomness(alg, loop, 3, N, gen)
    keep = torch.tensor([0, 1])
    ref = meta_gradients(alg, make_loop(mode='loop'), tasks[keep],
                         index_dict(rand, keep))
    out = meta_gradients(alg, loop, tasks, rand)
    assert out.batched == (mode == 'vmap')
    assert num_skipped(out) == 1 and out.num_tasks == 3
    assert out.valid.tolist() == [True, True, False]
    assert max_diff(grads_of(out)[0], grads_of(ref)[0]) <= 1e-5
    assert max_diff(grads_of(out)[1], grads_of(ref)[1]) <= 1e-5
    assert torch.isfinite(out.losses.outer_d)


def test_double_backward_unsupported_error_names_module(gen):
    torch.manual_seed(0)
    loop = InnerLoop(
        ToyG(3, 5), OnceDiffD(),
        InnerLoopConfig(
            steps=1, optimizer='sgd', g_lr=0.1, d_lr=0.1,
            loss='nonsaturating'))
    tasks = toy_tasks(2, N)
    rand = draw_randomness(MAML(K), loop, 2, N, gen)
    with pytest.raises(RuntimeError) as info:
        with pytest.warns(
                RuntimeWarning):  # vmap refuses the old-style Function
            meta_gradients(MAML(K, first_order=False), loop, tasks, rand)
    msg = str(info.value)
    assert 'discriminator OnceDiffD' in msg and 'first_order=True' in msg
    assert 'ToyG' not in msg
    # first order works with the same module
    out = meta_gradients(MAML(K, first_order=True), loop, tasks, rand)
    d = out.grads['discriminator']
    assert num_skipped(out) == 0 and float(d['l1.weight'].abs().sum()) > 0


def test_needs_query_images():
    loop = make_loop()
    with pytest.raises(ValueError, match='query'):
        draw_randomness(MAML(5), loop, 2, 5)
    with pytest.raises(ValueError, match='num_support'):
        MAML(0)
