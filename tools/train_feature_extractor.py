"""Train the domain feature network of the few-shot metrics.

    python tools/train_feature_extractor.py CONFIG [--out PATH] [--iters N]
        [--seed S] [--batch-size B] [--val-fraction F] [--threads T]
        [--device DEV] [--cfg-options k=v ...] [--allow-no-split]

Reads the class data set of ``train_dataloader.dataset.dataset`` of a
(meta-)training config, builds it with ``split_part='train'`` (meta-training
classes ONLY; the unseen evaluation classes are never loaded), trains a
:class:`DomainFeatureExtractor` classifier on them with a held-out image
fraction for a reported accuracy, and saves it to ``--out`` (default: the
``checkpoint`` the config's ``DomainFeatureExtractor`` metrics read, so
that ``tools/test.py CONFIG`` finds it; ``work_dirs/feature_nets/<config
name>.pth`` for a config without such metrics); see docs/evaluation.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.utils.cli import friendly_errors


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Train the domain feature network of the few-shot '
        'metrics on the meta-training classes of a config')
    parser.add_argument('config', help='(meta-)training config file')
    parser.add_argument(
        '--out',
        help='output checkpoint (default: where the config\'s metrics '
        'read it)')
    parser.add_argument(
        '--iters', type=int, default=400, help='training steps (400)')
    parser.add_argument('--seed', type=int, default=0, help='seed (0)')
    parser.add_argument(
        '--batch-size', type=int, default=64, help='images per step (64)')
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.2,
        help='held-out fraction of each class\'s images (0.2)')
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch CPU threads while training (1; 0 keeps torch\'s '
        'setting)')
    parser.add_argument(
        '--device', default='cpu', help='training device (cpu)')
    parser.add_argument(
        '--allow-no-split',
        action='store_true',
        help='accept a data set without a class split (only if it holds '
        'meta-training classes only)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'train_dataloader.dataset.dataset.img_size=64')
    return parser.parse_args(argv)


def dataset_cfg_from_config(cfg: Config) -> dict:
    """The class data set config of ``train_dataloader.dataset``.

    Args:
        cfg (Config): A (meta-)training config.

    Returns:
        dict: ``train_dataloader.dataset.dataset`` (or
        ``train_dataloader.dataset`` if it is not episodic).
    """
    loader = cfg.get('train_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError('the config has no train_dataloader.dataset')
    dataset = loader['dataset']
    if dataset.get('type') == 'EpisodicDataset' or 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset.to_dict() if hasattr(dataset, 'to_dict') else dict(dataset)


def main(argv=None) -> str:
    """Train and save the feature network; returns the checkpoint path."""
    args = parse_args(argv)
    with friendly_errors('train_feature_extractor'):
        from metagan_mm.evaluation.feature_nets.trainer import (
            feature_net_path, train_feature_extractor)
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        out = args.out or feature_net_path(cfg, args.config)
        return train_feature_extractor(
            dataset_cfg_from_config(cfg),
            out,
            iters=args.iters,
            seed=args.seed,
            batch_size=args.batch_size,
            val_fraction=args.val_fraction,
            allow_no_split=args.allow_no_split,
            num_threads=args.threads or None,
            device=args.device)


if __name__ == '__main__':
    main()
