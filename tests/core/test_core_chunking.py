"""Batched inner loops in chunks of tasks (``batching.chunk``)."""
import pytest
import torch
from core_helpers import (ToyD, ToyG, adapt_tasks, assert_same_losses,
                          loop_randomness, make_loop, max_diff, toy_tasks)

from metagan_mm.core import (MAML, Batching, InnerLoop, InnerLoopConfig,
                             MetaSGD, Reptile, TaskRunner, draw_randomness,
                             meta_gradients)
from metagan_mm.core.batching import CPU_CHUNK_PARAMS, CPU_VMAP_MAX_PARAMS

K, N, T = 3, 5, 5


def _runner(chunk, params: int, mode: str = 'auto') -> TaskRunner:
    net = torch.nn.Linear(params - 1, 1)  # params - 1 weights + 1 bias
    return TaskRunner([net], Batching(mode=mode, chunk=chunk))


def test_chunks_are_few_equal_and_cover_all_tasks():
    runner = _runner(4, 10)
    assert runner.chunks(10, 'cpu') == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert runner.chunk_len(16, 'cpu') == 4
    assert runner.chunk_len(9, 'cpu') == 3  # 3 x 3, not 4 + 4 + 1
    assert runner.chunk_len(3, 'cpu') == 3
    assert _runner(None, 10).chunks(16, 'cpu') == [slice(0, 16)]


def test_auto_chunks_by_stacked_parameters_on_cpu_only():
    full_width = 1_732_866  # FIGR DCGAN G + D at base_channels=64
    runner = _runner('auto', full_width)
    assert runner.chunk_len(16, 'cpu') == 8
    assert runner.chunks(16, 'cpu') == [slice(0, 8), slice(8, 16)]
    assert runner.chunk_len(16, torch.device('cuda')) == 16
    assert runner.chunk_len(16, 'meta') == 16
    small = _runner('auto', CPU_CHUNK_PARAMS // 64)
    assert small.chunk_len(64, 'cpu') == 64
    assert _runner('auto', 2 * CPU_CHUNK_PARAMS).chunk_len(3, 'cpu') == 1


def test_auto_mode_vmaps_small_nets_on_cpu_and_everything_on_cuda():
    assert _runner('auto', CPU_VMAP_MAX_PARAMS).use_vmap('cpu')
    large = _runner('auto', CPU_VMAP_MAX_PARAMS + 1)
    assert not large.use_vmap('cpu') and large.use_vmap('cuda')
    assert _runner('auto', 10**7, mode='vmap').use_vmap('cpu')
    assert not _runner('auto', 10, mode='loop').use_vmap('cuda')


@pytest.mark.parametrize('value', [0, -1, 2.0, 'all', True])
def test_bad_chunk_names_key_and_fix(value):
    with pytest.raises(
            ValueError,
            match=r"batching.chunk=.*int >= 1, None "
            r"or 'auto'.*chunk=8"):
        InnerLoopConfig(batching=dict(chunk=value))


def test_bad_mode_names_key_and_choices():
    with pytest.raises(
            ValueError,
            match=r"batching.mode='yes' is invalid.*"
            r"'auto', 'vmap', 'loop'"):
        InnerLoopConfig(batching=dict(mode='yes'))


ALGORITHMS = {
    'reptile': lambda loop: Reptile(),
    'maml-fo': lambda loop: MAML(K, first_order=True),
    'maml-so': lambda loop: MAML(K, first_order=False),
    'maml-so-dawson': lambda loop: MAML(K, separate_disc_adaptation=True),
    'meta-sgd': lambda loop: MetaSGD(loop, K, first_order=False),
}


def _outputs(name, chunk, mode, gen_seed=123):
    loop = make_loop(
        optimizer='adam',
        g_lr=0.01,
        d_lr=0.01,
        d_steps_per_g_step=2,
        batching=dict(mode=mode, chunk=chunk))
    alg = ALGORITHMS[name](loop)
    tasks = toy_tasks(T, N)
    gen = torch.Generator().manual_seed(gen_seed)
    rand = draw_randomness(alg, loop, T, N, gen)
    return meta_gradients(alg, loop, tasks, rand)


@pytest.mark.parametrize('name', list(ALGORITHMS))
def test_chunked_equals_one_vmap_and_sequential(name):
    chunked = _outputs(name, 2, 'vmap')  # chunks of 2, 2 and 1 tasks
    whole = _outputs(name, None, 'vmap')
    seq = _outputs(name, None, 'loop')
    assert chunked.batched and whole.batched
    assert not seq.batched
    assert chunked.grads.keys() == seq.grads.keys()
    assert ('inner_rates' in seq.grads) == (name == 'meta-sgd')
    for other in (whole, seq):
        for module in chunked.grads:
            assert max_diff(chunked.grads[module],
                            other.grads[module]) <= 1e-5, module
        assert_same_losses(chunked, other, atol=1e-5)


def test_stacked_adaptation_runs_one_vmap_per_chunk(monkeypatch):
    torch.manual_seed(0)
    loop = InnerLoop(
        ToyG(3, 6), ToyD(6), InnerLoopConfig(steps=2, batching=dict(chunk=2)))
    sizes = []
    vmap = torch.func.vmap

    def spy(fn):

        def run(task, rand):
            sizes.append(task.images.shape[0])
            return vmap(fn)(task, rand)

        return run

    monkeypatch.setattr(torch.func, 'vmap', spy)
    tasks = toy_tasks(T, N)
    rand = loop_randomness(loop, T, N, torch.Generator().manual_seed(0))
    res, batched = adapt_tasks(loop, tasks, rand)
    assert batched and sizes == [2, 2, 1]
    assert res.d_losses.shape == (T, 2) and res.g_losses.shape == (T, 2)
    assert all(v.shape[0] == T for v in res.params['generator'].values())
    ref, _ = adapt_tasks(loop.replace(batching=dict(mode='loop')), tasks, rand)
    for module in ('generator', 'discriminator'):
        assert max_diff(res.params[module], ref.params[module]) <= 1e-5
