"""Meta-SGD: learned inner rates."""
import pytest
import torch

from metagan_mm.core import MetaSGD
from metagan_mm.core.params import index_dict

from conftest import assert_bitwise_equal, make_loop, max_diff, snapshot, to_dtype, toy_tasks

K, N = 3, 5


@pytest.mark.parametrize('per_parameter', [True, False])
@pytest.mark.parametrize('first_order', [True, False])
def test_rates_get_gradient_and_change(gen, per_parameter, first_order):
    loop = make_loop(steps=2)
    alg = MetaSGD(K, first_order=first_order, per_parameter=per_parameter)
    g_lrs, d_lrs = alg.init_rates(loop)
    shape = loop.generator.net[0].weight.shape if per_parameter else ()
    assert g_lrs['net.0.weight'].shape == shape
    assert float(g_lrs['net.0.weight'].detach().flatten()[0]) == pytest.approx(0.05)
    tasks = toy_tasks(3, N)
    rand = alg.sample_randomness(loop, 3, N, generator=gen)
    before = snapshot(loop.generator, loop.discriminator)
    g, d, logs = alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs)
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    assert logs['g_lr_grads'].keys() == g_lrs.keys()
    for grads, rates in ((logs['g_lr_grads'], g_lrs), (logs['d_lr_grads'], d_lrs)):
        assert sum(float(v.abs().sum()) for v in grads.values()) > 1e-6
        assert all(v.shape == rates[k].shape for k, v in grads.items())
    opt = torch.optim.SGD(list(g_lrs.values()) + list(d_lrs.values()), lr=0.1)
    old = {k: v.detach().clone() for k, v in g_lrs.items()}
    for k, v in g_lrs.items():
        v.grad = logs['g_lr_grads'][k]
    for k, v in d_lrs.items():
        v.grad = logs['d_lr_grads'][k]
    opt.step()
    alg.clamp_rates_(g_lrs, d_lrs)
    assert max_diff(old, {k: v.detach() for k, v in g_lrs.items()}) > 1e-7
    assert all(float(v.detach().min()) >= 0.0 for v in g_lrs.values())


def test_rate_gradient_matches_finite_differences(gen):
    loop = make_loop(dtype=torch.float64, steps=2, loss='nonsaturating')
    alg = MetaSGD(K, first_order=False, per_parameter=False)
    g_lrs, d_lrs = alg.init_rates(loop)
    tasks = toy_tasks(2, N, torch.float64)
    rand = to_dtype(alg.sample_randomness(loop, 2, N, generator=gen), torch.float64)
    _, _, logs = alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs, batched=False)
    h = 1e-6
    for rates, key, grads in ((d_lrs, 'outer_d_loss', logs['d_lr_grads']),
                              (g_lrs, 'outer_g_loss', logs['g_lr_grads'])):
        name = next(iter(rates))
        vals = []
        for sign in (1, -1):
            with torch.no_grad():
                rates[name] += sign * h
            vals.append(alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs,
                                           batched=False)[2][key])
            with torch.no_grad():
                rates[name] -= sign * h
        fd = float((vals[0] - vals[1]) / (2 * h))
        assert abs(fd - float(grads[name])) <= 1e-6 * max(1.0, abs(fd))


def test_batched_equals_sequential_with_nan_task(gen):
    loop = make_loop(optimizer='adam', g_lr=0.01, d_lr=0.01)
    alg = MetaSGD(K, first_order=False)
    g_lrs, d_lrs = alg.init_rates(loop)
    tasks = toy_tasks(3, N)
    tasks[0, 0, 0, 0, 0] = float('inf')
    rand = alg.sample_randomness(loop, 3, N, generator=gen)
    b = alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs, batched=True)
    s = alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs, batched=False)
    keep = torch.tensor([1, 2])
    ref = alg.meta_gradients(loop, tasks[keep], index_dict(rand, keep), g_lrs,
                             d_lrs, batched=False)
    assert b[2]['batched'] and not s[2]['batched']
    assert b[2]['num_skipped'] == s[2]['num_skipped'] == 1
    for out in (b, s):
        assert max_diff(out[0], ref[0]) <= 1e-5 and max_diff(out[1], ref[1]) <= 1e-5
        assert max_diff(out[2]['g_lr_grads'], ref[2]['g_lr_grads']) <= 1e-5
        assert max_diff(out[2]['d_lr_grads'], ref[2]['d_lr_grads']) <= 1e-5


def test_clamping_and_bad_rates(gen):
    loop = make_loop()
    alg = MetaSGD(K, min_lr=0.01)
    g_lrs, d_lrs = alg.init_rates(loop)
    with torch.no_grad():
        g_lrs['net.0.bias'].fill_(-1.0)  # below the floor
    tasks = toy_tasks(2, N)
    rand = alg.sample_randomness(loop, 2, N, generator=gen)
    _, _, logs = alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs)
    assert float(logs['g_lr_grads']['net.0.bias'].abs().sum()) == 0.0
    alg.clamp_rates_(g_lrs)
    assert torch.equal(g_lrs['net.0.bias'], torch.full_like(g_lrs['net.0.bias'], 0.01))
    with torch.no_grad():
        d_lrs['net.0.weight'][0, 0] = float('nan')
    with pytest.raises(ValueError, match=r"d_lrs\['net.0.weight'\] has non-finite"):
        alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs)
    with pytest.raises(ValueError, match='lacks rates'):
        alg.meta_gradients(loop, tasks, rand, {}, d_lrs)
    with pytest.raises(ValueError, match='min_lr'):
        MetaSGD(K, min_lr=-1.0)
