"""The driver, the registry and a pluggable objective: what every
algorithm shares."""
import traceback

import pytest
import torch
import torch.nn.functional as F
from core_helpers import (ToyD, ToyG, assert_same_losses, grads_of, make_loop,
                          max_diff, toy_tasks)

from metagan_mm.core import (ALGORITHMS, MAML, InnerLoop, InnerLoopConfig,
                             MetaAlgorithm, MetaDriver, MetaSGD, Reptile,
                             Targets, Task, TaskLosses, TaskOutput,
                             build_algorithm, draw_randomness, meta_gradients,
                             objective, register_algorithm)

K, N, T = 3, 5, 3


def test_d_loss_stack_depth(gen):
    """From the driver to the D loss of an inner step: 9 project frames
    (docs/DESIGN.md counts 10 from the model's train_step)."""
    stacks = []
    original = objective.GANLosses.d_loss

    def spy(self, *args, **kwargs):
        stacks.append(traceback.extract_stack())
        return original(self, *args, **kwargs)

    for mode in ('loop', 'vmap'):
        loop = make_loop(mode=mode)
        rand = draw_randomness(Reptile(), loop, 2, 4, gen)
        objective.GANLosses.d_loss = spy
        try:
            MetaDriver(Reptile(), loop)(toy_tasks(2, 4), rand)
        finally:
            objective.GANLosses.d_loss = original
        frames = [(f.filename.split('metagan_mm/')[-1], f.name)
                  for f in stacks[-1] if '/metagan_mm/' in f.filename]
        # ... and GANLosses.d_loss itself, the 9th
        assert frames == [('core/driver.py', '__call__'),
                          ('core/batching.py', 'run'),
                          ('core/driver.py', '_chunk'),
                          ('core/algorithms/reptile.py', 'task'),
                          ('core/inner_loop.py', 'adapt'),
                          ('core/inner_loop.py', 'step'),
                          ('core/batching.py', 'grad'),
                          ('core/inner_loop.py', 'd_loss')], (mode, frames)


class ClassHeadObjective:
    """A stand-in for a fusion objective: fusion weights drawn outside the
    networks, and a class term that needs the task's label."""

    gradient_penalty = False

    def __init__(self, noise_size: int, class_weight: float = 0.5) -> None:
        self.noise_size, self.class_weight = noise_size, class_weight

    def sample(self, modules, *, num, d_shape, g_shape, generator):

        def draw(shape):
            return {
                'z':
                torch.randn(*shape, num, self.noise_size, generator=generator),
                'w': torch.rand(*shape, num, generator=generator)
            }

        return {'d': draw(d_shape), 'g': draw(g_shape)}

    def _fake(self, nets, shots, rand):
        mixed = rand['w'][:, None] * shots.mean(0).flatten()[None]
        return nets.generate(rand['z']) + mixed.reshape(-1, *shots.shape[1:])

    def _class(self, label, scores):
        return self.class_weight * (label.float() + 1) * scores.mean()

    def d_loss(self, nets, *, real, shots, label, rand):
        fake = self._fake(nets, shots, rand)
        real_out = nets.discriminate(real)
        return (F.relu(1 - real_out).mean() +
                F.relu(1 + nets.discriminate(fake)).mean() +
                self._class(label, real_out))

    def g_loss(self, nets, *, real, shots, label, rand):
        out = nets.discriminate(self._fake(nets, shots, rand))
        return -out.mean() + self._class(label, out)


def objective_loop(mode):
    torch.manual_seed(0)
    return InnerLoop(
        ToyG(3, 6),
        ToyD(6),
        InnerLoopConfig(
            steps=2,
            optimizer='sgd',
            g_lr=0.05,
            d_lr=0.05,
            batching=dict(mode=mode)),
        objective=ClassHeadObjective(3))


@pytest.mark.parametrize('name', ['reptile', 'maml', 'meta-sgd'])
def test_every_algorithm_trains_with_a_plugged_objective(name):
    """The objective's own randomness and the task's label reach its
    losses; vmap equals the loop; the label changes the meta-gradients."""
    make = {
        'reptile': lambda loop: Reptile(),
        'maml': lambda loop: MAML(K),
        'meta-sgd': lambda loop: MetaSGD(loop, K, first_order=True)
    }[name]
    out = {}
    for mode in ('vmap', 'loop'):
        loop = objective_loop(mode)
        alg = make(loop)
        rand = draw_randomness(alg, loop, T, N,
                               torch.Generator().manual_seed(1))
        inner = rand['inner'] if 'inner' in rand else rand
        assert inner['d']['w'].shape[:3] == (T, 2, 1)
        for labels in ([0, 1, 2], [2, 2, 2]):
            task = Task(toy_tasks(T, N), torch.tensor(labels))
            out[mode, labels[0]] = meta_gradients(alg, loop, task, rand)
    assert out['vmap', 0].batched and not out['loop', 0].batched
    for module in out['vmap', 0].grads:
        assert max_diff(out['vmap', 0].grads[module],
                        out['loop', 0].grads[module]) < 1e-5
    assert_same_losses(out['vmap', 0], out['loop', 0], atol=1e-5)
    assert max_diff(grads_of(out['loop', 0])[1],
                    grads_of(out['loop', 2])[1]) > 1e-4


def test_registry_builds_by_name_and_names_the_problems():
    loop = make_loop()
    alg = build_algorithm(dict(type='MAML', num_support=2), loop)
    assert isinstance(alg, MAML) and alg.num_support == 2
    rates = build_algorithm(dict(type='MetaSGD', num_support=2), loop)
    assert set(rates.inner_rates.rates()) == {'generator', 'discriminator'}
    assert {'Reptile', 'MAML', 'MetaSGD', 'Pooled'} <= set(ALGORITHMS)
    with pytest.raises(KeyError, match=r"type 'Reptil' is not a registered"):
        build_algorithm(dict(type='Reptil'), loop)

    class Reptile(MetaAlgorithm):  # noqa: F811  (same name, other class)
        pass

    with pytest.raises(KeyError, match="named 'Reptile' is already"):
        register_algorithm(Reptile)


def test_targets_without_their_loss_name_the_algorithm(gen):

    class NoOuterLoss(MetaAlgorithm):

        def task(self, inner, task, rand):
            res = inner.adapt(task, rand['inner'])
            return TaskOutput(TaskLosses(inner_d=res.d_losses))

        def targets(self, inner):
            return Targets(d=inner.meta_params())

    loop = make_loop()
    rand = draw_randomness(NoOuterLoss(), loop, 2, 4, gen)
    with pytest.raises(
            ValueError,
            match=r'NoOuterLoss.targets\(\) names tensors for '
            r'outer_d but its task\(\) returns no losses.outer_d'):
        meta_gradients(NoOuterLoss(), loop, toy_tasks(2, 4), rand)


def test_out_of_memory_in_first_order_stops_with_the_options(gen, monkeypatch):
    loop = make_loop()
    rand = draw_randomness(Reptile(), loop, 2, 4, gen)

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError('CUDA out of memory (simulated)')

    monkeypatch.setattr(loop.runner, 'run', oom)
    driver = MetaDriver(Reptile(), loop)
    with pytest.raises(
            RuntimeError,
            match=r'Reptile ran out of memory.*batch_size.*batching.chunk'):
        driver(toy_tasks(2, 4), rand)
    assert not driver.first_order


def test_finite_flags_each_task_in_one_pass_without_half_overflow():
    """A task is finite unless one of its values is NaN or infinite, also
    when +inf and -inf would cancel; large float16 values are summed in
    fp32, so they do not overflow into a false alarm."""
    from metagan_mm.core.params import finite
    weights = torch.ones(4, 3, 2)
    weights[1, 0, 0] = float('nan')
    weights[2, 0, 0], weights[2, 1, 1] = float('inf'), float('-inf')
    half = torch.full((4, 10), 60000., dtype=torch.float16)  # sum 6e5
    losses = torch.zeros(4)
    losses[3] = float('inf')
    assert finite({
        'w': weights,
        'h': half,
        'loss': losses
    }).tolist() == [True, False, False, False]
    assert finite({'h': half}).tolist() == [True] * 4
