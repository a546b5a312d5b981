"""Side by side: bench_inner_loop cells of two trees, alternating order.

The record of how redesign_inner_loop_cpu*t_run*.txt were made (issue 11):
``BEFORE_TREE=... AFTER_TREE=... THREADS=1 python redesign_side_by_side.py
4,16 1`` with the tree before the redesign checked out at BEFORE_TREE
(``git worktree add ... c18265a``) and the redesigned one at AFTER_TREE
(default: this repository; check out a fixed commit when editing it).
Issue 21's per-task contract was measured the same way with
``BEFORE_LABEL=af3b53c BASE_CHANNELS=16 THREADS=1 python
redesign_side_by_side.py 4,8 2`` (contract_inner_loop_cpu1t_run*.txt).
"""
import os
import os.path as osp
import subprocess
import sys
import time

PY = sys.executable
TREES = {
    'before':
    os.environ.get('BEFORE_TREE', ''),
    'after':
    os.environ.get(
        'AFTER_TREE',
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
}
ALGS = ['reptile', 'maml-fo', 'maml-so', 'meta-sgd']
TS = [int(t) for t in sys.argv[1].split(',')] if len(sys.argv) > 1 else [4, 16]
ITERS = sys.argv[2] if len(sys.argv) > 2 else '2'
THREADS = os.environ.get('THREADS', '2')
BASE_CHANNELS = os.environ.get('BASE_CHANNELS', '64')
BEFORE_LABEL = os.environ.get('BEFORE_LABEL', 'c18265a')


def cell(tree, alg, t, b):
    cmd = [
        PY, 'benchmarks/bench_inner_loop.py', '--device', 'cpu', '--iters',
        ITERS, '--base-channels', BASE_CHANNELS, '--chunk', 'auto',
        '--in-process', '--cell', f'{alg},{t},{b},5'
    ]
    out = subprocess.run(
        cmd,
        cwd=TREES[tree],
        check=True,
        capture_output=True,
        text=True,
        env={
            'PYTHONPATH': TREES[tree],
            'OMP_NUM_THREADS': THREADS,
            'PATH': '/usr/bin:/bin'
        })
    sec, mem = out.stdout.strip().splitlines()[-1].split()
    return t / float(sec), float(mem)


print(
    f'# bench_inner_loop cells, before ({BEFORE_LABEL}) vs after, '
    f'alternating order; K=4 Q=4, 5 Adam steps, FIGR DCGAN base '
    f'{BASE_CHANNELS}, chunk auto, '
    f'iters {ITERS}; OMP_NUM_THREADS={THREADS}, load average at start '
    f'{os.getloadavg()[0]:.2f}; tasks/s (peak RSS growth MB)',
    flush=True)
print(
    '| algorithm | T | mode | before t/s | after t/s | after/before | '
    'mem before / after MB |',
    flush=True)
print('| --- | --- | --- | --- | --- | --- | --- |', flush=True)
n = 0
start = time.time()
for alg in ALGS:
    for t in TS:
        for b in (1, 0):
            order = ['before', 'after'] if n % 2 == 0 else ['after', 'before']
            n += 1
            res = {tree: cell(tree, alg, t, b) for tree in order}
            mode = 'batched' if b else 'sequential'
            print(
                f'| {alg} | {t} | {mode} | {res["before"][0]:.2f} | '
                f'{res["after"][0]:.2f} | '
                f'{res["after"][0] / res["before"][0]:.2f} | '
                f'{res["before"][1]:.0f} / {res["after"][1]:.0f} |',
                flush=True)
print(f'# total {time.time() - start:.0f} s', flush=True)
