"""InnerLoop: meta weights untouched, adaptation, batching, fallback."""
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from core_helpers import (ToyD, ToyG, adapt_tasks, assert_bitwise_equal,
                          loop_randomness, make_loop, max_diff, snapshot,
                          toy_tasks)
from torch import nn
from torch.utils._pytree import tree_map

from metagan_mm.architectures import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from metagan_mm.core import (InnerLoop, InnerLoopConfig, Reptile, Task,
                             gan_losses, meta_gradients)
from metagan_mm.core.params import functional_call, meta_params


def test_randomness_shapes(gen):
    loop = make_loop(steps=3, d_steps_per_g_step=2)
    one = loop.randomness(5, gen)
    assert one['d']['z'].shape == (3, 2, 5, 3)
    assert one['d']['alpha'].shape == (3, 2, 5)
    assert one['g']['z'].shape == (3, 5, 3)
    rand = loop_randomness(loop, 4, 5, gen)['inner']
    assert rand['d']['z'].shape == (4, 3, 2, 5, 3)
    assert rand['d']['alpha'].shape == (4, 3, 2, 5)
    assert rand['g']['z'].shape == (4, 3, 5, 3)
    alpha = rand['d']['alpha']
    assert float(alpha.min()) >= 0 and float(alpha.max()) <= 1


@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
@pytest.mark.parametrize('create_graph', [False, True])
def test_meta_weights_untouched(gen, optimizer, create_graph):
    loop = make_loop(optimizer=optimizer)
    before = snapshot(loop.generator, loop.discriminator)
    tasks = toy_tasks(3, 4)
    rand = loop_randomness(loop, 3, 4, gen)
    res, batched = adapt_tasks(loop, tasks, rand, create_graph)
    res_s, batched_s = adapt_tasks(
        loop.replace(batching=dict(mode='loop')), tasks, rand, create_graph)
    assert batched and not batched_s
    res_1 = loop.adapt(
        Task(tasks[0]),
        tree_map(lambda v: v[0], rand['inner']),
        create_graph=create_graph)
    if create_graph:  # also backprop into the meta weights
        sum(v.sum() for v in res.params['generator'].values()).backward()
    assert_bitwise_equal(before, loop.generator, loop.discriminator)
    assert res.g_losses.shape == (3, 2) and res.d_losses.shape == (3, 2)
    assert res_1.g_losses.shape == (2, )
    assert max_diff(res.params['generator'], res_s.params['generator']) <= 1e-5
    assert max_diff({
        k: v[0]
        for k, v in res.params['discriminator'].items()
    }, res_1.params['discriminator']) <= 1e-5
    # adaptation did move the fast weights
    g0 = meta_params(loop.generator)
    assert max(
        float((res.params['generator'][k][0] - g0[k]).detach().abs().max())
        for k in g0) > 0


def test_sgd_step_matches_formula(gen):
    """One D then one G SGD step on linear nets, wgan without GP."""
    loop = make_loop(hidden=0, steps=1, g_lr=0.1, d_lr=0.2, gp_weight=0.0)
    real = toy_tasks(1, 4)[0]
    rand = loop.randomness(4, gen)
    res = loop.adapt(Task(real), rand)
    a, c = loop.generator.net.weight, loop.generator.net.bias
    w = loop.discriminator.net.weight
    z_d, z_g = rand['d']['z'][0, 0], rand['g']['z'][0]
    fake_mean = (z_d @ a.T + c).mean(0)
    w1 = w - 0.2 * (fake_mean - real.flatten(1).mean(0))
    a1 = a + 0.1 * w1.T @ z_g.mean(0, keepdim=True)
    c1 = c + 0.1 * w1[0]
    assert torch.allclose(
        res.params['discriminator']['net.weight'], w1, atol=1e-6)
    assert torch.allclose(res.params['generator']['net.weight'], a1, atol=1e-6)
    assert torch.allclose(res.params['generator']['net.bias'], c1, atol=1e-6)


def test_learned_rates_replace_cfg_lr(gen):
    loop = make_loop(hidden=0, steps=1, g_lr=0.1, d_lr=0.2, gp_weight=0.0)
    real = toy_tasks(1, 4)[0]
    rand = loop.randomness(4, gen)
    base = loop.adapt(Task(real), rand)
    d0 = meta_params(loop.discriminator)
    # per-tensor scalar 0.4 for D weight (= 2x cfg) and zero for G entirely
    d_lrs = {'net.weight': torch.tensor(0.4)}
    g_lrs = {
        k: torch.zeros_like(v)
        for k, v in meta_params(loop.generator).items()
    }
    res = loop.adapt(
        Task(real), rand, rates={
            'generator': g_lrs,
            'discriminator': d_lrs
        })
    step_base = base.params['discriminator']['net.weight'] - d0['net.weight']
    step_new = res.params['discriminator']['net.weight'] - d0['net.weight']
    assert torch.allclose(step_new, 2 * step_base, atol=1e-6)
    assert max_diff(res.params['generator'],
                    meta_params(loop.generator)) == 0.0


def test_adaptation_lowers_task_losses():
    torch.manual_seed(0)
    g = FIGRDCGANGenerator(noise_size=16, base_channels=4)
    d = FIGRDCGANDiscriminator(base_channels=4)
    loop = InnerLoop(
        g, d,
        InnerLoopConfig(
            steps=6,
            optimizer="adam",
            g_lr=1e-3,
            d_lr=1e-3,
            loss='nonsaturating'))
    gen = torch.Generator().manual_seed(0)
    real = torch.rand(8, 1, 32, 32, generator=gen) * 2 - 1
    res = loop.adapt(Task(real), loop.randomness(8, gen))
    g0, d0 = meta_params(g), meta_params(d)
    res_g, res_d = res.params['generator'], res.params['discriminator']
    z = torch.randn(8, 16, generator=gen)
    with torch.no_grad():
        fake0 = functional_call(g, g0, None, z)

        def d_task_loss(dp):
            return float(
                gan_losses.d_loss(
                    'nonsaturating',
                    lambda x: functional_call(d, dp, None, x),
                    real=real,
                    fake=fake0))

        def g_task_loss(gp):
            fake = functional_call(g, gp, None, z)
            return float(
                gan_losses.g_loss('nonsaturating',
                                  functional_call(d, res_d, None, fake)))

        assert d_task_loss(res_d) < d_task_loss(d0) - 0.1
        assert g_task_loss(res_g) < g_task_loss(g0) - 0.1
    # the recorded D losses go down over the inner steps
    assert float(res.d_losses[-1]) < float(res.d_losses[0])


class _BNGen(ToyG):

    def __init__(self):
        super().__init__(3, 0)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, z):
        return self.bn(self.net(z)).reshape(z.shape[0], 1, 2, 2)


def test_batchnorm_falls_back_once_and_keeps_meta_buffers(gen):
    torch.manual_seed(0)
    g, d = _BNGen(), ToyD(5)
    loop = InnerLoop(
        g, d, InnerLoopConfig(steps=2, optimizer='sgd', g_lr=0.05, d_lr=0.05))
    before = snapshot(g, d)
    tasks = toy_tasks(3, 4)
    rand = loop_randomness(loop, 3, 4, gen)
    with pytest.warns(RuntimeWarning, match='BatchNorm1d.*running statistics'):
        res, _ = adapt_tasks(loop, tasks, rand)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # second call: no new note
        res2, batched = adapt_tasks(loop, tasks, rand)
    assert not batched
    assert_bitwise_equal(before, g, d)
    rm = res.buffers['generator']['bn.running_mean']
    assert rm.shape == (3, 4)
    assert not torch.equal(rm[0], rm[1])  # each task has its own copy
    assert torch.equal(res.buffers['generator']['bn.num_batches_tracked'],
                       torch.full((3, ), 4))  # 2 D + 2 G forwards
    assert max_diff(res.params['generator'], res2.params['generator']) == 0.0
    # Reptile averages the adapted buffers over tasks
    out = meta_gradients(Reptile(), loop, tasks, rand)
    assert torch.allclose(out.buffers['generator']['bn.running_mean'],
                          rm.mean(0))
    assert_bitwise_equal(before, g, d)


def test_loop_mode_runs_sequentially_without_a_note(gen):
    loop = make_loop(mode='loop')
    tasks = toy_tasks(2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        _, batched = adapt_tasks(loop, tasks, loop_randomness(loop, 2, 4, gen))
    assert not batched


def test_vmap_failure_falls_back_to_the_loop_once_with_the_reason(
        gen, monkeypatch):
    loop = make_loop(mode='vmap')
    tasks = toy_tasks(2, 4)
    rand = loop_randomness(loop, 2, 4, gen)
    ref, _ = adapt_tasks(loop, tasks, rand)
    calls = []

    def refuse(fn):
        calls.append(fn)
        raise RuntimeError('vmap: cannot batch this (simulated)')

    monkeypatch.setattr(torch.func, 'vmap', refuse)
    with pytest.warns(
            RuntimeWarning,
            match=r'vmap failed, running tasks in '
            r'a loop \(RuntimeError: vmap: cannot batch'):
        res, batched = adapt_tasks(loop, tasks, rand)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # logged once
        adapt_tasks(loop, tasks, rand)
    assert not batched and len(calls) == 2  # one try per call, no 2nd vmap
    assert max_diff(res.params['generator'], ref.params['generator']) <= 1e-5


def test_rand_required():
    loop = make_loop()
    with pytest.raises(TypeError, match='rand'):
        loop.adapt(Task(toy_tasks(1, 4)[0]))


def test_core_imports_torch_only():
    root = Path(__file__).resolve().parents[2]
    code = ('import sys, types\n'
            "pkg = types.ModuleType('metagan_mm')\n"
            f"pkg.__path__ = [{str(root / 'metagan_mm')!r}]\n"
            "sys.modules['metagan_mm'] = pkg\n"
            'import metagan_mm.core, metagan_mm.architectures\n'
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mmengine', 'mmcv', 'mmagic'))\n"
            'assert not bad, bad\n')
    subprocess.run([sys.executable, '-c', code], check=True, timeout=60)
