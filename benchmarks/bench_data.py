"""Episodic data-loading throughput (tasks per second).

Builds the training dataloader the way mmengine's runner does
(``Runner.build_dataloader`` with ``EpisodicDataset`` + ``EpisodicSampler`` +
``episodic_collate``) for a 32x32 Omniglot meta-batch of 16 tasks with
K=4 support and 4 query images, and times it with 0 and 2 workers.

    python benchmarks/bench_data.py [--batches 20] [--workers 0 2]

Omniglot is read from $METAGAN_OMNIGLOT or ../shared/data/omniglot (relative
to the repository root); where it is absent the benchmark says so and uses
the built-in GlyphDataset instead (in-memory, so not comparable).
"""
import argparse
import itertools
import os
import os.path as osp
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)


def class_dataset_cfg() -> dict:
    """The Omniglot config, or the glyph fallback (with a note)."""
    root = os.environ.get('METAGAN_OMNIGLOT') or osp.join(
        REPO_ROOT, '..', 'shared', 'data', 'omniglot')
    if osp.isdir(osp.join(root, 'images_background')):
        print(f'data: Omniglot images_background at {osp.normpath(root)} '
              '(PNG decode + resize 105->32 per image)')
        return dict(
            type='OmniglotDataset',
            data_root=root,
            pipeline=[
                dict(
                    type='LoadImageFromFile',
                    key='img',
                    color_type='grayscale'),
                dict(
                    type='Resize',
                    keys='img',
                    scale=(32, 32),
                    interpolation='area'),
                dict(type='PackInputs', keys='img'),
            ])
    print(f'SKIP Omniglot: not found at {osp.normpath(root)} (set '
          'METAGAN_OMNIGLOT). Note: falling back to the built-in '
          'GlyphDataset (in-memory 32x32 glyphs, no decoding) -- numbers '
          'are not comparable with Omniglot ones.')
    return dict(
        type='GlyphDataset',
        img_size=32,
        pipeline=[dict(type='PackInputs', keys='img')])


def bench(data_cfg: dict, num_workers: int, batches: int, tasks: int,
          k_shot: int, num_query: int) -> float:
    """Tasks per second for one worker count (first batch not timed)."""
    from mmengine.runner import Runner
    cfg = dict(
        batch_size=tasks,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        sampler=dict(type='EpisodicSampler'),
        collate_fn=dict(type='episodic_collate'),
        dataset=dict(
            type='EpisodicDataset',
            dataset=data_cfg,
            k_shot=k_shot,
            num_query=num_query,
            seed=0))
    loader = Runner.build_dataloader(cfg, seed=0)
    it = iter(loader)
    first = next(it)  # worker start-up, caches
    assert first['inputs'].shape == (tasks, k_shot + num_query, 1, 32, 32)
    start = time.perf_counter()
    for _ in itertools.islice(it, batches):
        pass
    elapsed = time.perf_counter() - start
    del it, loader
    return batches * tasks / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    parser.add_argument('--tasks', type=int, default=16)
    parser.add_argument('--k-shot', type=int, default=4)
    parser.add_argument('--num-query', type=int, default=4)
    args = parser.parse_args()
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    import metagan_mm.datasets  # noqa: F401  (registers our classes)
    init_default_scope('mmagic')
    MMLogger.get_current_instance().setLevel('WARNING')
    print(f'meta-batch: {args.tasks} tasks x (K={args.k_shot} + '
          f'Q={args.num_query}) images, 32x32x1; {args.batches} timed '
          f'batches; {os.cpu_count()} CPU cores')
    data_cfg = class_dataset_cfg()
    for workers in args.workers:
        rate = bench(data_cfg, workers, args.batches, args.tasks, args.k_shot,
                     args.num_query)
        images = rate * (args.k_shot + args.num_query)
        print(f'num_workers={workers}: {rate:8.1f} tasks/s '
              f'({images:8.0f} images/s, {rate / args.tasks:6.2f} '
              'meta-batches/s)')


if __name__ == '__main__':
    main()
