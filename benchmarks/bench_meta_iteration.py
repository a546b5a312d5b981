"""Time one Reptile meta-iteration three ways and print a table.

1. ``runner``: mmengine's runner built from the quick-start config exactly as
   ``tools/train.py`` builds it (data loading, hooks, logging included);
2. ``bare``: the same math (metagan_mm.core InnerLoop + Reptile + Adam) in a
   plain PyTorch loop on random tensors;
3. ``figr-ref``: a FIGR-style reference: per task, deep copies of G and D and
   fresh ``torch.optim.Adam`` objects, ordinary ``loss.backward()``.

Setting (issue): meta-batch 8, K=4, 10 inner steps, 32x32, 1 channel, the
LN-DCGAN pair (``FIGRDCGAN*``; ``--figr-nets``: FIGR's own
``FIGROriginalDCGAN*``), WGAN-GP.  Target: runner within 10% of bare,
bare no slower than the FIGR-style reference.

``--amp bfloat16 float16`` adds bare rows with the inner loop under that
autocast dtype (``inner_loop.amp``), compared with bare in fp32.

    python benchmarks/bench_meta_iteration.py [--iters 5] [--device cpu]
        [--figr-nets] [--no-runner] [--amp bfloat16 float16]
"""
import argparse
import copy
import os.path as osp
import resource
import sys
import tempfile
import time
from statistics import median

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from metagan_mm.architectures import (FIGRDCGANDiscriminator,
                                      FIGRDCGANGenerator,
                                      FIGROriginalDCGANDiscriminator,
                                      FIGROriginalDCGANGenerator)
from metagan_mm.core import (InnerLoop, InnerLoopConfig, Reptile,
                             draw_randomness, meta_gradients)
from metagan_mm.core.gan_losses import d_loss, g_loss

T, K, STEPS, SIZE, NZ = 8, 4, 10, 32, 100
CONFIG = osp.join(ROOT, 'configs', 'reptile',
                  'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory: CUDA allocator peak, or the process's max RSS on CPU."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


NETS = {
    False: (FIGRDCGANGenerator, FIGRDCGANDiscriminator),
    True: (FIGROriginalDCGANGenerator, FIGROriginalDCGANDiscriminator)
}
FIGR_NETS = False  # --figr-nets


def nets(device):
    torch.manual_seed(0)
    gen_cls, disc_cls = NETS[FIGR_NETS]
    gen = gen_cls(noise_size=NZ, out_scale=SIZE, out_channels=1)
    disc = disc_cls(in_scale=SIZE, in_channels=1)
    return gen.to(device), disc.to(device)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def bench_bare(device, iters, batched, amp=None):
    gen, disc = nets(device)
    cfg = InnerLoopConfig(
        steps=STEPS,
        g_lr=1e-3,
        d_lr=1e-3,
        optimizer='adam',
        batching=dict(mode='vmap' if batched else 'loop'),
        amp=None if amp is None else dict(dtype=amp))
    loop, algo = InnerLoop(gen, disc, cfg), Reptile()
    opt_g = torch.optim.Adam(gen.parameters(), 1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), 1e-4, betas=(0.5, 0.9))
    times = []
    for it in range(iters + 1):
        tasks = torch.rand(T, K, 1, SIZE, SIZE, device=device) * 2 - 1
        sync(device)
        start = time.perf_counter()
        rand = draw_randomness(algo, loop, T, K)
        grads = meta_gradients(algo, loop, tasks, rand).grads
        for module, grads, opt in ((gen, grads['generator'], opt_g),
                                   (disc, grads['discriminator'], opt_d)):
            for name, p in module.named_parameters():
                p.grad = grads[name]
            opt.step()
            opt.zero_grad()
        sync(device)
        if it:  # first iteration warms up
            times.append(time.perf_counter() - start)
    return median(times)


def bench_figr_reference(device, iters):
    gen, disc = nets(device)
    opt_g = torch.optim.Adam(gen.parameters(), 1e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), 1e-4, betas=(0.5, 0.9))
    times = []
    for it in range(iters + 1):
        tasks = torch.rand(T, K, 1, SIZE, SIZE, device=device) * 2 - 1
        sync(device)
        start = time.perf_counter()
        g_acc = [torch.zeros_like(p) for p in gen.parameters()]
        d_acc = [torch.zeros_like(p) for p in disc.parameters()]
        for t in range(T):
            g_t, d_t = copy.deepcopy(gen), copy.deepcopy(disc)
            og = torch.optim.Adam(g_t.parameters(), 1e-3, betas=(0.5, 0.9))
            od = torch.optim.Adam(d_t.parameters(), 1e-3, betas=(0.5, 0.9))
            real = tasks[t]
            for _ in range(STEPS):
                fake = g_t(torch.randn(K, NZ, device=device)).detach()
                alpha = torch.rand(K, device=device)
                loss = d_loss(
                    'wgan-gp',
                    d_t,
                    real=real,
                    fake=fake,
                    alpha=alpha,
                    gp_weight=10.0)
                od.zero_grad()
                loss.backward()
                od.step()
                loss = g_loss('wgan-gp',
                              d_t(g_t(torch.randn(K, NZ, device=device))))
                og.zero_grad()
                loss.backward()
                og.step()
            for acc, p0, p1 in zip(g_acc, gen.parameters(), g_t.parameters()):
                acc += (p0.detach() - p1.detach()) / T
            for acc, p0, p1 in zip(d_acc, disc.parameters(), d_t.parameters()):
                acc += (p0.detach() - p1.detach()) / T
        for module, acc, opt in ((gen, g_acc, opt_g), (disc, d_acc, opt_d)):
            for p, g in zip(module.parameters(), acc):
                p.grad = g
            opt.step()
            opt.zero_grad()
        sync(device)
        if it:
            times.append(time.perf_counter() - start)
    return median(times)


def bench_runner(iters, batched):
    """Median iteration time from the runner's IterTimerHook."""
    try:
        import metagan_mm  # noqa: F401
        from metagan_mm.utils.runner_setup import build_runner
    except ImportError as err:
        return None, f'skipped (OpenMMLab stack not importable: {err})'
    with tempfile.TemporaryDirectory() as work_dir:
        runner = build_runner(
            CONFIG,
            work_dir=work_dir,
            cfg_options={
                'model.inner_loop.steps': STEPS,
                # FIGR's full-width nets, as in bare/figr-ref (the quick
                # start config narrows them)
                'model.generator.base_channels': 64,
                'model.discriminator.base_channels': 64,
                'model.generator.type': NETS[FIGR_NETS][0].__name__,
                'model.discriminator.type': NETS[FIGR_NETS][1].__name__,
                'model.inner_loop.batching.mode':
                'vmap' if batched else 'loop',
                'train_dataloader.batch_size': T,
                'train_dataloader.dataset.k_shot': K,
                'train_cfg.max_iters': iters + 1,
                'custom_hooks': [],
                'default_hooks.checkpoint.interval': 10**6,
                'default_hooks.checkpoint.save_last': False,
                'default_hooks.logger.interval': 10**6,
            })
        runner.train()
        times = runner.message_hub.get_scalar('train/time').data[0][1:]
        data_times = runner.message_hub.get_scalar(
            'train/data_time').data[0][1:]
    return median(times), f'data {median(data_times) * 1e3:.1f} ms/iter'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-runner', action='store_true')
    parser.add_argument(
        '--figr-nets',
        action='store_true',
        help="FIGR's own DCGAN (17.9M + 18.0M parameters) everywhere")
    parser.add_argument(
        '--amp',
        nargs='*',
        default=[],
        choices=['bfloat16', 'float16'],
        help='bare rows with the inner loop under these autocast dtypes')
    args = parser.parse_args()
    global FIGR_NETS
    FIGR_NETS = args.figr_nets
    device = torch.device(args.device)
    print(f'# one Reptile meta-iteration: meta-batch {T}, K={K}, {STEPS} '
          f'inner steps, {SIZE}x{SIZE}x1, '
          f'{NETS[FIGR_NETS][0].__name__[:-9]}, WGAN-GP; device '
          f'{device}; torch {torch.__version__}; median of {args.iters}')
    rows = []
    for batched in (True, False):
        tag = 'batched' if batched else 'sequential'
        rows.append((f'bare ({tag})', bench_bare(device, args.iters,
                                                 batched), ''))
        for amp in args.amp:
            rows.append((f'bare ({tag}, {amp})',
                         bench_bare(device, args.iters, batched, amp), ''))
        if not args.no_runner and device.type == 'cpu':
            sec, note = bench_runner(args.iters, batched)
            rows.append((f'runner ({tag})', sec, note))
    rows.append(('figr-ref (deepcopy + optim)',
                 bench_figr_reference(device, args.iters), ''))
    base = {name: sec for name, sec, _ in rows}
    print(f"| {'path':30} | s/iter | tasks/s | vs bare | note |")
    print(f"|{'-' * 32}|--------|---------|---------|------|")
    for name, sec, note in rows:
        if sec is None:
            print(f'| {name:30} |    -   |    -    |    -    | {note} |')
            continue
        tag = 'batched' if 'batched' in name else 'sequential'
        ref = base.get(f'bare ({tag})') or base['bare (batched)']
        print(f'| {name:30} | {sec:6.3f} | {T / sec:7.2f} | '
              f'{ref / sec:7.2f} | {note} |')
    print(f'peak memory: {peak_memory_mb(device):.0f} MiB')


if __name__ == '__main__':
    main()
