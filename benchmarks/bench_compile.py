#!/usr/bin/env python
"""Benchmark ``inner_loop.compile``: eager vs compiled inner steps.

Two tables:

* **Meta-gradients** (torch only, the networks and settings of
  ``bench_inner_loop.py``): Reptile and first-order MAML, at the quick
  start's width (``base_channels=16``) and at full width (64), sequential
  and batched. Each cell runs in a fresh process with an empty inductor
  cache, so the compile time is a cold one; it is reported on its own
  (first compiled call minus a steady one), with the calls after which
  compiling has paid for itself and the largest difference of the
  meta-gradients from eager ones.
* **Quick start end to end** (``--quickstart``): the whole 600-iteration
  quick-start run through ``tools/train.py``, eager and with
  ``model.inner_loop.compile=True``, wall time including compilation.

Usage::

    python benchmarks/bench_compile.py                 # meta-gradients
    python benchmarks/bench_compile.py --quickstart    # + whole quick start
    python benchmarks/bench_compile.py --device cuda
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench_inner_loop as bench  # noqa: E402

QUICKSTART = 'configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_' \
    'glyphs-32x32.py'


def _timed(fn, device: str) -> Tuple[float, object]:
    bench._sync(device)
    start = time.perf_counter()
    out = fn()
    bench._sync(device)
    return time.perf_counter() - start, out


def cell(device: str, alg: str, width: int, batched: bool, tasks: int,
         steps: int, iters: int) -> Dict[str, float]:
    """Eager and compiled meta-gradients of one configuration."""
    gen = torch.Generator().manual_seed(0)
    data = (torch.rand(
        tasks, bench.K_SHOT + bench.NUM_QUERY, 1, 32, 32, generator=gen) * 2 -
            1).to(device)
    fns = {
        c:
        bench.make_step(
            alg,
            bench.build(device, steps, width, batched=batched,
                        compiled=c), data)
        for c in (False, True)
    }
    first, compiled_out = _timed(fns[True], device)
    _, eager_out = _timed(fns[False], device)  # warm-up
    sec = {}
    for c in (False, True):
        sec[c] = sorted(_timed(fns[c], device)[0] for _ in range(iters))
        sec[c] = sec[c][iters // 2]
    diff = max(
        float((compiled_out.grads[m][k] - eager_out.grads[m][k]).abs().max())
        for m in eager_out.grads for k in eager_out.grads[m])
    return dict(
        eager=sec[False],
        compiled=sec[True],
        compile=first - sec[True],
        diff=diff,
        batched=float(compiled_out.batched))


def run_cell_subprocess(args, alg: str, width: int, batched: bool) -> Dict:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
        cmd = [
            sys.executable,
            os.path.abspath(__file__), '--device', args.device, '--iters',
            str(args.iters), '--tasks',
            str(args.tasks), '--steps',
            str(args.steps), '--cell', f'{alg},{width},{int(batched)}'
        ]
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env=env)
    keys = ('eager', 'compiled', 'compile', 'diff', 'batched')
    values = out.stdout.strip().splitlines()[-1].split()
    return dict(zip(keys, map(float, values)))


def meta_gradient_table(args) -> None:
    print(f'\nmeta-gradients: T={args.tasks} tasks, K={bench.K_SHOT} (+Q='
          f'{bench.NUM_QUERY} for MAML), {args.steps} Adam inner steps, '
          'LN-DCGAN '
          f'32x32x1, WGAN-GP; median of {args.iters}; t/s = tasks/s; '
          'compile s = first compiled call - a steady one (cold cache); '
          'pays off after = compile s / (eager - compiled s/call)')
    print('| algorithm | width | mode | eager t/s | compiled t/s | speed-up '
          '| compile s | pays off after (calls) | max diff |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    for alg in ('reptile', 'maml-fo'):
        for width in args.widths:
            for batched in (False, True):
                r = run_cell_subprocess(args, alg, width, batched)
                saved = r['eager'] - r['compiled']
                pays = f'{r["compile"] / saved:.0f}' if saved > 0 else 'never'
                mode = 'batched' if r['batched'] else 'sequential'
                print(
                    f'| {alg} | {width} | {mode} | '
                    f'{args.tasks / r["eager"]:.2f} | '
                    f'{args.tasks / r["compiled"]:.2f} | '
                    f'{r["eager"] / r["compiled"]:.2f} | '
                    f'{r["compile"]:.1f} | {pays} | {r["diff"]:.1e} |',
                    flush=True)


def quickstart_table(args) -> None:
    print(f'\nwhole quick start ({QUICKSTART}, 600 iterations, '
          'tools/train.py, wall time including start-up and compilation)')
    print('| inner step | wall s | speed-up |')
    print('| --- | --- | --- |')
    walls: List[float] = []
    for compiled in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable, 'tools/train.py', QUICKSTART, '--work-dir',
                os.path.join(tmp, 'work')
            ]
            if compiled:
                cmd += ['--cfg-options', 'model.inner_loop.compile=True']
            env = dict(
                os.environ, TORCHINDUCTOR_CACHE_DIR=os.path.join(tmp, 'ind'))
            start = time.perf_counter()
            subprocess.run(
                cmd,
                cwd=REPO,
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
        print(
            f'| {"compiled" if compiled else "eager"} | {walls[-1]:.0f} | '
            f'{walls[0] / walls[-1]:.2f} |',
            flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--tasks', type=int, default=4)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--widths', type=int, nargs='+', default=[16, 64])
    p.add_argument('--quickstart', action='store_true')
    p.add_argument('--no-table', action='store_true')
    p.add_argument('--cell', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.cell:
        alg, width, batched = args.cell.split(',')
        r = cell(args.device, alg, int(width), bool(int(batched)), args.tasks,
                 args.steps, args.iters)
        print(' '.join(
            str(r[k])
            for k in ('eager', 'compiled', 'compile', 'diff', 'batched')))
        return
    print(f'torch {torch.__version__} | {args.device} | '
          f'{torch.get_num_threads()} threads')
    if not args.no_table:
        meta_gradient_table(args)
    if args.quickstart:
        quickstart_table(args)


if __name__ == '__main__':
    main()
