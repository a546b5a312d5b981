"""Train a (meta-)GAN with mmengine's runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
        [--trust-checkpoint]

On SIGTERM or SIGUSR1 it finishes the meta-iteration, saves a checkpoint and
exits with 128 + the signal's number; ``--resume`` continues from there.
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
    """Parse OpenMMLab's usual training arguments."""
    parser = argparse.ArgumentParser(description='Train a (meta-)GAN')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='run the inner loop under autocast (bfloat16 on the CPU; '
        "sets model.inner_loop.amp=dict(dtype='auto'))")
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def main(argv=None) -> None:
    """Build the runner from the config and train."""
    args = parse_args(argv)
    with friendly_errors('train'):
        runner = build_runner(
            args.config,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            launcher=args.launcher,
            resume=args.resume,
            amp=args.amp)
        runner.train()
        close_distributed()
    signum = getattr(runner.train_loop, 'stopped_by_signal', None)
    if signum:  # preempted: checkpoint saved, not finished
        sys.exit(128 + signum)


if __name__ == '__main__':
    main()
