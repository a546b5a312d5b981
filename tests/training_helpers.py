"""Training as a user runs it: tools/train.py in a subprocess, or its
runner in this process; tiny data sets to train on."""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from metagan_mm.checkpoint import load_checkpoint_file
from metagan_mm.utils.runner_setup import build_runner

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


def stopped_at(run_dir, iteration, work_dir):
    """Make ``work_dir`` what a run preempted after ``iteration`` leaves
    behind: ``run_dir``'s checkpoint of that iteration and the
    ``last_checkpoint`` file naming it, for ``--resume``. One unbroken
    run then serves as both the run to resume and the reference."""
    work_dir.mkdir(parents=True, exist_ok=True)
    ckpt = work_dir / f'iter_{iteration}.pth'
    shutil.copyfile(run_dir / f'iter_{iteration}.pth', ckpt)
    (work_dir / 'last_checkpoint').write_text(str(ckpt))
    return ckpt


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


def write_class_folders(root, classes=5, images=5, size=64):
    """``root/class<c>/<i>.png``: random RGB images."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        folder = root / f'class{c}'
        folder.mkdir(parents=True)
        for i in range(images):
            img = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(img).save(folder / f'{i}.png')


def write_flowers(root, classes=6, images=5, size=64):
    """A LoFGAN-layout array ``[classes, images, H, W, 3]`` under LoFGAN's
    flowers file name."""
    root.mkdir()
    rng = np.random.default_rng(0)
    array = rng.integers(
        0, 256, (classes, images, size, size, 3), dtype=np.uint8)
    np.save(root / 'flower_c8189_s128_data_rgb.npy', array)


def write_lpips_files(folder):
    """Random VGG16 and LPIPS v0.1 linear-layer files in the real layouts
    (torchvision's ``features.*`` keys, lpips's ``linN.model.1.weight``)."""
    from torchvision.models.vgg import cfgs, make_layers

    from metagan_mm.evaluation.feature_nets.lpips_vgg import CHANNELS
    torch.manual_seed(0)
    features = make_layers(cfgs['D'])
    vgg = str(folder / 'vgg16-397923af.pth')
    torch.save({
        f'features.{k}': v
        for k, v in features.state_dict().items()
    }, vgg)
    lin = str(folder / 'vgg.pth')
    torch.save(
        {
            f'lin{i}.model.1.weight': torch.rand(1, c, 1, 1)
            for i, c in enumerate(CHANNELS)
        }, lin)
    return vgg, lin


def train_in_process(config, work_dir, cfg_options):
    """Build the runner as tools/train.py does and train.

    Returns:
        The parameters before training (copies), the trained model and the
        runner.
    """
    runner = build_runner(
        str(config), work_dir=str(work_dir), cfg_options=cfg_options)
    before = {
        k: v.detach().clone()
        for k, v in runner.model.named_parameters()
    }
    runner.train()
    return before, getattr(runner.model, 'module', runner.model), runner


def assert_trained(before, model, prefixes=('generator.', 'discriminator.')):
    """Some weights of each network changed, and all are finite."""
    after = dict(model.named_parameters())
    for prefix in prefixes:
        keys = [k for k in before if k.startswith(prefix)]
        assert keys, prefix
        assert any(not torch.equal(before[k], after[k]) for k in keys), prefix
        assert all(torch.isfinite(after[k]).all() for k in keys), prefix
