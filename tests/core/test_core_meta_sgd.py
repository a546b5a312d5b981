"""Meta-SGD: learned inner rates, owned by the algorithm as a module."""
import pytest
import torch
from core_helpers import (assert_bitwise_equal, make_loop, max_diff,
                          num_skipped, snapshot, to_dtype, toy_tasks)

from metagan_mm.core import (MetaSGD, MetaTrainingError, draw_randomness,
                             meta_gradients)
from metagan_mm.core.params import index_dict

K, N = 3, 5


def _rate_name(alg, module, param):
    """The rate's name in ``alg.inner_rates`` (and in checkpoints)."""
    return alg.inner_rates.leaves(module)[param][0]


@pytest.mark.parametrize('per_parameter', [True, False])
@pytest.mark.parametrize('first_order', [True, False])
def test_rates_get_gradient_and_change(gen, per_parameter, first_order):
    loop = make_loop(steps=2)
    alg = MetaSGD(
        loop, K, first_order=first_order, per_parameter=per_parameter)
    g_lrs = alg.inner_rates.rates()['generator']
    shape = loop.generator.net[0].weight.shape if per_parameter else ()
    assert g_lrs['net.0.weight'].shape == shape
    assert float(
        g_lrs['net.0.weight'].detach().flatten()[0]) == pytest.approx(0.05)
    assert alg.modules() == {'inner_rates': alg.inner_rates}
    tasks = toy_tasks(3, N)
    rand = draw_randomness(alg, loop, 3, N, gen)
    before = snapshot(loop.generator, loop.discriminator)
    out = meta_gradients(alg, loop, tasks, rand)
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    named = dict(alg.inner_rates.named_parameters())
    grads = out.grads['inner_rates']
    assert grads.keys() == named.keys()
    assert _rate_name(alg, 'generator', 'net.0.weight') == 'g.net/0/weight'
    for prefix in ('g.', 'd.'):
        assert sum(
            float(v.abs().sum()) for k, v in grads.items()
            if k.startswith(prefix)) > 1e-6
    assert all(v.shape == named[k].shape for k, v in grads.items())
    opt = torch.optim.SGD(alg.inner_rates.parameters(), lr=0.1)
    old = {k: v.detach().clone() for k, v in g_lrs.items()}
    for k, v in named.items():
        v.grad = grads[k]
    opt.step()
    stats = alg.after_update()
    assert {'inner_lr_g_mean', 'inner_lr_d_min',
            'inner_lr_d_max'} <= set(stats)
    assert max_diff(old, {k: v.detach() for k, v in g_lrs.items()}) > 1e-7
    assert all(float(v.detach().min()) >= 0.0 for v in g_lrs.values())


def test_rate_gradient_matches_finite_differences(gen):
    loop = make_loop(
        dtype=torch.float64, steps=2, loss='nonsaturating', mode='loop')
    alg = MetaSGD(loop, K, first_order=False, per_parameter=False)
    tasks = toy_tasks(2, N, torch.float64)
    rand = to_dtype(draw_randomness(alg, loop, 2, N, gen), torch.float64)
    out = meta_gradients(alg, loop, tasks, rand)
    h = 1e-6
    for module, key in (('discriminator', 'outer_d'), ('generator',
                                                       'outer_g')):
        rates = alg.inner_rates.rates()[module]
        name = next(iter(rates))
        vals = []
        for sign in (1, -1):
            with torch.no_grad():
                rates[name] += sign * h
            vals.append(
                getattr(meta_gradients(alg, loop, tasks, rand).losses, key))
            with torch.no_grad():
                rates[name] -= sign * h
        fd = float((vals[0] - vals[1]) / (2 * h))
        analytic = float(out.grads['inner_rates'][_rate_name(
            alg, module, name)])
        assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(fd))


def test_batched_equals_sequential_with_nan_task(gen):
    tasks = toy_tasks(3, N)
    tasks[0, 0, 0, 0, 0] = float('inf')
    outs = {}
    for mode in ('vmap', 'loop'):
        loop = make_loop(optimizer='adam', g_lr=0.01, d_lr=0.01, mode=mode)
        alg = MetaSGD(loop, K, first_order=False)
        rand = draw_randomness(alg, loop, 3, N, gen.manual_seed(5))
        outs[mode] = meta_gradients(alg, loop, tasks, rand)
    keep = torch.tensor([1, 2])
    ref = meta_gradients(alg, loop, tasks[keep], index_dict(rand, keep))
    assert outs['vmap'].batched and not outs['loop'].batched
    assert num_skipped(outs['vmap']) == num_skipped(outs['loop']) == 1
    for out in outs.values():
        for module in ('generator', 'discriminator', 'inner_rates'):
            assert max_diff(out.grads[module], ref.grads[module]) <= 1e-5


def test_clamping_and_bad_rates(gen):
    loop = make_loop()
    alg = MetaSGD(loop, K, min_lr=0.01)
    rates = alg.inner_rates.rates()
    with torch.no_grad():
        rates['generator']['net.0.bias'].fill_(-1.0)  # below the floor
    tasks = toy_tasks(2, N)
    rand = draw_randomness(alg, loop, 2, N, gen)
    out = meta_gradients(alg, loop, tasks, rand)
    bias = _rate_name(alg, 'generator', 'net.0.bias')
    assert float(out.grads['inner_rates'][bias].abs().sum()) == 0.0
    alg.after_update()
    assert torch.equal(rates['generator']['net.0.bias'],
                       torch.full_like(rates['generator']['net.0.bias'], 0.01))
    with pytest.raises(ValueError, match='inner_rates lacks generator rates'):
        meta_gradients(alg, make_loop(hidden=0), tasks, rand)
    with torch.no_grad():
        rates['discriminator']['net.0.weight'][0, 0] = float('nan')
    with pytest.raises(
            MetaTrainingError,
            match=r"discriminator rates of "
            r"'net.0.weight' have non-finite learning rates"):
        meta_gradients(alg, loop, tasks, rand)
    with pytest.raises(
            MetaTrainingError,
            match='non-finite learning rates '
            'after the outer step'):
        alg.after_update()
    with pytest.raises(ValueError, match='min_lr'):
        MetaSGD(loop, K, min_lr=-1.0)
