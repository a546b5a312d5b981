"""Time, and profile, meta-iterations over mmagic's own StyleGAN2.

A meta-GAN (``ReptileGAN`` by default) is built from the registry with
mmagic's ``StyleGAN2Generator`` / ``StyleGAN2Discriminator`` (their fixed
widths: 512 channels up to 32x32), 1 channel as in the glyph configs,
WGAN-GP, inner Adam; ``train_step`` runs on random tasks as the runner
would call it. The median time of ``--iters`` meta-iterations after one
warm-up is printed, then, with ``--profile``, torch.profiler's operators
by self CPU time (with input shapes, so that mmcv's ``upfirdn2d`` blur,
a depthwise ``[C, 1, 4, 4]`` convolution on the CPU, is told apart from the
modulated 3x3 convolutions) and the share of each kind.

    python benchmarks/bench_mmagic_stylegan2.py [--size 32] [--tasks 2]
        [--images 4] [--steps 1] [--iters 2] [--style-channels 512]
        [--mlps 8] [--batching auto|loop]
        [--model ReptileGAN|MAMLGAN] [--profile] [--without-upfirdn2d-fix]
        [--d-penalty]
"""
import argparse
import importlib
import os.path as osp
import sys
import time
from collections import defaultdict
from statistics import median

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmagic.structures import DataSample
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope

import metagan_mm  # noqa: F401
from metagan_mm import compat
from metagan_mm.registry import MODELS


def build(args):
    init_default_scope('mmagic')
    torch.manual_seed(0)
    extra = dict(num_support=args.images // 2, first_order=True) \
        if args.model == 'MAMLGAN' else {}
    model = MODELS.build(
        dict(
            type=args.model,
            data_preprocessor=dict(
                type='DataPreprocessor',
                mean=[127.5],
                std=[127.5],
                data_keys=None),
            generator=dict(
                type='StyleGAN2Generator',
                out_size=args.size,
                style_channels=args.style_channels,
                num_mlps=args.mlps,
                out_channels=1),
            discriminator=dict(
                type='StyleGAN2Discriminator',
                in_size=args.size,
                img_channels=1),
            inner_loop=dict(
                steps=args.steps,
                g_lr=1e-3,
                d_lr=1e-3,
                optimizer='adam',
                loss='wgan-gp',
                batching=dict(mode=args.batching)),
            **extra))
    optim = OptimWrapperDict(
        **{
            name:
            OptimWrapper(
                torch.optim.Adam(getattr(model, name).parameters(), 1e-4))
            for name in ('generator', 'discriminator')
        })
    return model, optim


def batch(args, it):
    inputs = torch.randint(
        0,
        256, (args.tasks, args.images, 1, args.size, args.size),
        generator=torch.Generator().manual_seed(it),
        dtype=torch.uint8)
    samples = [
        DataSample(metainfo=dict(task_index=it * args.tasks + t))
        for t in range(args.tasks)
    ]
    return dict(inputs=inputs, data_samples=samples)


def time_d_penalty(args):
    """Median time of D's gradient penalty (forward and double backward,
    w.r.t. D's weights) on ``--images`` RGB images of ``--size``."""
    init_default_scope('mmagic')
    torch.manual_seed(0)
    disc = MODELS.build(
        dict(type='StyleGAN2Discriminator', in_size=args.size, img_channels=3))
    x = torch.randn(args.images, 3, args.size, args.size)
    times = []
    for it in range(args.iters + 1):
        start = time.perf_counter()
        x_in = x.clone().requires_grad_(True)
        grad, = torch.autograd.grad(disc(x_in).sum(), x_in, create_graph=True)
        torch.autograd.grad(
            grad.square().sum(), list(disc.parameters()), allow_unused=True)
        if it:
            times.append(time.perf_counter() - start)
    return median(times)


def kind(name, shapes):
    """Group an operator: upfirdn2d's blur, the filter gradients torch's
    double backward of a grouped convolution takes group by group
    (``[1, N, H, W]`` by ``[1, N, h, w]``), other convolutions, the rest
    by name."""
    if 'conv' in name:
        if any(
                len(shape) == 4 and shape[1] == 1 and shape[2:] == [4, 4]
                for shape in shapes):
            return 'upfirdn2d blur (4x4 filter)'
        if (len(shapes) > 1 and len(shapes[0]) == len(shapes[1]) == 4
                and shapes[0][:2] == shapes[1][:2] and shapes[0][0] == 1):
            return 'grouped double backward: filter gradient per group'
        return 'convolutions (3x3 modulated, 1x1, down-sampling)'
    return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=32)
    parser.add_argument('--tasks', type=int, default=2)
    parser.add_argument('--images', type=int, default=4)
    parser.add_argument('--steps', type=int, default=1)
    parser.add_argument('--iters', type=int, default=2)
    parser.add_argument('--style-channels', type=int, default=512)
    parser.add_argument('--mlps', type=int, default=8)
    parser.add_argument('--batching', default='auto')
    parser.add_argument('--model', default='ReptileGAN')
    parser.add_argument('--profile', action='store_true')
    parser.add_argument(
        '--without-upfirdn2d-fix',
        action='store_true',
        help="mmcv's own CPU upfirdn2d (metagan_mm.compat's fix undone)")
    parser.add_argument(
        '--d-penalty',
        action='store_true',
        help="time only D's gradient penalty (forward, double backward)")
    args = parser.parse_args()
    if args.without_upfirdn2d_fix:
        name = 'upfirdn2d_cpu_double_backward'
        importlib.import_module('mmcv.ops.upfirdn2d')._upfirdn2d_ref = \
            compat.ORIGINALS[name]
    if args.d_penalty:
        print(f"StyleGAN2Discriminator {args.size}x{args.size}, gradient "
              f'penalty on {args.images} images: {time_d_penalty(args):.2f} s')
        return
    model, optim = build(args)
    hub = MessageHub.get_instance('bench_mmagic_stylegan2')
    params = sum(p.numel() for p in model.parameters())
    fix = 'without' if args.without_upfirdn2d_fix else 'with'
    print(f'{args.model} over StyleGAN2 {args.size}x{args.size} ({fix} the '
          'upfirdn2d fix): '
          f'{params / 1e6:.1f}M parameters (G + D), {args.tasks} tasks of '
          f'{args.images} images, {args.steps} inner steps, batching='
          f'{args.batching}, {torch.get_num_threads()} threads')
    times = []
    for it in range(args.iters + 1):
        hub.update_info('iter', it)
        start = time.perf_counter()
        logs = model.train_step(batch(args, it), optim)
        if it:
            times.append(time.perf_counter() - start)
    print(f'median meta-iteration: {median(times):.2f} s '
          f'(batched: {bool(logs["tasks_batched"])})')
    if not args.profile:
        return
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
        model.train_step(batch(args, args.iters + 1), optim)
    events = p.key_averages(group_by_input_shape=True)
    total = sum(e.self_cpu_time_total for e in events)
    shares = defaultdict(float)
    for e in events:
        shares[kind(e.key, e.input_shapes)] += e.self_cpu_time_total
    print(f'profiled meta-iteration: {total / 1e6:.2f} s self CPU')
    for name, us in sorted(shares.items(), key=lambda kv: -kv[1])[:8]:
        print(f'  {100 * us / total:5.1f}%  {us / 1e6:7.2f} s  {name}')
    print(events.table(sort_by='self_cpu_time_total', row_limit=15))


if __name__ == '__main__':
    main()
