"""``inner_loop.compile``: compiled inner gradients equal eager ones, and
every case that cannot be compiled runs eagerly with one logged reason."""
import warnings

import pytest
import torch
from core_helpers import (assert_same_losses, make_conditioned_loop, make_loop,
                          max_diff, toy_tasks)
from torch._dynamo.utils import counters

from metagan_mm.core import (MAML, InnerLoop, InnerLoopConfig, Reptile,
                             draw_randomness, meta_gradients)
from metagan_mm.core.batching import LOOP, Compiled

K, N, T = 3, 5, 3


def meta_grads(alg, loop, gen_seed=7):
    rand = draw_randomness(alg, loop, T, N,
                           torch.Generator().manual_seed(gen_seed))
    return meta_gradients(alg, loop, toy_tasks(T, N), rand)


def compile_warnings(record):
    return [
        str(w.message) for w in record
        if 'inner_loop.compile' in str(w.message)
    ]


@pytest.mark.parametrize('mode', ['loop', 'vmap'])
@pytest.mark.parametrize('name', ['reptile', 'fomaml'])
def test_compiled_equals_eager(name, mode):
    """Adam inner steps, WGAN-GP (a gradient of a gradient inside the
    compiled function): same meta-gradients and losses within 1e-5, and
    the compiler did capture graphs; with batching mode 'vmap' the tasks
    run in a loop, with the reason noted once."""
    make_alg = {
        'reptile': Reptile,
        'fomaml': lambda: MAML(K, first_order=True)
    }[name]
    cfg = dict(steps=3, optimizer='adam', g_lr=1e-2, d_lr=1e-2, mode=mode)
    eager = meta_grads(make_alg(), make_loop(**cfg))
    torch._dynamo.reset()  # count this test's graphs, not cached ones
    counters.clear()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        compiled = meta_grads(make_alg(), make_loop(compile=True, **cfg))
    assert compile_warnings(record) == ([] if mode == 'loop' else [
        'metagan_mm: inner_loop.compile=True runs the tasks sequentially '
        '(torch.compile does not compile inside the vmap over tasks).'
    ])
    assert counters['stats']['unique_graphs'] >= 2  # the D and G gradients
    assert not compiled.batched
    for module in eager.grads:
        assert max_diff(compiled.grads[module], eager.grads[module]) < 1e-5
    assert_same_losses(compiled, eager, atol=1e-5)


def test_compiled_conditioned_equals_eager():
    """G and E differentiated together, FAML's losses."""
    cfg = dict(
        pooled=False,
        loss='ragan',
        recon_weight=1.0,
        mode_seeking_weight=0.5,
        mode='loop')
    eager = meta_grads(Reptile(), make_conditioned_loop(**cfg))
    compiled = meta_grads(Reptile(),
                          make_conditioned_loop(compile=True, **cfg))
    assert set(compiled.grads) == {'generator', 'discriminator', 'encoder'}
    for module in eager.grads:
        assert max_diff(compiled.grads[module], eager.grads[module]) < 1e-5


def test_second_order_runs_eagerly_with_one_reason():
    eager = meta_grads(MAML(K), make_loop(mode='loop'))
    loop = make_loop(mode='loop', compile=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        first = meta_grads(MAML(K), loop)
        meta_grads(MAML(K), loop)
    assert compile_warnings(record) == [
        'metagan_mm: inner_loop.compile ignored, inner steps run eagerly: '
        'second order: torch.compile does not differentiate its graphs '
        'twice.'
    ]
    for module in eager.grads:
        assert max_diff(first.grads[module], eager.grads[module]) < 1e-6


def test_buffers_run_eagerly_with_reason():
    torch.manual_seed(0)
    g = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
        torch.nn.Unflatten(1, (1, 2, 2)))
    g.noise_size = 3
    d = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1))
    loop = InnerLoop(
        g, d,
        InnerLoopConfig(steps=1, compile=True, batching=dict(mode='loop')))
    with pytest.warns(
            RuntimeWarning,
            match=r'inner_loop.compile ignored.*'
            r'buffers \(1.running_mean, 1.running_var'):
        meta_grads(Reptile(), loop)


def test_compiler_failure_falls_back_once(monkeypatch):
    eager = meta_grads(Reptile(), make_loop(mode='loop'))

    def broken(fn, **kwargs):
        raise RuntimeError('no C++ compiler\nsecond line')

    monkeypatch.setattr(torch, 'compile', broken)
    loop = make_loop(mode='loop', compile=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        res = meta_grads(Reptile(), loop)
    assert compile_warnings(record) == [
        'metagan_mm: inner_loop.compile: torch.compile failed, running the '
        'inner step eagerly (RuntimeError: no C++ compiler)'
    ]
    assert loop._compiled[False].failed
    for module in eager.grads:
        assert max_diff(res.grads[module], eager.grads[module]) < 1e-6


def test_compiled_mode_refuses_second_order():
    mode = Compiled(LOOP, print)
    with pytest.raises(ValueError, match='first order only'):
        mode.grad(lambda p: p['w'].sum(), {'w': torch.ones(2)}, (), True)


def test_compile_setting_must_be_bool():
    with pytest.raises(
            ValueError, match=r"compile='yes' is invalid.*set compile=True"):
        InnerLoopConfig(compile='yes')
