"""Adapt a trained meta-GAN to K images of a new class and generate.

    python tools/generate.py CONFIG CHECKPOINT --shots a.png b.png c.png \
        --num 64 --out DIR [--seed 0] [--steps N] [--device cpu] [--convert]
        [--ema] [--trust-checkpoint]

Writes DIR/generated_XXXX.png and DIR/grid.png (support row, then the
generations).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import metagan_mm  # noqa: E402,F401  (applies the compatibility fixes first)
from metagan_mm.apis import (generate_from_shots, load_meta_model,  # noqa
                             model_image_shape, read_shots)
from metagan_mm.utils.cli import add_trust_arg, friendly_errors  # noqa


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the generation arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config used for training')
    parser.add_argument('checkpoint', help='checkpoint (.pth)')
    parser.add_argument('--shots', nargs='+', required=True,
                        help='K images of the new class')
    parser.add_argument('--num', type=int, default=64,
                        help='images to generate')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', type=int, default=None,
                        help='adaptation steps (default: as in training)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--convert', action='store_true',
                        help='convert colour <-> grayscale shots')
    parser.add_argument('--ema', action='store_true',
                        help="use the checkpoint's EMA generator weights")
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Adapt and generate."""
    args = parse_args(argv)
    with friendly_errors('generate'):
        model = load_meta_model(args.config, args.checkpoint, args.device,
                                args.ema, args.trust_checkpoint or None)
        shots = read_shots(args.shots, model_image_shape(model), args.convert)
        written = generate_from_shots(model, shots, args.num, args.out,
                                      args.steps, args.seed)
        print(f'wrote {len(written) - 1} images and {written[-1]}')


if __name__ == '__main__':
    main()
