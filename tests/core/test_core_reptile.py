"""Reptile meta-gradients."""
import torch
from core_helpers import (assert_bitwise_equal, grads_of, loop_randomness,
                          make_loop, max_diff, num_skipped, snapshot,
                          toy_tasks)

from metagan_mm.core import Reptile, meta_gradients
from metagan_mm.core.params import index_dict


def test_one_step_matches_hand_computed_update(gen):
    """Linear G/D, wgan without GP, SGD, 1 inner step: closed form."""
    g_lr, d_lr = 0.1, 0.2
    loop = make_loop(hidden=0, steps=1, g_lr=g_lr, d_lr=d_lr, gp_weight=0.0)
    tasks = toy_tasks(3, 4)
    rand = loop_randomness(loop, 3, 4, gen)
    before = snapshot(loop.generator, loop.discriminator)
    out = meta_gradients(Reptile(), loop, tasks, rand)
    g_grads, d_grads = grads_of(out)
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    a = loop.generator.net.weight.detach()
    c = loop.generator.net.bias.detach()
    w = loop.discriminator.net.weight.detach()
    theta_a, theta_c, theta_w = [], [], []
    for t in range(3):
        fake_mean = (rand['inner']['d']['z'][t, 0, 0] @ a.T + c).mean(0)
        w1 = w - d_lr * (fake_mean - tasks[t].flatten(1).mean(0))
        theta_w.append(w1)
        theta_a.append(
            a +
            g_lr * w1.T @ rand['inner']['g']['z'][t, 0].mean(0, keepdim=True))
        theta_c.append(c + g_lr * w1[0])
    mean = lambda xs: torch.stack(xs).mean(0)  # noqa: E731
    assert torch.allclose(d_grads['net.weight'], w - mean(theta_w), atol=1e-6)
    assert torch.equal(d_grads['net.bias'], torch.zeros(1))
    assert torch.allclose(g_grads['net.weight'], a - mean(theta_a), atol=1e-6)
    assert torch.allclose(g_grads['net.bias'], c - mean(theta_c), atol=1e-6)
    assert num_skipped(out) == 0 and out.num_tasks == 3
    assert out.losses.inner_d.shape == (1, )
    assert out.losses.inner_g.shape == (1, )


def test_batched_equals_sequential_adam(gen):
    outs = {}
    for mode in ('vmap', 'loop'):
        loop = make_loop(
            optimizer='adam',
            steps=3,
            d_steps_per_g_step=2,
            g_lr=1e-2,
            d_lr=1e-2,
            mode=mode)
        tasks = toy_tasks(4, 5)
        rand = loop_randomness(loop, 4, 5, gen.manual_seed(2))
        outs[mode] = meta_gradients(Reptile(), loop, tasks, rand)
    b, s = outs['vmap'], outs['loop']
    assert b.batched and not s.batched
    assert max_diff(grads_of(b)[0], grads_of(s)[0]) <= 1e-5
    assert max_diff(grads_of(b)[1], grads_of(s)[1]) <= 1e-5
    assert torch.allclose(b.losses.inner_d, s.losses.inner_d, atol=1e-5)
    assert b.losses.inner_d.shape == (6, )


def test_nan_task_skipped_and_counted(gen):
    tasks = toy_tasks(3, 4)
    tasks[1, 0, 0, 0, 0] = float('nan')
    keep = torch.tensor([0, 2])
    for mode in ('vmap', 'loop'):
        loop = make_loop(mode=mode)
        rand = loop_randomness(loop, 3, 4, gen.manual_seed(3))
        ref = meta_gradients(Reptile(), loop, tasks[keep],
                             index_dict(rand, keep))
        out = meta_gradients(Reptile(), loop, tasks, rand)
        assert out.batched == (mode == 'vmap')
        assert num_skipped(out) == 1
        assert out.valid.tolist() == [True, False, True]
        assert max_diff(grads_of(out)[0], grads_of(ref)[0]) <= 1e-6
        assert max_diff(grads_of(out)[1], grads_of(ref)[1]) <= 1e-6
        assert all(torch.isfinite(v).all() for v in grads_of(out)[0].values())


def test_all_tasks_skipped_gives_zero_grads(gen):
    loop = make_loop()
    tasks = torch.full((2, 4, 1, 2, 2), float('inf'))
    out = meta_gradients(Reptile(), loop, tasks,
                         loop_randomness(loop, 2, 4, gen))
    assert num_skipped(out) == 2
    g, d = grads_of(out)
    assert all(
        float(v.abs().sum()) == 0 for v in list(g.values()) + list(d.values()))
    assert torch.isnan(out.losses.inner_d).all()
