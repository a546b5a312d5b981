"""Train :class:`DomainFeatureExtractor` on the meta-training classes ONLY,
with mmengine's Runner.

The runner config (``configs/_base_/feature_nets/domain_classifier_train.py``
or a copy) holds the model (:class:`DomainClassifier`), the optimisation,
loops and hooks; :func:`feature_net_runner_cfg` fills in what comes from a
(meta-)training config: its class data set (always built with
``split_part='train'``), the class count and names, the image shape, and the
output file (:func:`feature_net_path`: where that config's metrics read it).
The saved checkpoint records the class names it was trained on (tests check
they are disjoint from the test part).
"""
import copy
import os.path as osp
from typing import Any, Dict, Optional, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from .seen_class_images import build_train_dataset, class_dataset_cfg


def feature_net_path(cfg: Any, config_path: str) -> str:
    """Where a config's metrics read their domain feature network.

    The ``checkpoint`` of the first ``DomainFeatureExtractor`` in the
    config's ``test_evaluator`` (then ``val_evaluator``), so that
    ``tools/train_feature_extractor.py CONFIG`` writes the file that
    ``tools/test.py CONFIG`` reads, for inherited configs too; a config
    without one gets ``work_dirs/feature_nets/<config name>.pth``.

    Args:
        cfg: The loaded config (``mmengine.Config`` or dict).
        config_path (str): The config file's path.

    Returns:
        str: The checkpoint path.
    """
    for key in ('test_evaluator', 'val_evaluator'):
        evaluator = cfg.get(key) or []
        if isinstance(evaluator, dict):
            evaluator = evaluator.get('metrics', [evaluator])
        for metric in evaluator:
            net = metric.get('feature_net') or {}
            if net.get('type') == 'DomainFeatureExtractor' and \
                    net.get('checkpoint'):
                return str(net['checkpoint'])
    name = osp.splitext(osp.basename(config_path))[0]
    return osp.join('work_dirs', 'feature_nets', name + '.pth')


def _positive(name: str, value: Optional[int]) -> None:
    if value is not None and int(value) < 1:
        raise ValueError(f'train_feature_extractor: {name} must be >= 1, '
                         f'got {value}')


def feature_net_runner_cfg(net_cfg: Union[str, Config],
                           dataset_cfg: Dict[str, Any],
                           out: str,
                           work_dir: Optional[str] = None,
                           iters: Optional[int] = None,
                           seed: Optional[int] = None,
                           batch_size: Optional[int] = None,
                           val_fraction: Optional[float] = None,
                           allow_no_split: bool = False) -> Config:
    """The runner config that trains a config's domain feature network.

    Args:
        net_cfg (str | Config): The feature network's runner config (e.g.
            ``configs/_base_/feature_nets/domain_classifier_train.py``);
            not modified.
        dataset_cfg (dict): Class data set config (an ``EpisodicDataset``
            config is unwrapped), e.g. ``train_dataloader.dataset.dataset``
            of a meta-training config. Its ``split_part`` is forced to
            ``'train'``.
        out (str): Where :class:`SaveFeatureNetHook` writes the network.
        work_dir (str, optional): The runner's work dir (logs, its own
            checkpoints). Defaults to ``out`` without its extension.
        iters (int, optional): Training iterations (``max_iters`` and the
            schedulers' ``total_steps``).
        seed (int, optional): Seed of the runner and of the hold-out choice.
        batch_size (int, optional): Images per iteration.
        val_fraction (float, optional): Held-out fraction of each class's
            images (``heldout_fraction`` of the data sets).
        allow_no_split (bool): See :func:`build_train_dataset`.

    Returns:
        Config: The filled-in config, for :func:`train_feature_extractor`.
    """
    from metagan_mm.datasets.episodic_dataset import _to_chw_tensor
    _positive('iters', iters)
    _positive('batch_size', batch_size)
    cfg = Config.fromfile(net_cfg) if isinstance(net_cfg, str) else \
        copy.deepcopy(net_cfg)
    data = class_dataset_cfg(dataset_cfg)
    classes = build_train_dataset(data, allow_no_split)
    image = _to_chw_tensor(
        classes.prepare_data(classes.class_to_indices[0][0]))[0]
    cfg.model.extractor.update(
        in_channels=image.shape[0],
        img_size=image.shape[-1],
        num_classes=classes.num_classes,
        class_names=list(classes.class_names))
    for loader in (cfg.train_dataloader, cfg.get('val_dataloader')):
        if not loader:
            continue
        loader.dataset.update(dataset=data, allow_no_split=allow_no_split)
        if seed is not None:
            loader.dataset.seed = int(seed)
        if val_fraction is not None:
            loader.dataset.heldout_fraction = float(val_fraction)
    if iters is not None:
        cfg.train_cfg.max_iters = int(iters)
        schedulers = cfg.get('param_scheduler') or []
        for scheduler in [schedulers] if isinstance(schedulers,
                                                    dict) else schedulers:
            if 'total_steps' in scheduler:
                scheduler.total_steps = int(iters)
    if batch_size is not None:
        cfg.train_dataloader.batch_size = int(batch_size)
    if seed is not None:
        cfg.randomness.seed = int(seed)
    savers = [
        hook for hook in cfg.get('custom_hooks') or []
        if hook.get('type') == 'SaveFeatureNetHook'
    ]
    if len(savers) != 1:
        raise ValueError('train_feature_extractor: the runner config needs '
                         'one SaveFeatureNetHook in custom_hooks, got '
                         f'{len(savers)}')
    savers[0].out = out
    cfg.work_dir = work_dir or osp.splitext(out)[0]
    return cfg


def train_feature_extractor(cfg: Config,
                            device: Optional[str] = 'cpu',
                            num_threads: Optional[int] = 1) -> str:
    """Train and save the network of :func:`feature_net_runner_cfg`.

    The runner logs to, and keeps its own checkpoints in, ``cfg.work_dir``;
    its :class:`SaveFeatureNetHook` writes the network the metrics load.
    The glyph default (76 classes, 400 iterations) reaches ~0.88 held-out
    accuracy in about a CPU minute (docs/evaluation.md).

    Args:
        cfg (Config): From :func:`feature_net_runner_cfg`.
        device (str, optional): Training device; None keeps mmengine's
            choice (CUDA when available). Defaults to ``'cpu'``.
        num_threads (int, optional): Torch CPU threads while training
            (restored afterwards). Defaults to 1: these small convolutions
            run faster on one thread than on busy shared cores. None keeps
            the current setting.

    Returns:
        str: The saved network's path.
    """
    out = next(
        hook.out for hook in cfg.custom_hooks
        if hook.get('type') == 'SaveFeatureNetHook')
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(int(num_threads))
    try:
        runner = Runner.from_cfg(cfg)
        if device is not None:
            runner.model.to(device)
        runner.train()
    finally:
        torch.set_num_threads(threads)
    return out
