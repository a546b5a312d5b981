"""LoFGAN's own training step against FusionGAN's, on the same nets' sizes.

Side by side in one process, one iteration of each variant in turn per
round (so that both see the same machine load), on the same batch:

* ``lofgan``: LoFGAN's code (``../shared/peers/LoFGAN-pytorch``, MIT, run
  unmodified from its folder): its ``Trainer`` (Adam 1e-4, weight decay
  1e-4, Kaiming init) and ``dis_update`` then ``gen_update`` on
  ``[tasks, K, 3, S, S]`` images. Its ``.cuda()`` calls on index tensors
  are made no-ops by a shim in this process when there is no GPU.
* ``ours``: ``FusionGAN.train_step`` (the model ``tools/train.py``
  trains; data pre-processing, per-task fusion noise, one D then one G
  step through mmengine optimizer wrappers) on the same images as uint8,
  with ``LocalFusionGenerator`` / ``ClassHeadResNetDiscriminator`` at
  LoFGAN's layer sizes (``base_channels`` 32 / 64; 128x128 needs 4
  stages, as LoFGAN's).
* ``core`` (``--no-runner``, for a machine with PyTorch only, such as the
  bare GPU machine of ``device_check.sh``): the same nets and objective
  through the torch-only core that ``FusionGAN`` drives (``Pooled``
  meta-gradients of the tasks, then one ``torch.optim.Adam`` step of D and
  of G), without mmengine's data pre-processing and optimizer wrappers.

The nets differ where docs/user_guides/fusion.md says (LayerNorm for
BatchNorm, no spectral norm, the unused ``W`` and the unused D pass on the
real shots of LoFGAN's G step left out). ``--profile`` prints the top
operators of one more iteration of each variant (where the time goes).

LoFGAN's folder is ``$METAGAN_LOFGAN_CODE`` (default
``../shared/peers/LoFGAN-pytorch``); without it the script says so and
stops.

    python benchmarks/bench_vs_lofgan.py [--size 128] [--tasks 8]
        [--shots 3] [--rounds 3] [--threads N] [--d-channels 64] [--profile]
        [--device cpu|cuda] [--no-runner]
"""
import argparse
import os
import os.path as osp
import sys
import time
from statistics import median

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
PEER = os.environ.get(
    'METAGAN_LOFGAN_CODE',
    osp.join(ROOT, '..', 'shared', 'peers', 'LoFGAN-pytorch'))
CLASSES = 85  # LoFGAN's Flowers config


def lofgan_variant(size: int, shots: int, d_channels: int,
                   device: torch.device):
    """LoFGAN's ``Trainer`` with its Flowers settings (``train.py`` also
    turns on autograd anomaly detection, which slows it further; it is
    left off here), on ``device``."""
    if device.type == 'cpu':
        torch.Tensor.cuda = lambda self, *args, **kwargs: self  # CPU shim
    sys.path.insert(0, PEER)
    from trainer import Trainer  # LoFGAN's
    if size != 128:
        raise SystemExit('LoFGAN\'s networks are for 128x128 only '
                         '(4 down-samplings to its 8x8 map); use --size 128.')
    conf = dict(
        lr_gen=1e-4,
        lr_dis=1e-4,
        weight_decay=1e-4,
        init='kaiming',
        w_adv_g=1,
        w_adv_d=1,
        w_recon=0.5,
        w_cls=1.0,
        w_gp=10,
        model='LoFGAN',
        gen=dict(nf=32, n_downs=2, norm='bn', rate=0.5),
        dis=dict(nf=d_channels, n_res_blks=4, num_classes=CLASSES))
    return Trainer(dict(conf, n_sample_train=shots)).to(device)


def core_variant(size: int, d_channels: int, device: torch.device):
    """The step of ``FusionGAN`` through the torch-only core: ``Pooled``
    meta-gradients of the tasks with ``FusionObjective`` (LoFGAN's
    weights), then one Adam step (1e-4, weight decay 1e-4) of D and G.

    The settings are those of ``configs/_base_/algorithms/fusion.py``,
    written out: a machine without mmengine cannot read the config.

    Returns:
        ``(step, nets)``: ``step(images [T, K, 3, S, S] in [-1, 1],
        labels [T])`` and the networks by name.
    """
    from metagan_mm.architectures import (ClassHeadResNetDiscriminator,
                                          LocalFusionGenerator)
    from metagan_mm.core import (InnerLoop, InnerLoopConfig, Task,
                                 build_algorithm, draw_randomness,
                                 meta_gradients)
    from metagan_mm.core.fusion import FusionObjective
    inner = InnerLoop(
        LocalFusionGenerator(size, 3, base_channels=32).to(device),
        ClassHeadResNetDiscriminator(
            size, 3, CLASSES, base_channels=d_channels).to(device),
        InnerLoopConfig.from_dict(dict(steps=1, loss='hinge')),
        objective=FusionObjective(r1=0.02))
    algorithm = build_algorithm(dict(type='Pooled'), inner)
    optims = {
        name: torch.optim.Adam(module.parameters(), 1e-4, weight_decay=1e-4)
        for name, module in inner.modules.items()
    }
    gen = torch.Generator().manual_seed(0)

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        rand = draw_randomness(algorithm, inner, images.shape[0],
                               images.shape[1], gen)
        result = meta_gradients(algorithm, inner, Task(images, labels), rand)
        for name, module in inner.modules.items():
            for key, param in module.named_parameters():
                param.grad = result.grads[name][key]
            optims[name].step()

    return step, inner.modules


def ours_variant(size: int, d_channels: int):
    """FusionGAN built from the Omniglot config at ``size`` RGB (LoFGAN's
    widths), and its optimizer wrappers."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import metagan_mm  # noqa: F401
    from metagan_mm.registry import MODELS
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'fusion',
                 'fusion_local-fusion_1xb8-100kiters_omniglot-32x32.py'))
    init_default_scope(cfg.default_scope)
    cfg.model.data_preprocessor.update(mean=[127.5] * 3, std=[127.5] * 3)
    for net, key in (('generator', 'out'), ('discriminator', 'in')):
        cfg.model[net][f'{key}_scale'] = size
        cfg.model[net][f'{key}_channels'] = 3
    cfg.model.num_classes = CLASSES
    cfg.model.discriminator.base_channels = d_channels
    model = MODELS.build(cfg.model)
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    return model, wrappers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--tasks', type=int, default=8)
    parser.add_argument('--shots', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument(
        '--d-channels',
        type=int,
        default=64,
        help="both discriminators' first width (LoFGAN: 64)")
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--no-runner',
        action='store_true',
        help='leave out FusionGAN.train_step (needs mmagic): LoFGAN '
        'against the core step only')
    parser.add_argument('--note', default='')
    args = parser.parse_args()
    if not osp.isdir(PEER):
        print(f'LoFGAN\'s code not found at {osp.abspath(PEER)}; skipping '
              '(see ../shared/peers/README.md; $METAGAN_LOFGAN_CODE).')
        return 0
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    try:
        trainer = lofgan_variant(args.size, args.shots, args.d_channels,
                                 device)
    except ImportError as err:  # e.g. a bare machine without its yaml
        print(f'# LoFGAN\'s code does not import here ({err}): only our '
              'variants are timed')
        trainer = None
    core_step, core_nets = core_variant(args.size, args.d_channels, device)
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(
        0,
        256, (args.tasks, args.shots, 3, args.size, args.size),
        generator=gen,
        dtype=torch.uint8).to(device)
    labels = torch.randint(CLASSES, (args.tasks, 1), generator=gen).to(device)
    xs = images.float() / 127.5 - 1

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize()

    def lofgan_step():
        trainer.dis_update(xs, labels)
        trainer.gen_update(xs, labels)

    def params(m):
        return sum(p.numel() for p in m.parameters()) / 1e6

    variants = [('lofgan', lofgan_step)] if trainer is not None else []
    variants.append(('core', lambda: core_step(xs, labels[:, 0])))
    if not args.no_runner:
        from mmagic.structures import DataSample
        model, wrappers = ours_variant(args.size, args.d_channels)
        model.to(device)
        samples = [
            DataSample(metainfo=dict(class_idx=int(c), task_index=i))
            for i, c in enumerate(labels[:, 0])
        ]
        data = dict(inputs=images, data_samples=samples)
        variants.append(('ours', lambda: model.train_step(data, wrappers)))
    print(f'# bench_vs_lofgan: {args.tasks} tasks x {args.shots} shots, '
          f'{args.size}x{args.size}x3, {CLASSES} seen classes, D width '
          f'{args.d_channels}; one D + one G step per iteration')
    print(f'# {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}; torch '
          f'{torch.__version__}; {args.device}; {args.threads} threads on '
          f'{os.cpu_count()} CPUs; {args.warmup} warm-up + {args.rounds} '
          'timed rounds')
    if device.type == 'cuda':
        print(f'# {torch.cuda.get_device_name(device)}')
    print(f'# load average before: {os.getloadavg()}')
    if args.note:
        print(f'# {args.note}')
    if trainer is not None:
        print(f'# parameters (M): lofgan G {params(trainer.model.gen):.3f} '
              f'D {params(trainer.model.dis):.3f}')
    print(f'# parameters (M): ours G {params(core_nets["generator"]):.3f} D '
          f'{params(core_nets["discriminator"]):.3f}')
    times = {name: [] for name, _ in variants}
    for rnd in range(args.warmup + args.rounds):
        for name, step in variants:
            sync()
            start = time.perf_counter()
            step()
            sync()
            sec = time.perf_counter() - start
            tag = 'warm-up' if rnd < args.warmup else 'timed'
            print(f'round {rnd} {tag:7} {name:7} {sec:8.3f} s', flush=True)
            if rnd >= args.warmup:
                times[name].append(sec)
    print(f'# load average after: {os.getloadavg()}')
    print()
    print('| variant | s / iteration (median) | tasks/s | vs lofgan |')
    print('|---|---|---|---|')
    ref = median(times['lofgan']) if 'lofgan' in times else None
    for name, _ in variants:
        sec = median(times[name])
        ratio = f'{ref / sec:.2f}x' if ref else '-'
        print(f'| {name} | {sec:.3f} | {args.tasks / sec:.2f} | {ratio} |')
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        activities = [ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * (
            device.type == 'cuda')
        for name, step in variants:
            with profile(activities=activities) as prof:
                step()
                sync()
            print(f'\n## where the time goes: {name} (one iteration, top '
                  'operators by self CPU time)\n')
            print(prof.key_averages().table(
                sort_by=f'self_{device.type}_time_total', row_limit=12))
    return 0


if __name__ == '__main__':
    sys.exit(main())
