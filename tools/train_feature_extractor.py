"""Train the domain feature network of the few-shot metrics.

    python tools/train_feature_extractor.py CONFIG [--out PATH] [--iters N]
        [--seed S] [--batch-size B] [--val-fraction F] [--threads T]
        [--device DEV] [--cfg-options k=v ...] [--allow-no-split]
        [--net-config NET_CONFIG] [--work-dir DIR]

Reads the class data set of ``train_dataloader.dataset.dataset`` of a
(meta-)training config, builds it with ``split_part='train'`` (meta-training
classes ONLY; the unseen evaluation classes are never loaded), and trains a
:class:`DomainFeatureExtractor` classifier on them with mmengine's Runner
(``--net-config``, default
``configs/_base_/feature_nets/domain_classifier_train.py``: model,
optimisation, hooks), with a held-out image fraction for a reported
accuracy. The runner logs and keeps its checkpoints in ``--work-dir``
(default: ``--out`` without its extension); the network is saved to
``--out`` (default: the ``checkpoint`` the config's
``DomainFeatureExtractor`` metrics read, so that ``tools/test.py CONFIG``
finds it; ``work_dirs/feature_nets/<config name>.pth`` for a config without
such metrics); see docs/evaluation.md.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from mmengine.config import Config, DictAction

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.evaluation.feature_nets import (feature_net_path,
                                                feature_net_runner_cfg,
                                                train_feature_extractor)
from metagan_mm.utils.cli import friendly_errors

#: The feature network's runner config.
NET_CONFIG = osp.join(REPO_ROOT, 'configs', '_base_', 'feature_nets',
                      'domain_classifier_train.py')


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
        '--iters', type=int, help='training steps (net config: 400)')
    parser.add_argument('--seed', type=int, help='seed (net config: 0)')
    parser.add_argument(
        '--batch-size', type=int, help='images per step (net config: 64)')
    parser.add_argument(
        '--val-fraction',
        type=float,
        help='held-out fraction of each class\'s images (net config: 0.2)')
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
        help='override settings of CONFIG, e.g. '
        'train_dataloader.dataset.dataset.img_size=64')
    parser.add_argument(
        '--net-config',
        default=NET_CONFIG,
        help='runner config of the feature network (default: '
        'configs/_base_/feature_nets/domain_classifier_train.py)')
    parser.add_argument(
        '--work-dir',
        help='the runner\'s logs and checkpoints (default: --out without '
        'its extension)')
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
        if not osp.isfile(args.config):
            raise FileNotFoundError(
                f'config file {args.config} does not exist. Pass the path of '
                'a (meta-)training config such as configs/reptile/'
                'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py.')
        if not osp.isfile(args.net_config):
            raise FileNotFoundError(
                f'net config file {args.net_config} does not exist. Pass a '
                'copy of configs/_base_/feature_nets/'
                'domain_classifier_train.py, or leave --net-config out.')
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        out = args.out or feature_net_path(cfg, args.config)
        net_cfg = feature_net_runner_cfg(
            args.net_config,
            dataset_cfg_from_config(cfg),
            out,
            work_dir=args.work_dir,
            iters=args.iters,
            seed=args.seed,
            batch_size=args.batch_size,
            val_fraction=args.val_fraction,
            allow_no_split=args.allow_no_split)
        return train_feature_extractor(
            net_cfg, device=args.device, num_threads=args.threads or None)


if __name__ == '__main__':
    main()
