"""Evaluate a checkpoint with the config's test loop and evaluator.

    python tools/test.py CONFIG CHECKPOINT [--ema] [--trust-checkpoint]
        [--trust-feature-net FILE] [--work-dir DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

Every weight of the config's model must be in the checkpoint, with the same
shape, and nothing else (else one error names the keys).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.utils.cli import (add_runner_args, friendly_errors,
                                  parse_runner_args)
from metagan_mm.utils.runner_setup import build_runner, close_distributed


def parse_args(argv=None) -> argparse.Namespace:
    """Parse OpenMMLab's usual test arguments."""
    parser = argparse.ArgumentParser(description='Test a (meta-)GAN')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--ema',
        action='store_true',
        help="use the checkpoint's EMA generator weights (default: the "
        'meta-weights)')
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def main(argv=None) -> dict:
    """Build the runner, load the checkpoint and test; returns the metrics."""
    args = parse_args(argv)
    with friendly_errors('test'):
        runner = build_runner(
            args.config,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            launcher=args.launcher,
            checkpoint=args.checkpoint,
            use_ema=args.ema,
            trust_checkpoint=args.trust_checkpoint)
        metrics = runner.test()
        close_distributed()
        return metrics


if __name__ == '__main__':
    main()
