"""Evaluate a checkpoint with the config's test loop and evaluator.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import metagan_mm  # noqa: E402,F401  (applies the compatibility fixes first)
from metagan_mm.utils.cli import friendly_errors  # noqa: E402
from metagan_mm.utils.runner_setup import build_runner  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse OpenMMLab's usual test arguments."""
    parser = argparse.ArgumentParser(description='Test a (meta-)GAN')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None) -> None:
    """Build the runner, load the checkpoint and test."""
    args = parse_args(argv)
    with friendly_errors('test'):
        runner = build_runner(
            args.config,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            launcher=args.launcher,
            checkpoint=args.checkpoint)
        runner.test()


if __name__ == '__main__':
    main()
