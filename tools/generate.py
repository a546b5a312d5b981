"""Adapt a trained meta-GAN to K images of a new class and generate.

    python tools/generate.py CONFIG CHECKPOINT --shots a.png b.png c.png \
        --num 64 --out DIR [--seed 0] [--steps N] [--device cpu] [--convert]
        [--ema] [--amp] [--trust-checkpoint]
    python tools/generate.py CONFIG CHECKPOINT --shots-dir ROOT [--k K] ...

Writes DIR/generated_XXXX.png and DIR/grid.png (support row, then the
generations).  With ``--shots-dir`` (one sub-folder of shots per class; the
model is loaded once) it writes DIR/<class>/...; a class with too few or
unreadable images is reported and skipped, and the exit status is 1 if any
was.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.apis import (generate_for_classes, generate_from_shots,
                             load_meta_model, model_image_shape, read_shots)
from metagan_mm.utils.cli import (add_trust_arg, friendly_errors,
                                  non_negative_int, positive_int)


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the generation arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config used for training')
    parser.add_argument('checkpoint', help='checkpoint (.pth)')
    shots = parser.add_mutually_exclusive_group(required=True)
    shots.add_argument('--shots', nargs='+', help='K images of the new class')
    shots.add_argument(
        '--shots-dir', help='a folder with one sub-folder of shots per class')
    parser.add_argument(
        '--k',
        type=positive_int,
        default=None,
        help='with --shots-dir: shots per class, chosen by a '
        'shuffle seeded by --seed (default: all)')
    parser.add_argument(
        '--num',
        type=positive_int,
        default=64,
        help='images to generate (per class)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--steps',
        type=non_negative_int,
        default=None,
        help='adaptation steps (default: the model\'s own: a meta-GAN\'s '
        'inner-loop steps, a fusion model\'s fewshot_steps)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--convert',
        action='store_true',
        help='convert colour <-> grayscale shots')
    parser.add_argument(
        '--ema',
        action='store_true',
        help="use the checkpoint's EMA generator weights")
    parser.add_argument(
        '--amp',
        action='store_true',
        help='adapt and generate under mixed precision (bfloat16 on the CPU)')
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Adapt and generate."""
    args = parse_args(argv)
    with friendly_errors('generate'):
        model = load_meta_model(
            args.config,
            args.checkpoint,
            args.device,
            args.ema,
            args.trust_checkpoint or None,
            amp=args.amp)
        if args.shots_dir is None:
            shots = read_shots(args.shots, model_image_shape(model),
                               args.convert)
            written = generate_from_shots(model, shots, args.num, args.out,
                                          args.steps, args.seed)
            print(f'wrote {len(written) - 1} images and {written[-1]}')
            return
        results = generate_for_classes(model, args.shots_dir, args.out,
                                       args.num, args.k, args.steps, args.seed,
                                       args.convert)
    failed = {name: r for name, r in results.items() if isinstance(r, str)}
    print(f'\ngenerated {args.num} images for each of '
          f'{len(results) - len(failed)} classes in {args.out}')
    if failed:
        print(f'generate: {len(failed)} class(es) skipped:', file=sys.stderr)
        for name, reason in failed.items():
            print(f'  {name}: {reason}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
