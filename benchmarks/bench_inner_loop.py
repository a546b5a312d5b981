#!/usr/bin/env python
"""Benchmark the torch-only inner loop: batched (vmap) vs sequential.

Runs with torch only (no mmengine/mmcv/mmagic): the package root
``metagan_mm/__init__.py`` is bypassed so nothing but ``metagan_mm.core`` and
``metagan_mm.architectures`` is imported.

Usage::

    python benchmarks/bench_inner_loop.py --device cuda --iters 5
    python benchmarks/bench_inner_loop.py --quick          # tiny CPU smoke run
    python benchmarks/bench_inner_loop.py --memory-only    # 2nd-order memory
"""
import argparse
import gc
import os
import resource
import subprocess
import sys
import time
import types
from typing import Callable, Dict, List, Tuple, Union

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
if 'metagan_mm' not in sys.modules:  # skip the OpenMMLab-registering root
    _pkg = types.ModuleType('metagan_mm')
    _pkg.__path__ = [os.path.join(REPO, 'metagan_mm')]
    sys.modules['metagan_mm'] = _pkg

import torch

from metagan_mm.architectures import FIGRDCGANDiscriminator, FIGRDCGANGenerator
from metagan_mm.core import (MAML, InnerLoop, InnerLoopConfig, MetaSGD,
                             Reptile, draw_randomness, meta_gradients)

K_SHOT, NUM_QUERY = 4, 4


def parse_chunk(text: str) -> Union[int, str, None]:
    """``--chunk`` value: 'auto', 'none' or an int."""
    if text in ('auto', 'none'):
        return None if text == 'none' else text
    return int(text)


def build(device: str,
          steps: int,
          base_channels: int,
          grad_checkpoint: bool = False,
          chunk: Union[int, str, None] = 'auto',
          batched: bool = True,
          compiled: bool = False) -> InnerLoop:
    """32x32, 1-channel LN-DCGAN pair (``FIGRDCGAN*``, in FIGR's spirit)
    and an Adam inner loop."""
    torch.manual_seed(0)
    g = FIGRDCGANGenerator(100, 32, 1, base_channels).to(device)
    d = FIGRDCGANDiscriminator(32, 1, base_channels).to(device)
    cfg = InnerLoopConfig(
        steps=steps,
        optimizer='adam',
        g_lr=1e-4,
        d_lr=1e-4,
        grad_checkpoint=grad_checkpoint,
        compile=compiled,
        batching=dict(mode='vmap' if batched else 'loop', chunk=chunk))
    return InnerLoop(g, d, cfg)


def make_step(name: str, loop: InnerLoop,
              tasks: torch.Tensor) -> Callable[[], None]:
    """Return a closure running one meta-gradient computation."""
    t, n = tasks.shape[:2]
    gen = torch.Generator(device='cpu').manual_seed(1)
    if name == 'reptile':
        alg, n_img = Reptile(), K_SHOT
        tasks = tasks[:, :K_SHOT]
    elif name.startswith('maml'):  # maml-fo, maml-so, maml-so-ckpt
        alg, n_img = MAML(K_SHOT, first_order=name.endswith('fo')), n
    else:
        alg, n_img = MetaSGD(loop, K_SHOT, first_order=False), n
    rand = draw_randomness(alg, loop, t, n_img, gen)
    return lambda: meta_gradients(alg, loop, tasks, rand)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _rss_mb() -> float:
    scale = 1024.0 if sys.platform != 'darwin' else 1024.0**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def measure(fn: Callable[[], None], device: str,
            iters: int) -> Tuple[float, float]:
    """Return (seconds per call after one warm-up call, peak memory MB).

    Memory is the peak over warm-up and timed calls above what was allocated
    before: ``torch.cuda.max_memory_allocated`` on CUDA, the growth of the
    process's peak RSS (``ru_maxrss``) on CPU. ``ru_maxrss`` never decreases,
    so on CPU every cell runs in its own subprocess (see ``--cell``).
    """
    gc.collect()
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_mb()
    fn()
    _sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    _sync(device)
    sec = (time.perf_counter() - start) / iters
    if device.startswith('cuda'):
        mem = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        mem = _rss_mb() - base
    return sec, mem


def cell(args, alg: str, num_tasks: int, batched: bool,
         steps: int) -> Tuple[float, float]:
    """Measure one configuration, in a subprocess on CPU."""
    if args.device.startswith('cuda') or args.in_process:
        loop = build(
            args.device,
            steps,
            args.base_channels,
            grad_checkpoint=alg.endswith('-ckpt'),
            chunk=parse_chunk(args.chunk),
            batched=batched)
        gen = torch.Generator().manual_seed(0)
        tasks = (torch.rand(
            num_tasks, K_SHOT + NUM_QUERY, 1, 32, 32, generator=gen) * 2 -
                 1).to(args.device)
        return measure(make_step(alg, loop, tasks), args.device, args.iters)
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--device', args.device, '--iters',
        str(args.iters), '--base-channels',
        str(args.base_channels), '--chunk', args.chunk, '--in-process',
        '--cell', f'{alg},{num_tasks},{int(batched)},{steps}'
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    sec, mem = out.stdout.strip().splitlines()[-1].split()
    return float(sec), float(mem)


def run_table(args) -> List[Dict[str, object]]:
    rows = []
    for alg in args.algorithms:
        for t in args.meta_batch:
            res = {b: cell(args, alg, t, b, args.steps) for b in (True, False)}
            rows.append(
                dict(
                    alg=alg,
                    T=t,
                    batched=t / res[True][0],
                    seq=t / res[False][0],
                    mem_b=res[True][1],
                    mem_s=res[False][1]))
            print_row(rows[-1], args.device)
    return rows


def print_header(title: str) -> None:
    print(f'\n{title}')
    print(f'{"algorithm":<10} {"T":>3} {"batched t/s":>12} {"seq t/s":>9} '
          f'{"ratio":>6} {"mem b MB":>9} {"mem s MB":>9} {"device":>8}')


def print_row(r: Dict[str, object], device: str) -> None:
    print(
        f'{r["alg"]:<10} {r["T"]:>3} {r["batched"]:>12.2f} {r["seq"]:>9.2f} '
        f'{r["batched"] / r["seq"]:>6.2f} {r["mem_b"]:>9.1f} '
        f'{r["mem_s"]:>9.1f} {device:>8}',
        flush=True)


def run_memory_vs_steps(args) -> None:
    print(f'\nsecond-order MAML memory vs inner steps (T={args.mem_tasks}; '
          'b = batched, s = sequential, ck = sequential with '
          'inner_loop.grad_checkpoint=True)')
    print(f'{"steps":>5} {"mem b MB":>9} {"mem s MB":>9} {"mem ck MB":>10} '
          f'{"t/s b":>7} {"t/s s":>7} {"t/s ck":>7} {"device":>8}')
    for steps in args.mem_steps:
        out = [
            cell(args, 'maml-so', args.mem_tasks, b, steps)
            for b in (True, False)
        ]
        out.append(cell(args, 'maml-so-ckpt', args.mem_tasks, False, steps))
        print(
            f'{steps:>5} {out[0][1]:>9.1f} {out[1][1]:>9.1f} '
            f'{out[2][1]:>10.1f} ' + ' '.join(f'{args.mem_tasks / o[0]:>7.2f}'
                                              for o in out) +
            f' {args.device:>8}',
            flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--iters', type=int, default=3, help='timed calls per cell')
    p.add_argument(
        '--quick',
        action='store_true',
        help='meta-batch 4 only, 2 inner steps, base_channels 16, '
        'memory sweep over steps 1,2')
    p.add_argument('--base-channels', type=int, default=64)
    p.add_argument('--meta-batch', type=int, nargs='+', default=[4, 8, 16])
    p.add_argument('--steps', type=int, default=5, help='inner steps')
    p.add_argument(
        '--chunk',
        default='auto',
        help="inner_loop.batching.chunk: 'auto' (default), "
        "'none' (all tasks in one vmap) or an int")
    p.add_argument('--mem-steps', type=int, nargs='+', default=[1, 2, 5, 10])
    p.add_argument('--mem-tasks', type=int, default=4)
    p.add_argument('--no-memory-sweep', action='store_true')
    p.add_argument(
        '--memory-only',
        action='store_true',
        help='only the second-order memory sweep')
    p.add_argument(
        '--in-process',
        action='store_true',
        help='do not isolate CPU cells in subprocesses')
    p.add_argument('--cell', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.algorithms = ['reptile', 'maml-fo', 'maml-so', 'meta-sgd']
    if args.quick:
        args.meta_batch, args.steps, args.iters = [4], 2, 1
        args.mem_steps, args.base_channels = [1, 2], 16
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.cell:
        alg, t, b, steps = args.cell.split(',')
        sec, mem = cell(args, alg, int(t), bool(int(b)), int(steps))
        print(f'{sec} {mem}')
        return
    dev = torch.device(args.device)
    name = (
        torch.cuda.get_device_name(dev)
        if dev.type == 'cuda' else f'cpu x{torch.get_num_threads()} threads')
    print(f'torch {torch.__version__} | {name} | K={K_SHOT} Q={NUM_QUERY} '
          f'| inner steps={args.steps} (Adam) | LN-DCGAN 32x32x1 '
          f'base_channels={args.base_channels} | iters={args.iters}')
    runner = build(
        'meta', 1, args.base_channels, chunk=parse_chunk(args.chunk)).runner
    print(f'batched: batching.chunk={args.chunk}, tasks per vmap at T = ' +
          ', '.join(f'{t}: {runner.chunk_len(t, dev)}'
                    for t in args.meta_batch))
    print('reptile adapts on the K support images; MAML/Meta-SGD adapt on K '
          'and evaluate on Q query images; t/s = tasks per second')
    if not args.memory_only:
        print_header('meta-gradient throughput')
        run_table(args)
    if not args.no_memory_sweep:
        run_memory_vs_steps(args)


if __name__ == '__main__':
    main()
