"""Mixed precision of the inner loop (``inner_loop.amp``): what runs in low
precision, how far bf16/fp16 meta-gradients are from fp32, fp16 overflow."""
import contextlib
import math

import pytest
import torch
from core_helpers import make_loop, toy_tasks

from metagan_mm.core import (InnerLoopConfig, MetaAlgorithm, MetaDriver,
                             Targets, Task, TaskLosses, TaskOutput, TaskState,
                             build_algorithm, draw_randomness, gan_losses,
                             meta_gradients)
from metagan_mm.core.amp import Amp, LossScaler
from metagan_mm.core.optim import AdamState

T, N = 4, 5
ALGORITHMS = {
    'reptile': dict(type='Reptile'),
    'fomaml': dict(type='MAML', num_support=3, first_order=True),
    'maml-second-order': dict(type='MAML', num_support=3),
    'meta-sgd-second-order': dict(type='MetaSGD', num_support=3),
}
# Largest |amp - fp32| / max|fp32| over every meta-gradient, measured on
# these toy nets (2 inner steps, 4 tasks, seeds below) for each algorithm,
# batching mode and inner optimiser: bf16 4.3e-2 (Reptile with Adam, whose
# normalised steps amplify rounding of small gradients), fp16 1.1e-2.
REL_TOL = {'bfloat16': 0.1, 'float16': 0.03}


def _meta_gradients(alg_cfg, mode, amp, optimizer='sgd', tasks=None, **cfg):
    loop = make_loop(hidden=6, mode=mode, optimizer=optimizer, amp=amp, **cfg)
    alg = build_algorithm(alg_cfg, loop)
    tasks = toy_tasks(T, N) if tasks is None else tasks
    rand = draw_randomness(alg, loop, len(tasks), N,
                           torch.Generator().manual_seed(0))
    return meta_gradients(alg, loop, tasks, rand)


def _rel_error(a, b):
    err = max(float((a[m][k] - b[m][k]).abs().max()) for m in b for k in b[m])
    return err / max(float(b[m][k].abs().max()) for m in b for k in b[m])


@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
@pytest.mark.parametrize('mode', ['vmap', 'loop'])
@pytest.mark.parametrize('algorithm', list(ALGORITHMS))
@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_amp_meta_gradients_agree_with_fp32(dtype, algorithm, mode, optimizer):
    """Second-order MAML and Meta-SGD work under autocast too, vmapped or
    looped."""
    alg = ALGORITHMS[algorithm]
    ref = _meta_gradients(alg, mode, None, optimizer)
    res = _meta_gradients(alg, mode, dict(dtype=dtype), optimizer)
    assert res.num_valid == T and res.batched == (mode == 'vmap')
    err = _rel_error(res.grads, ref.grads)
    assert 0 < err < REL_TOL[dtype], err  # > 0: autocast did run


def _one_step(loop):
    """One inner step of one toy task from the meta-weights (Adam state
    for any optimiser): ``(state, d_losses, g_loss)``."""
    rand = loop.randomness(N, torch.Generator().manual_seed(0))
    params = loop.meta_params()
    return loop.step(
        task=Task(toy_tasks(1, N)[0]),
        state=TaskState(params, {n: {}
                                 for n in params},
                        {n: AdamState()
                         for n in params}),
        rand={
            k: {
                n: v[0]
                for n, v in r.items()
            }
            for k, r in rand.items()
        },
        rates={
            n: {
                k: 0.01
                for k in p
            }
            for n, p in params.items()
        },
        create_graph=False,
        mode=loop.mode)


def test_networks_run_in_low_precision_the_rest_in_fp32(monkeypatch):
    loop = make_loop(hidden=6, optimizer='adam', amp=dict(dtype='bfloat16'))
    seen = {}

    def hook(module, inputs, out):
        seen['d_layer'] = out.dtype

    loop.discriminator.net[0].register_forward_hook(hook)
    interpolate = gan_losses.interpolate

    def spy(real, fake, alpha):
        out = interpolate(real, fake, alpha)
        seen['fake'], seen['interpolate'] = fake.dtype, out.dtype
        return out

    monkeypatch.setattr(gan_losses, 'interpolate', spy)
    rand = loop.randomness(N, torch.Generator().manual_seed(0))
    assert {v.dtype
            for r in rand.values()
            for v in r.values()} == {torch.float32}  # the noise
    state, d_losses, g_loss = _one_step(loop)
    assert seen == {
        'd_layer': torch.bfloat16,  # the network under autocast
        'fake': torch.float32,  # its outputs cast back
        'interpolate': torch.float32
    }
    assert d_losses.dtype == g_loss.dtype == torch.float32
    for name, opt in state.opt.items():
        for k in state.params[name]:
            assert state.params[name][k].dtype == torch.float32
            assert opt.m[k].dtype == opt.v[k].dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in loop.generator.parameters())


def test_each_weight_is_cast_once_per_loss(monkeypatch):
    """D runs three times in a WGAN-GP D loss (real, fake, GP images) but
    its weight is cast to bf16 once per loss, as in one autocast region;
    once more in the G loss: two casts in one inner step. Without the
    weight cache it is cast at every call (3 + 1)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    loop = make_loop(hidden=6, optimizer='sgd', amp=dict(dtype='bfloat16'))
    weight = loop.discriminator.net[0].weight

    class CountCasts(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if (func is torch.ops.aten._to_copy.default
                    and kwargs.get('dtype') == torch.bfloat16
                    and args[0].shape == weight.shape):
                CountCasts.count += 1
            return func(*args, **kwargs)

    def casts():
        CountCasts.count = 0
        with CountCasts():
            _one_step(loop)
        return CountCasts.count

    assert loop.cfg.loss == 'wgan-gp' and loop.cfg.d_steps_per_g_step == 1
    assert casts() == 2
    monkeypatch.setattr(Amp, 'weight_cache',
                        lambda self, like: contextlib.nullcontext())
    assert casts() == 4


def _without_first(tree):
    return {
        k: _without_first(v) if isinstance(v, dict) else v[1:]
        for k, v in tree.items()
    }


@pytest.mark.parametrize('mode', ['vmap', 'loop'])
@pytest.mark.parametrize('factor, valid, scale', [(1000, 4, 64.0),
                                                  (10000, 3, 0.5)])
def test_fp16_overflow_reruns_at_lower_scale_then_drops_the_task(
        mode, factor, valid, scale):
    """Task 0's images are ``factor`` times larger, so the fp16 gradients of
    the linear toy D overflow on it at loss scale 4096 (not the others').
    The meta-batch runs again at half the scale (logged) until it passes
    (x1000: at 64), or, still not finite at scale 1 (x10000), the task is
    dropped like a non-finite task; either way the meta-gradients are the
    fp32 ones of the tasks kept."""
    tasks = toy_tasks(T, N)
    tasks[0] *= factor
    loop = make_loop(
        hidden=0, mode=mode, amp=dict(dtype='float16', init_scale=4096.0))
    alg = build_algorithm(ALGORITHMS['fomaml'], loop)
    rand = draw_randomness(alg, loop, T, N, torch.Generator().manual_seed(0))
    logs = []
    res = MetaDriver(alg, loop, log=logs.append)(tasks, rand)
    assert res.valid.tolist() == [valid == T, True, True, True]
    assert loop.scaler.scale == scale
    assert len(logs) == math.log2(4096 / scale)
    assert logs[0] == (
        'metagan_mm: 1 of 4 tasks dropped: their losses, weights or '
        'gradients were not finite under float16 autocast at loss scale '
        '4096 (an overflow, or divergence); the loss scale is now 2048; '
        'running the meta-batch again.')
    assert logs[-1].endswith('.' if valid < T else 'again.')
    ref_loop = make_loop(hidden=0, mode=mode)
    ref = meta_gradients(alg, ref_loop, tasks,
                         rand) if valid == T else meta_gradients(
                             alg, ref_loop, tasks[1:], _without_first(rand))
    assert _rel_error(res.grads, ref.grads) < REL_TOL['float16']
    # The same task at fp32 is finite: the drop was fp16's.
    assert meta_gradients(alg, ref_loop, tasks, rand).num_valid == T


def test_fp16_scale_too_large_for_every_task_runs_again_at_lower_scales():
    """As at the start of training while the scale settles: every task
    overflows at 2**40, so the meta-batch runs again at half the scale
    until they pass."""
    logs = []
    loop = make_loop(
        hidden=6, mode='vmap', amp=dict(dtype='float16', init_scale=2.0**40))
    alg = build_algorithm(ALGORITHMS['reptile'], loop)
    rand = draw_randomness(alg, loop, T, N, torch.Generator().manual_seed(0))
    res = MetaDriver(alg, loop, log=logs.append)(toy_tasks(T, N), rand)
    assert res.num_valid == T
    assert 1 < loop.scaler.scale < 2.0**14  # toy nets overflow at 2**14
    assert len(logs) == 40 - math.log2(loop.scaler.scale)
    assert logs[0].endswith('the loss scale is now 5.49756e+11; running '
                            'the meta-batch again.')
    ref = _meta_gradients(ALGORITHMS['reptile'], 'vmap', None)
    assert _rel_error(res.grads, ref.grads) < REL_TOL['float16']


class _InfiniteOuterGradient(MetaAlgorithm):
    """Outer loss ``sqrt(w - w)``: finite (0), its gradient is not."""

    def task(self, inner, task, rand):
        w = inner.meta_params()['discriminator']['net.0.weight']
        return TaskOutput(TaskLosses(outer_d=(w - w.detach()).sqrt().sum()))

    def targets(self, inner):
        params = inner.meta_params()
        return Targets(d={'discriminator': params['discriminator']})

    def randomness(self, inner, num_images, generator):
        return {'inner': inner.randomness(num_images, generator)}


def test_chunk_with_non_finite_outer_gradients_is_dropped():
    loop = make_loop(hidden=6, mode='loop')
    alg = _InfiniteOuterGradient()
    rand = draw_randomness(alg, loop, 2, N)
    res = meta_gradients(alg, loop, toy_tasks(2, N), rand)
    assert res.valid.tolist() == [False, False]


def test_loss_scaler_backs_off_grows_and_round_trips():
    scaler = LossScaler(1024.0, growth_interval=2)
    scaler.update(overflow=False)
    assert (scaler.scale, scaler.good_steps) == (1024.0, 1)
    scaler.update(overflow=True)
    assert (scaler.scale, scaler.good_steps) == (512.0, 0)
    scaler.update(overflow=False)
    scaler.update(overflow=False)
    assert (scaler.scale, scaler.good_steps) == (1024.0, 0)
    scaler.update(overflow=False)
    other = LossScaler(1.0, 2)
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == {'scale': 1024.0, 'good_steps': 1}


def test_loss_scale_only_under_float16():
    cpu = torch.device('cpu')
    assert make_loop(amp=dict(dtype='bfloat16')).loss_scale(cpu) is None
    assert make_loop().loss_scale(cpu) is None
    loop = make_loop(amp=dict(dtype='float16', init_scale=8.0))
    assert loop.loss_scale(cpu) == 8.0
    # copies with other settings share the scale the driver updates
    assert loop.replace(steps=5).scaler is loop.scaler


def test_auto_dtype(monkeypatch):
    amp = Amp()
    assert amp.dtype_on('cpu') == torch.bfloat16
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: False)
    assert amp.dtype_on('cuda') == torch.float16
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    assert amp.dtype_on('cuda') == torch.bfloat16


@pytest.mark.parametrize('amp, error, match', [
    (dict(dtyp='bfloat16'), KeyError, "Did you mean 'dtype'"),
    (dict(dtype='fp16'), ValueError, r"use one of \['auto', 'bfloat16'"),
    (dict(init_scale=0), ValueError, 'init_scale=0 is invalid'),
    (dict(growth_interval=0.5), ValueError, 'growth_interval=0.5'),
    (True, TypeError, "use None \\(fp32\\) or dict\\(dtype=")
])
def test_bad_amp_settings_name_the_fix(amp, error, match):
    with pytest.raises(error, match=match):
        InnerLoopConfig(amp=amp)


def test_amp_config_from_dict():
    cfg = InnerLoopConfig.from_dict(dict(amp=dict(dtype='float16')))
    assert cfg.amp == Amp(dtype='float16')
