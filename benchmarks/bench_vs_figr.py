"""FIGR's own training step against this project's runner, on FIGR's networks.

Side by side in one process, one meta-iteration of each variant in turn per
round (so that all see the same machine load):

* ``figr-ref``: FIGR's meta-iteration as its ``train.py`` does it,
  re-written here: the meta G and D are copied into task models with
  ``load_state_dict``, 10 inner steps with persistent ``torch.optim``
  inner optimisers (one D step on ``cat(real, fake)`` with FIGR's gradient
  penalty, weight 10, then one G step; fakes not detached, losses read with
  ``.item()``), then ``p.grad = p - p_task`` and an outer ``torch.optim.Adam``
  step (lr 1e-4).  One task of 4 images per meta-iteration.  FIGR's code
  uses plain SGD (lr 1e-3) inside; ``--inner adam`` also times persistent
  ``torch.optim.Adam`` inner optimisers (state kept across tasks).
* ``runner mb1``: ``tools/train.py``'s runner (``build_runner`` +
  ``runner.train()``) on ``configs/reptile/
  reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py`` (FIGR's networks and
  setting) with the embedded glyph data instead of Omniglot.
* ``runner mb8``: the same at meta-batch 8 (``batched='auto'``: vmapped on
  CUDA, sequential on the CPU at this size).
* ``--amp``: every runner also as ``runner mbN (inner, bf16)``, its inner
  loop under bfloat16 autocast (``model.inner_loop.amp=dict(dtype=
  'bfloat16')``, what ``tools/train.py --amp`` sets on the CPU), with its
  speed-up over the same runner in fp32 (same nets, same process, the
  same alternating rounds).
* ``--quick-start``: the runners only, on the quick start's config
  (``reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py``, its own
  nets and inner loop), for the fp32 vs bf16 ratio of small nets.

The runners train in worker threads that a hook holds between iterations,
so their ``runner.train()`` runs unchanged (data loading, hooks, logging
included) while the main thread interleaves the variants; only one variant
computes at any time.  A runner iteration is timed from its release to the
end of its ``after_train_iter`` hooks.

Memory: the resident set size (``/proc/self/statm``) sampled every 5 ms;
"peak RSS delta" is the largest RSS during a variant's timed iterations
minus the RSS just before (after ``gc.collect()`` and ``malloc_trim``),
i.e. the transient memory of one meta-iteration; the process's own peak
(all variants' models resident) is printed at the end.

    python benchmarks/bench_vs_figr.py [--rounds 3] [--inner sgd adam]
        [--amp] [--quick-start]
"""
import argparse
import ctypes
import gc
import os
import os.path as osp
import sys
import tempfile
import threading
import time
from statistics import median
from typing import Optional

import numpy as np
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from metagan_mm.architectures import (FIGROriginalDCGANDiscriminator,
                                      FIGROriginalDCGANGenerator)

CONFIG = osp.join(ROOT, 'configs', 'reptile',
                  'reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py')
GLYPHS = osp.join(ROOT, 'configs', '_base_', 'datasets',
                  'glyphs_episodic_32x32.py')
QUICK_START = osp.join(
    ROOT, 'configs', 'reptile',
    'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
K, STEPS, SIZE, NZ = 4, 10, 32, 100
INNER_LR, OUTER_LR, GP_WEIGHT = 1e-3, 1e-4, 10.0


# ------------------------------------------------------------------ memory
def rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class RSSSampler(threading.Thread):
    """Track the largest RSS since the last :meth:`reset`."""

    def __init__(self, period: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.period, self.peak, self.max_ever = period, 0, 0
        self.start()

    def reset(self) -> int:
        self.peak = rss_bytes()
        return self.peak

    def run(self) -> None:
        while True:
            now = rss_bytes()
            self.peak = max(self.peak, now)
            self.max_ever = max(self.max_ever, now)
            time.sleep(self.period)


def settle() -> None:
    """Free what can be freed so that the next RSS baseline is honest."""
    gc.collect()
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


# ------------------------------------------------------- FIGR's reference
def figr_gradient_penalty(disc, real, fake):
    """FIGR's penalty: a detached interpolate, norm over dim 1 (channels)."""
    eps = torch.rand(real.shape[0], 1).view(-1, 1, 1, 1)
    x = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    out = disc(x)
    grad = torch.autograd.grad(
        out, x, torch.ones_like(out), create_graph=True)[0]
    return ((grad.norm(2, dim=1) - 1)**2).mean() * GP_WEIGHT


class FIGRReference:
    """One FIGR meta-iteration per call, as FIGR's ``train.py`` runs it."""

    def __init__(self,
                 inner: str,
                 base_channels: int,
                 data: torch.Tensor,
                 seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.data = data  # [classes, images, 1, S, S] uint8

        def pair():
            return (FIGROriginalDCGANGenerator(NZ, SIZE, 1, base_channels),
                    FIGROriginalDCGANDiscriminator(SIZE, 1, base_channels))

        self.g, self.d = pair()  # meta-models
        self.task_g, self.task_d = pair()  # FIGR's meta_g / meta_d
        self.outer = [
            torch.optim.Adam(m.parameters(), lr=OUTER_LR)
            for m in (self.g, self.d)
        ]
        opt = {'sgd': torch.optim.SGD, 'adam': torch.optim.Adam}[inner]
        self.opt_g = opt(self.task_g.parameters(), lr=INNER_LR)
        self.opt_d = opt(self.task_d.parameters(), lr=INNER_LR)
        self.d_targets = torch.tensor([1.0] * K + [-1.0] * K).view(-1, 1)
        self.g_targets = torch.ones(K, 1)

    def noise(self) -> torch.Tensor:
        return torch.tensor(self.rng.normal(size=(K, NZ)), dtype=torch.float)

    def sample_task(self) -> torch.Tensor:
        cls = int(self.rng.integers(self.data.shape[0]))
        idx = self.rng.choice(self.data.shape[1], K, replace=False)
        return self.data[cls, torch.as_tensor(idx)].float() / 255 * 2 - 1

    def inner_step(self, real):
        fake = self.task_g(self.noise())  # not detached, as in FIGR
        pred = self.task_d(torch.cat([real, fake]))
        d_loss = (pred * self.d_targets).mean() + figr_gradient_penalty(
            self.task_d, real, fake)
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        g_loss = (self.task_d(self.task_g(self.noise())) *
                  self.g_targets).mean()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        return d_loss.item(), g_loss.item()

    def step(self) -> float:
        start = time.perf_counter()
        real = self.sample_task()
        self.task_g.train()
        self.task_d.train()
        self.task_d.load_state_dict(self.d.state_dict())
        self.task_g.load_state_dict(self.g.state_dict())
        for _ in range(STEPS):
            self.inner_step(real)
        with torch.no_grad():
            for meta, task, opt in ((self.g, self.task_g, self.outer[0]),
                                    (self.d, self.task_d, self.outer[1])):
                for p, q in zip(meta.parameters(), task.parameters()):
                    p.grad = p - q
                opt.step()
        return time.perf_counter() - start


# ------------------------------------------------------------------ runner
def make_gate_hook():
    from mmengine.hooks import Hook
    from mmengine.logging import MessageHub

    class Gate(Hook):
        """Hold a training thread between iterations until released."""

        priority = 'VERY_LOW'

        def __init__(self, hub_name: str) -> None:
            self.hub_name = hub_name
            self.go, self.done, self.ready = (threading.Event(),
                                              threading.Event(),
                                              threading.Event())
            self.end = 0.0

        def _wait(self) -> None:
            self.ready.set()
            if not self.go.wait(timeout=7200):
                raise RuntimeError('bench_vs_figr: never released')
            self.go.clear()
            # the model reads MessageHub.get_current_instance() (the newest)
            MessageHub._instance_dict.move_to_end(self.hub_name)

        def before_train_epoch(self, runner) -> None:
            self._wait()

        def after_train_iter(self,
                             runner,
                             batch_idx,
                             data_batch=None,
                             outputs=None) -> None:
            self.end = time.perf_counter()
            self.done.set()
            if runner.iter + 1 < runner.max_iters:
                self._wait()

    return Gate


class RunnerVariant:
    """``runner.train()`` in a thread, advanced one iteration per step."""

    def __init__(self,
                 tag: str,
                 tasks: int,
                 inner: str,
                 base_channels: Optional[int],
                 iters: int,
                 threads: int,
                 work_dir: str,
                 config: str = CONFIG,
                 amp: bool = False) -> None:
        from mmengine.config import Config

        from metagan_mm.utils.runner_setup import build_runner
        glyphs = Config.fromfile(GLYPHS).train_dataloader.dataset.dataset
        options = {
            'experiment_name':
            f'bench_vs_figr_{tag}',
            'log_level':
            'WARNING',
            'model.generator.base_channels':
            base_channels,
            'model.discriminator.base_channels':
            base_channels,
            'model.inner_loop.optimizer':
            inner,
            'train_dataloader.batch_size':
            tasks,
            'train_dataloader.num_workers':
            0,
            'train_dataloader.persistent_workers':
            False,
            'train_dataloader.dataset.dataset':
            dict(_delete_=True, **glyphs.to_dict()),
            'train_cfg.max_iters':
            iters,
            'custom_hooks': [],
            'default_hooks.checkpoint.interval':
            10**9,
            'default_hooks.checkpoint.save_last':
            False,
            'default_hooks.logger.interval':
            10**9,
        }
        if inner == 'adam':  # torch.optim.Adam's defaults, as the reference
            options['model.inner_loop.betas'] = (0.9, 0.999)
        if base_channels is None:  # the config's own nets
            del options['model.generator.base_channels']
            del options['model.discriminator.base_channels']
        if amp:
            options['model.inner_loop.amp'] = dict(dtype='bfloat16')
        self.runner = build_runner(
            config, work_dir=osp.join(work_dir, tag), cfg_options=options)
        self.gate = make_gate_hook()(self.runner.message_hub.instance_name)
        self.runner.register_hook(self.gate)
        self.threads, self.error = threads, None
        self.thread = threading.Thread(target=self._train, daemon=True)
        self.thread.start()
        while not self.gate.ready.wait(1.0):
            self._check()

    def _train(self) -> None:
        torch.set_num_threads(self.threads)  # per-thread OpenMP setting
        try:
            self.runner.train()
        except BaseException as err:  # noqa: B902  (reported by step())
            self.error = err
            self.gate.done.set()
            self.gate.ready.set()

    def _check(self) -> None:
        if self.error is not None:
            raise RuntimeError(
                f'runner failed: {self.error!r}') from self.error

    def batched(self) -> str:
        mapper = getattr(
            getattr(self.runner.model, 'inner_loop', None), 'mapper', None)
        flag = getattr(mapper, 'last_batched', None)
        return '?' if flag is None else ('vmap' if flag else 'sequential')

    def step(self) -> float:
        self._check()
        self.gate.done.clear()
        start = time.perf_counter()
        self.gate.go.set()
        while not self.gate.done.wait(1.0):
            self._check()
        self._check()
        return self.gate.end - start


# -------------------------------------------------------------------- main
def glyph_tensor() -> torch.Tensor:
    """The embedded glyphs as ``[classes, images, 1, S, S]`` uint8."""
    from metagan_mm.datasets.glyph_dataset import GlyphDataset
    images = GlyphDataset(img_size=SIZE, images_per_class=20).images
    images = torch.from_numpy(np.array(images))  # a writable copy
    return images.permute(0, 1, 4, 2, 3).contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--rounds',
        type=int,
        default=3,
        help='timed rounds (each variant once per round)')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--inner', nargs='+', default=['sgd', 'adam'], choices=['sgd', 'adam'])
    parser.add_argument(
        '--mb8-inner',
        nargs='*',
        default=['sgd'],
        choices=['sgd', 'adam'],
        help='inner optimisers of the meta-batch 8 runner')
    parser.add_argument(
        '--base-channels',
        type=int,
        default=64,
        help="FIGR's hidden_size: 64; less for a smoke run")
    parser.add_argument(
        '--amp',
        action='store_true',
        help='also every runner with its inner loop in bfloat16')
    parser.add_argument(
        '--quick-start',
        action='store_true',
        help="runners only, on the quick start's config and nets")
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--note', default='', help='a line for the header')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    iters = args.warmup + args.rounds
    if args.quick_start:
        print(f'# bench_vs_figr --quick-start: the runners on '
              f'{osp.relpath(QUICK_START, ROOT)} (its nets and inner loop), '
              f'inner optimiser as named')
    else:
        print(f'# bench_vs_figr: FIGR DCGAN (FIGROriginalDCGAN*, '
              f'base_channels={args.base_channels}), {SIZE}x{SIZE}x1, {K} '
              f'images per task, {STEPS} inner steps, WGAN-GP weight '
              f'{GP_WEIGHT:g}, inner lr {INNER_LR:g}, outer Adam lr '
              f'{OUTER_LR:g}')
    print(f'# {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; torch '
          f'{torch.__version__}; {args.threads} threads on '
          f'{os.cpu_count()} CPUs; {args.warmup} warm-up + {args.rounds} '
          'timed rounds, one meta-iteration of every variant per round')
    print(f'# load average before: {os.getloadavg()}')
    if args.note:
        print(f'# {args.note}')
    sampler = RSSSampler()
    data = glyph_tensor()
    print(f'# data: embedded glyphs, {tuple(data.shape)} (classes, images, '
          'C, H, W), one random class and 4 images per task')
    variants = []  # (name, inner, tasks, step_fn, extra)
    for inner in [] if args.quick_start else args.inner:
        ref = FIGRReference(inner, args.base_channels, data)
        variants.append((f'figr-ref ({inner})', inner, 1, ref.step, None))
    with tempfile.TemporaryDirectory() as work_dir:
        runs = [(1, inner) for inner in args.inner]
        runs += [(8, inner) for inner in args.mb8_inner]
        for tasks, inner in runs:
            for amp in (False, True) if args.amp else (False, ):
                tag = f'mb{tasks}_{inner}' + ('_bf16' if amp else '')
                run = RunnerVariant(
                    tag, tasks, inner,
                    None if args.quick_start else args.base_channels, iters,
                    args.threads, work_dir,
                    QUICK_START if args.quick_start else CONFIG, amp)
                name = f'runner mb{tasks} ({inner}' + (', bf16)'
                                                       if amp else ')')
                variants.append((name, inner, tasks, run.step, run))
        n_params = sum(p.numel() for p in FIGROriginalDCGANGenerator(
            NZ, SIZE, 1, args.base_channels).parameters()) + sum(
                p.numel() for p in FIGROriginalDCGANDiscriminator(
                    SIZE, 1, args.base_channels).parameters())
        print(f'# G + D parameters: {n_params / 1e6:.2f}M')
        times = {v[0]: [] for v in variants}
        deltas = {v[0]: [] for v in variants}
        for rnd in range(iters):
            for name, _, _, step, _ in variants:
                settle()
                base = sampler.reset()
                sec = step()
                delta = sampler.peak - base
                tag = 'warm-up' if rnd < args.warmup else 'timed'
                print(
                    f'round {rnd} {tag:7} {name:22} {sec:8.3f} s  '
                    f'peak RSS delta {delta / 2**20:7.0f} MiB',
                    flush=True)
                if rnd >= args.warmup:
                    times[name].append(sec)
                    deltas[name].append(delta)
        for name, _, _, _, run in variants:
            if run is not None:
                run.thread.join(timeout=600)
        print(f'# load average after: {os.getloadavg()}')
        print()
        print(
            '| variant | inner optimiser | tasks / meta-iter | s / meta-iter '
            '(median) | tasks/s | vs figr-ref (same inner opt.) | vs the '
            'runner in fp32 | peak RSS delta (MiB) | inner loops |')
        print('|---|---|---|---|---|---|---|---|---|')
        for name, inner, tasks, _, run in variants:
            sec = median(times[name])
            rate = tasks / sec
            ref = times.get(f'figr-ref ({inner})')
            ratio = f'{rate / (1 / median(ref)):.2f}' if ref else '-'
            fp32 = times.get(name.replace(', bf16)', ')'))
            vs_fp32 = f'{median(fp32) / sec:.2f}' if 'bf16' in name else '-'
            how = 'sequential (torch.optim)' if run is None else run.batched()
            print(f'| {name} | {inner} | {tasks} | {sec:.2f} | {rate:.3f} | '
                  f'{ratio} | {vs_fp32} | {max(deltas[name]) / 2**20:.0f} | '
                  f'{how} |')
        print()
        print(f'process peak RSS (all variants resident): '
              f'{sampler.max_ever / 2**30:.2f} GiB')


if __name__ == '__main__':
    main()
