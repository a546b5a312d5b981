"""Training through tools/train.py in a subprocess, as a user runs it."""
import os
import os.path as osp
import socket
import subprocess
import sys

from metagan_mm.checkpoint import load_checkpoint_file

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIG = osp.join(REPO_ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
# The same with a set encoder conditioning G and D.
COND_CONFIG = osp.join(
    REPO_ROOT, 'configs', 'reptile',
    'reptile_cond-ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
# A tiny version of the quick start: 2 inner steps, 4 tasks, no grids.
TINY = [
    'model.inner_loop.steps=2', 'custom_hooks=[]',
    'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=2'
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(args, timeout=600, env=None):
    env = dict(os.environ, **(env or {}))
    env.setdefault('OMP_NUM_THREADS', '1')
    proc = subprocess.run(
        args,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=timeout,
        env=env)
    assert proc.returncode == 0, (proc.stdout[-3000:] + proc.stderr[-5000:])
    return proc


def train(work_dir,
          *options,
          max_iters=4,
          batch_size=4,
          resume=False,
          config=CONFIG):
    args = [
        sys.executable, 'tools/train.py', config, '--work-dir',
        str(work_dir)
    ]
    if resume:
        args.append('--resume')
    args += [
        '--cfg-options', *TINY, f'train_cfg.max_iters={max_iters}',
        f'train_dataloader.batch_size={batch_size}', *options
    ]
    return _run(args)


def weights(path):
    ckpt = load_checkpoint_file(str(path))
    return ckpt, {
        k: v
        for k, v in ckpt['state_dict'].items()
        if not k.startswith('generator_ema')
    }


def assert_same_weights(a, b, atol):
    assert a.keys() == b.keys()
    worst = max(float((a[k].double() - b[k].double()).abs().max()) for k in a)
    assert worst <= atol, f'max abs difference {worst}'
