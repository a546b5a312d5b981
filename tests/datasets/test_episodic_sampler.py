"""EpisodicSampler: rank partition, determinism, resume, 2-process gloo, and
the full mmengine Runner.build_dataloader path."""
import itertools
import json
import os.path as osp
import socket

import pytest
from torch.utils.data import DataLoader

from metagan_mm.datasets import (EpisodicDataset, EpisodicSampler,
                                 episodic_collate)

GLYPHS = dict(
    type='GlyphDataset',
    chars='0123456789',
    images_per_class=8,
    img_size=16,
    pipeline=[dict(type='PackInputs', keys='img')])


def _indices(sampler, n):
    return list(itertools.islice(iter(sampler), n))


def _tasks(loader, num_batches):
    """(task_index, class_idx, image_indices) of each task, per batch."""
    out = []
    for batch in itertools.islice(iter(loader), num_batches):
        out.append([(s.task_index, s.class_idx, tuple(s.image_indices))
                    for s in batch['data_samples']])
    return out


def test_rank_stream_and_partition():
    assert _indices(EpisodicSampler(rank=1, world_size=3), 4) == [1, 4, 7, 10]
    assert _indices(EpisodicSampler(start_index=12, rank=0, world_size=2),
                    3) == [12, 14, 16]
    single = _indices(EpisodicSampler(rank=0, world_size=1), 60)
    b, world = 3, 4
    per_rank = [
        _indices(EpisodicSampler(rank=r, world_size=world), 15)
        for r in range(world)
    ]
    for k in range(5):
        union = sorted(
            i for r in range(world) for i in per_rank[r][k * b:(k + 1) * b])
        assert union == single[k * b * world:(k + 1) * b * world]
    s = EpisodicSampler(seed=123, rank=0, world_size=1)
    s.set_epoch(5)
    assert _indices(s, 5) == _indices(EpisodicSampler(seed=9), 5)
    with pytest.raises(ValueError, match='rank 2'):
        EpisodicSampler(rank=2, world_size=2)


def test_resume_gives_same_task_sequence():
    ds = EpisodicDataset(GLYPHS, k_shot=2, num_query=2, seed=3)

    def loader(sampler):
        return DataLoader(
            ds,
            batch_size=4,
            sampler=sampler,
            collate_fn=episodic_collate,
            num_workers=0)

    full = _tasks(loader(EpisodicSampler()), 6)
    assert len({t for batch in full for t in batch}) == 24
    resumed_sampler = EpisodicSampler()
    resumed_sampler.set_start(3 * 4)  # after 3 iterations of 4 tasks
    assert resumed_sampler.start_index == 12
    assert _tasks(loader(resumed_sampler), 3) == full[3:]
    # a re-created dataset gives the same tasks (seed + index only)
    ds2 = EpisodicDataset(GLYPHS, k_shot=2, num_query=2, seed=3)
    again = DataLoader(
        ds2,
        batch_size=4,
        sampler=EpisodicSampler(),
        collate_fn=episodic_collate)
    assert _tasks(again, 6) == full


def test_runner_build_dataloader_from_config():
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope('mmagic')
    cfg = dict(
        batch_size=4,
        num_workers=0,
        sampler=dict(type='EpisodicSampler'),
        collate_fn=dict(type='episodic_collate'),
        dataset=dict(
            type='EpisodicDataset',
            dataset=GLYPHS,
            k_shot=3,
            num_query=1,
            seed=0))
    loader = Runner.build_dataloader(cfg, seed=0)
    assert isinstance(loader.sampler, EpisodicSampler)
    batch = next(iter(loader))
    assert batch['inputs'].shape == (4, 4, 1, 16, 16)
    assert [s.task_index for s in batch['data_samples']] == [0, 1, 2, 3]


def _dist_worker(rank, world, port, out_dir, batch, num_batches):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world)
    try:
        ds = EpisodicDataset(GLYPHS, k_shot=2, num_query=2, seed=11)
        sampler = EpisodicSampler(ds)  # rank/world from torch.distributed
        assert (sampler.rank, sampler.world_size) == (rank, world)
        loader = DataLoader(
            ds, batch_size=batch, sampler=sampler, collate_fn=episodic_collate)
        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(_tasks(loader, num_batches), f)
        dist.barrier()
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_process_gloo_partition(tmp_path):
    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    b, world, m = 2, 2, 3
    # torch.multiprocessing's spawn API; 'fork' reuses the parent's imports
    # (a fresh interpreter per rank costs ~15 s of imports on 2 cores)
    mp.start_processes(
        _dist_worker,
        args=(world, port, str(tmp_path), b, m),
        nprocs=world,
        join=True,
        start_method='fork')
    per_rank = [
        json.loads((tmp_path / f'rank{r}.json').read_text())
        for r in range(world)
    ]
    ds = EpisodicDataset(GLYPHS, k_shot=2, num_query=2, seed=11)
    single = _tasks(
        DataLoader(
            ds,
            batch_size=b * world,
            sampler=EpisodicSampler(rank=0, world_size=1),
            collate_fn=episodic_collate), m)
    for k in range(m):
        union = sorted(
            tuple([t[0], t[1], tuple(t[2])]) for r in range(world)
            for t in per_rank[r][k])
        assert union == sorted(single[k])
    assert [t[0] for t in per_rank[1][0]] == [1, 3]
