"""Batched inner loops in chunks of tasks (``vmap_chunk_size``)."""
import pytest
import torch

from metagan_mm.core import MAML, InnerLoop, InnerLoopConfig, MetaSGD, Reptile
from metagan_mm.core.batching import CPU_CHUNK_PARAMS, TaskMapper

from conftest import ToyD, ToyG, make_loop, max_diff, toy_tasks

K, N, T = 3, 5, 5


def _mapper(chunk_size, params: int) -> TaskMapper:
    net = torch.nn.Linear(params - 1, 1)  # params - 1 weights + 1 bias
    return TaskMapper([net], chunk_size=chunk_size)


def test_chunks_are_few_equal_and_cover_all_tasks():
    mapper = _mapper(4, 10)
    assert mapper.chunks(10, 'cpu') == [slice(0, 4), slice(4, 8),
                                        slice(8, 10)]
    assert mapper.chunk_len(16, 'cpu') == 4
    assert mapper.chunk_len(9, 'cpu') == 3  # 3 x 3, not 4 + 4 + 1
    assert mapper.chunk_len(3, 'cpu') == 3
    assert _mapper(None, 10).chunks(16, 'cpu') == [slice(0, 16)]


def test_auto_chunks_by_stacked_parameters_on_cpu_only():
    full_width = 1_732_866  # FIGR DCGAN G + D at base_channels=64
    mapper = _mapper('auto', full_width)
    assert mapper.chunk_len(16, 'cpu') == 8
    assert mapper.chunks(16, 'cpu') == [slice(0, 8), slice(8, 16)]
    assert mapper.chunk_len(16, torch.device('cuda')) == 16
    assert mapper.chunk_len(16, 'meta') == 16
    small = _mapper('auto', CPU_CHUNK_PARAMS // 64)
    assert small.chunk_len(64, 'cpu') == 64
    assert _mapper('auto', 2 * CPU_CHUNK_PARAMS).chunk_len(3, 'cpu') == 1


@pytest.mark.parametrize('value', [0, -1, 2.0, 'all', True])
def test_bad_chunk_size_names_key_and_fix(value):
    with pytest.raises(ValueError, match=r'vmap_chunk_size=.*int >= 1, None '
                       r"or 'auto'.*vmap_chunk_size=8"):
        InnerLoopConfig(vmap_chunk_size=value)


def _outputs(alg, chunk, batched, gen_seed=123):
    loop = make_loop(optimizer='adam', g_lr=0.01, d_lr=0.01,
                     d_steps_per_g_step=2, vmap_chunk_size=chunk)
    tasks = toy_tasks(T, N)
    gen = torch.Generator().manual_seed(gen_seed)
    if isinstance(alg, Reptile):
        rand = loop.sample_randomness(T, N, generator=gen)
    else:
        rand = alg.sample_randomness(loop, T, N, generator=gen)
    if isinstance(alg, MetaSGD):
        g_lrs, d_lrs = alg.init_rates(loop)
        return alg.meta_gradients(loop, tasks, rand, g_lrs, d_lrs, batched)
    return alg.meta_gradients(loop, tasks, rand, batched)


@pytest.mark.parametrize('alg', [
    Reptile(), MAML(K, first_order=True), MAML(K, first_order=False),
    MAML(K, first_order=False, separate_disc_adaptation=True),
    MetaSGD(K, first_order=False)],
    ids=['reptile', 'maml-fo', 'maml-so', 'maml-so-dawson', 'meta-sgd'])
def test_chunked_equals_one_vmap_and_sequential(alg):
    chunked = _outputs(alg, 2, True)  # chunks of 2, 2 and 1 tasks
    whole = _outputs(alg, None, True)
    seq = _outputs(alg, None, False)
    assert chunked[2]['batched'] and whole[2]['batched']
    assert not seq[2]['batched']
    for other in (whole, seq):
        assert max_diff(chunked[0], other[0]) <= 1e-5
        assert max_diff(chunked[1], other[1]) <= 1e-5
        for key in ('inner_d_loss', 'inner_g_loss'):
            assert torch.allclose(chunked[2][key], other[2][key], atol=1e-5)
    if isinstance(alg, MetaSGD):
        assert max_diff(chunked[2]['g_lr_grads'], seq[2]['g_lr_grads']) <= 1e-5


def test_stacked_adaptation_runs_one_vmap_per_chunk(monkeypatch):
    torch.manual_seed(0)
    loop = InnerLoop(ToyG(3, 6), ToyD(6),
                     InnerLoopConfig(steps=2, vmap_chunk_size=2))
    sizes = []
    run_task = loop.run_task

    def spy(backend, real, *args, **kwargs):
        if backend == 'stacked':
            sizes.append(real.shape[0])
        return run_task(backend, real, *args, **kwargs)

    monkeypatch.setattr(loop, 'run_task', spy)
    tasks = toy_tasks(T, N)
    rand = loop.sample_randomness(T, N, generator=torch.Generator().manual_seed(0))
    res = loop.adapt_batched(tasks, rand=rand)
    assert sizes == [2, 2, 1]
    assert res.d_losses.shape == (T, 2) and res.g_losses.shape == (T, 2)
    assert all(v.shape[0] == T for v in res.g_params.values())
    ref = loop.adapt_sequential(tasks, rand=rand)
    assert max_diff(res.g_params, ref.g_params) <= 1e-5
    assert max_diff(res.d_params, ref.d_params) <= 1e-5
