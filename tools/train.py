"""Train a (meta-)GAN with mmengine's runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
        [--trust-checkpoint] [--trust-feature-net FILE] [--ignore-lock]

On SIGTERM, SIGUSR1 or SIGINT (Ctrl-C), to it or to its process group, it
finishes the meta-iteration, saves a checkpoint, names it and the command
that resumes, and exits with 128 + the signal's number.  One run at a time
holds the work dir.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.utils.cli import (add_runner_args, friendly_errors,
                                  parse_runner_args)
from metagan_mm.utils.runner_setup import (build_runner, close_distributed,
                                           load_config)
from metagan_mm.utils.work_dir import work_dir_lock


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
    parser.add_argument(
        '--ignore-lock',
        action='store_true',
        help='train even if another run holds the work dir (two runs in one '
        "work dir overwrite each other's checkpoints)")
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def main(argv=None) -> None:
    """Build the runner from the config and train."""
    args = parse_args(argv)
    with friendly_errors('train'):
        cfg = load_config(args.config, args.work_dir, args.cfg_options,
                          args.launcher)
        with work_dir_lock(cfg.work_dir, ignore=args.ignore_lock):
            runner = build_runner(
                cfg,
                resume=args.resume,
                amp=args.amp,
                trust_checkpoint=args.trust_checkpoint)
            runner.train()
            close_distributed()
    signum = getattr(runner.train_loop, 'stopped_by_signal', None)
    if signum:  # preempted: checkpoint saved, not finished
        sys.exit(128 + signum)


if __name__ == '__main__':
    main()
