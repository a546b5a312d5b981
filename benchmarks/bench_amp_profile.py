"""Where a meta-iteration's time goes in fp32 and under bf16 autocast, and
the most bf16 can gain (Amdahl).

    python benchmarks/bench_amp_profile.py [--steps 2] [--base-channels 64]
        [--threads 1] [--repeats 3]

Builds FIGR's nets (``FIGROriginalDCGAN*``, 36M parameters at 64 base
channels, as ``bench_vs_figr.py``) and the bare inner loop of its Reptile
(inner SGD, WGAN-GP, one task of 4 images), then profiles one
meta-gradient per precision with :mod:`torch.profiler`, ``--repeats``
times, alternating. Self CPU time is split into the convolutions (forward
and backward), the casts to and from bf16 and everything else. The bound
assumes bf16 speeds the convolutions up as measured here and nothing else,
and costs no casts: ``fp32 / (fp32 other + fp32 conv / conv speed-up)``.
"""
import argparse
import statistics
import sys
from os import path as osp
from typing import Any, Dict

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

CONV = ('aten::convolution_backward', 'aten::mkldnn_convolution',
        'aten::_convolution', 'aten::convolution', 'aten::conv2d')
CAST = ('aten::copy_', 'aten::_to_copy', 'aten::to')


def profile_once(drv: Any, tasks: torch.Tensor,
                 rand: Dict) -> Dict[str, float]:
    """Seconds of self CPU time per group for one meta-gradient."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        drv(tasks, rand)
    groups = {'conv': 0.0, 'cast': 0.0, 'other': 0.0}
    for event in prof.key_averages():
        sec = event.self_cpu_time_total / 1e6
        key = 'conv' if event.key in CONV else \
            'cast' if event.key in CAST else 'other'
        groups[key] += sec
    groups['total'] = sum(groups.values())
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--base-channels', type=int, default=64)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    from metagan_mm.architectures.figr_original_dcgan import (
        FIGROriginalDCGANDiscriminator, FIGROriginalDCGANGenerator)
    from metagan_mm.core import (InnerLoop, InnerLoopConfig, MetaDriver,
                                 Reptile, draw_randomness)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = FIGROriginalDCGANGenerator(base_channels=args.base_channels)
    disc = FIGROriginalDCGANDiscriminator(base_channels=args.base_channels)
    params = sum(p.numel() for m in (gen, disc) for p in m.parameters())
    tasks = torch.rand(1, 4, 1, 32, 32) * 2 - 1
    drivers = {}
    for name, amp in (('fp32', None), ('bf16', dict(dtype='bfloat16'))):
        cfg = InnerLoopConfig(
            steps=args.steps,
            optimizer='sgd',
            g_lr=1e-3,
            d_lr=1e-3,
            loss='wgan-gp',
            gp_weight=10.0,
            amp=amp)
        inner = InnerLoop(gen, disc, cfg)
        alg = Reptile()
        rand = draw_randomness(alg, inner, 1, 4,
                               torch.Generator().manual_seed(0))
        drivers[name] = (MetaDriver(alg, inner), rand)
        drivers[name][0](tasks, rand)  # warm-up
    runs = {name: [] for name in drivers}
    for _ in range(args.repeats):
        for name, (drv, rand) in drivers.items():
            runs[name].append(profile_once(drv, tasks, rand))
    med = {
        name: {
            k: statistics.median(r[k] for r in rs)
            for k in rs[0]
        }
        for name, rs in runs.items()
    }
    print(f'# bench_amp_profile: FIGR DCGAN nets ({params / 1e6:.1f}M '
          f'parameters), Reptile, inner SGD, WGAN-GP, {args.steps} inner '
          f'steps, 1 task of 4 images, {args.threads} thread(s); torch '
          f'{torch.__version__}; median of {args.repeats} profiled '
          'meta-gradients, self CPU seconds')
    print('| precision | convolutions | casts | other | total | '
          'conv share |')
    print('|---|---|---|---|---|---|')
    for name, m in med.items():
        print(f'| {name} | {m["conv"]:.3f} | {m["cast"]:.3f} | '
              f'{m["other"]:.3f} | {m["total"]:.3f} | '
              f'{m["conv"] / m["total"]:.0%} |')
    fp32, bf16 = med['fp32'], med['bf16']
    conv_gain = fp32['conv'] / bf16['conv']
    bound = fp32['total'] / (
        fp32['other'] + fp32['cast'] + fp32['conv'] / conv_gain)
    print(f'\nconvolutions: bf16 {conv_gain:.2f}x faster than fp32; '
          f'whole meta-gradient: {fp32["total"] / bf16["total"]:.2f}x')
    print(f'most bf16 can gain (Amdahl: only the convolutions faster, no '
          f'casts): {bound:.2f}x')


if __name__ == '__main__':
    main()
