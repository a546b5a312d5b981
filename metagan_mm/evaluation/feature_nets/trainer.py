"""Train :class:`DomainFeatureExtractor` on the meta-training classes ONLY.

The feature network of the few-shot metrics must never have seen the unseen
(evaluation) classes, so the class data set is always built with
``split_part='train'`` and the saved checkpoint records the class names it
was trained on (tests check they are disjoint from the test part).
"""
import copy
import os
import os.path as osp
import time
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from .domain_feature_extractor import DomainFeatureExtractor


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


def class_dataset_cfg(dataset_cfg: Dict[str, Any]) -> Dict[str, Any]:
    """The class data set config with ``split_part='train'`` forced.

    An ``EpisodicDataset`` config is unwrapped to its ``dataset``.

    Args:
        dataset_cfg (dict): A class data set config (or an episodic one).

    Returns:
        dict: A copy whose ``split_part`` is ``'train'``.
    """
    cfg = copy.deepcopy(dict(dataset_cfg))
    if cfg.get('type') == 'EpisodicDataset':
        cfg = copy.deepcopy(dict(cfg['dataset']))
    if cfg.get('split_part', 'train') != 'train':
        print_log(
            f'train_feature_extractor: split_part {cfg["split_part"]!r} '
            "replaced by 'train': the feature network may only see "
            'meta-training classes',
            logger='current',
            level=30)
    cfg['split_part'] = 'train'
    return cfg


def build_train_dataset(dataset_cfg: Dict[str, Any],
                        allow_no_split: bool = False) -> Any:
    """Build the meta-training part of a class data set.

    Args:
        dataset_cfg (dict): Class (or episodic) data set config.
        allow_no_split (bool): Accept a data set without a class split (all
            its classes are then meta-training classes).

    Returns:
        ClassImageDataset: The data set, ``split_part == 'train'``.
    """
    import metagan_mm.datasets  # noqa: F401  (registers the data sets)
    from metagan_mm.registry import DATASETS
    cfg = class_dataset_cfg(dataset_cfg)
    if cfg.get('split') is None and not allow_no_split:
        raise ValueError(
            'train_feature_extractor: the class data set has no class split, '
            'so seen and unseen classes cannot be told apart and the feature '
            'network could see the evaluation classes. Fix: give the data '
            'set a split (README, "Class splits"), or pass '
            'allow_no_split=True (--allow-no-split) if it holds '
            'meta-training classes only.')
    dataset = DATASETS.build(cfg)
    if getattr(dataset, 'split_part', None) != 'train':
        raise RuntimeError('train_feature_extractor: the data set was not '
                           "built with split_part='train'")
    return dataset


def load_all_images(dataset: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    """All images of a class data set through its pipeline.

    Args:
        dataset (ClassImageDataset): The data set.

    Returns:
        Tuple[Tensor, Tensor]: ``[N, C, H, W]`` float images in ``[-1, 1]``
        and ``[N]`` labels (``gt_label``).
    """
    from metagan_mm.datasets.episodic_dataset import _to_chw_tensor
    images, labels = [], []
    for label, members in enumerate(dataset.class_to_indices):
        for idx in members:
            img, _ = _to_chw_tensor(dataset.prepare_data(idx))
            images.append(img)
            labels.append(label)
    shapes = {tuple(t.shape) for t in images}
    if len(shapes) != 1:
        raise ValueError('train_feature_extractor: images differ in shape '
                         f'{sorted(shapes)[:4]}; add a Resize to the pipeline')
    x = torch.stack(images).float()
    if x.max() > 1.5:  # uint8 range -> [-1, 1], like DataPreprocessor
        x = x / 127.5 - 1.0
    return x, torch.tensor(labels, dtype=torch.long)


def split_images(labels: torch.Tensor, val_fraction: float,
                 seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Hold out ``val_fraction`` of the images of every class.

    Args:
        labels (Tensor): ``[N]`` class labels.
        val_fraction (float): Fraction held out per class (at least one
            image of classes with >= 2 images when > 0).
        seed (int): Seed of the choice.

    Returns:
        Tuple[Tensor, Tensor]: Train and validation indices.
    """
    rng = np.random.default_rng([seed, 7])
    train, val = [], []
    for cls in torch.unique(labels).tolist():
        idx = torch.nonzero(labels == cls).flatten().numpy()
        idx = idx[rng.permutation(len(idx))]
        n_val = 0
        if val_fraction > 0 and len(idx) >= 2:
            n_val = min(
                len(idx) - 1, max(1, int(round(val_fraction * len(idx)))))
        val.extend(idx[:n_val].tolist())
        train.extend(idx[n_val:].tolist())
    return torch.tensor(sorted(train)), torch.tensor(
        sorted(val), dtype=torch.long)


def _augment(x: torch.Tensor, shift: int,
             gen: torch.Generator) -> torch.Tensor:
    """Random translation by up to ``shift`` pixels (edge padding)."""
    if shift <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift, ) * 4, mode='replicate')
    offs = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen)
    return torch.stack([
        padded[i, :, dy:dy + h, dx:dx + w]
        for i, (dy, dx) in enumerate(offs.tolist())
    ])


@torch.no_grad()
def accuracy(net: DomainFeatureExtractor,
             x: torch.Tensor,
             y: torch.Tensor,
             batch_size: int = 256) -> float:
    """Classification accuracy of ``net`` (eval mode) on ``x, y``."""
    if len(y) == 0:
        return float('nan')
    net.eval()
    correct = 0
    for start in range(0, len(y), batch_size):
        pred = net.logits(x[start:start + batch_size]).argmax(1)
        correct += int((pred == y[start:start + batch_size]).sum())
    return correct / len(y)


def _fit(x_train: torch.Tensor, y_train: torch.Tensor, dataset: Any,
         iters: int, seed: int, batch_size: int, lr: float, shift: int,
         dropout: float, arch: Optional[Dict[str, Any]],
         device: str) -> DomainFeatureExtractor:
    """The optimisation loop of :func:`train_feature_extractor`."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = DomainFeatureExtractor(
        in_channels=x_train.shape[1],
        img_size=x_train.shape[-1],
        num_classes=dataset.num_classes,
        class_names=dataset.class_names,
        **(arch or {})).to(device)
    iters = max(1, int(iters))
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(optim, lr, total_steps=iters)
    net.train()
    for it in range(iters):
        pick = torch.randint(0, len(y_train), (batch_size, ), generator=gen)
        batch = _augment(x_train[pick], shift, gen).to(device)
        feats = F.dropout(net(batch), dropout, training=True)
        loss = F.cross_entropy(net.classifier(feats), y_train[pick].to(device))
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        sched.step()
        if (it + 1) % max(1, iters // 4) == 0:
            print_log(
                f'train_feature_extractor: iter {it + 1}/{iters} loss '
                f'{loss.item():.3f}',
                logger='current')
    return net


def train_feature_extractor(dataset_cfg: Dict[str, Any],
                            out: str,
                            iters: int = 400,
                            seed: int = 0,
                            batch_size: int = 64,
                            lr: float = 5e-3,
                            val_fraction: float = 0.2,
                            shift: int = 2,
                            dropout: float = 0.2,
                            arch: Optional[Dict[str, Any]] = None,
                            allow_no_split: bool = False,
                            num_threads: Optional[int] = 1,
                            device: str = 'cpu') -> str:
    """Train a :class:`DomainFeatureExtractor` classifier and save it.

    The class data set is built with ``split_part='train'`` (meta-training
    classes only, whatever ``dataset_cfg`` says); ``val_fraction`` of each
    class's images are held out to report an accuracy. Adam with a
    one-cycle learning-rate schedule, random shifts as augmentation and
    dropout on the features. The glyph default (76 classes, 400 steps)
    takes ~40 s on one CPU thread (~0.9 held-out accuracy).

    Args:
        dataset_cfg (dict): Class data set config (an ``EpisodicDataset``
            config is unwrapped), e.g. ``train_dataloader.dataset.dataset``.
        out (str): Output checkpoint path.
        iters (int): Optimisation steps. Defaults to 400.
        seed (int): Seed of initialisation, batches and hold-out.
        batch_size (int): Images per step. Defaults to 64.
        lr (float): Peak Adam learning rate. Defaults to 5e-3.
        val_fraction (float): Held-out fraction of each class's images.
        shift (int): Max random translation in pixels. Defaults to 2.
        dropout (float): Dropout on the features. Defaults to 0.2.
        arch (dict, optional): ``channels`` / ``feat_dim`` overrides.
        allow_no_split (bool): See :func:`build_train_dataset`.
        num_threads (int, optional): Torch CPU threads while training
            (restored afterwards). Defaults to 1: these small convolutions
            run faster on one thread than on busy shared cores. None keeps
            the current setting.
        device (str): Training device. Defaults to ``'cpu'``.

    Returns:
        str: ``out``.
    """
    start = time.time()
    dataset = build_train_dataset(dataset_cfg, allow_no_split)
    x, y = load_all_images(dataset)
    train_idx, val_idx = split_images(y, val_fraction, seed)
    threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(int(num_threads))
    try:
        net = _fit(x[train_idx], y[train_idx], dataset, iters, seed,
                   batch_size, lr, shift, dropout, arch, device)
        train_acc = accuracy(net, x[train_idx].to(device),
                             y[train_idx].to(device))
        val_acc = accuracy(net, x[val_idx].to(device), y[val_idx].to(device))
        scale = net.calibrate(x[train_idx].to(device))
    finally:
        torch.set_num_threads(threads)
    print_log(
        f'train_feature_extractor: {dataset.num_classes} meta-training '
        f'classes, {len(train_idx)} train / {len(val_idx)} held-out images; '
        f'accuracy train {train_acc:.3f}, held-out {val_acc:.3f} (chance '
        f'{1 / dataset.num_classes:.3f}); {time.time() - start:.0f} s',
        logger='current')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    net.cpu().save(
        out,
        split_part=dataset.split_part,
        dataset=type(dataset).__name__,
        split=dataset.split.describe(),
        excluded_classes=sorted(
            set(dataset.split_classes.get('val', []))
            | set(dataset.split_classes.get('test', []))),
        val_accuracy=val_acc,
        train_accuracy=train_acc,
        feature_scale=scale,
        iters=int(iters),
        seed=int(seed),
        num_images=int(len(y)))
    print_log(f'train_feature_extractor: saved {out}', logger='current')
    return out
