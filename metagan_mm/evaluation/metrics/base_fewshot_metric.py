"""Shared machinery of the few-shot metrics (no registered class here).

Every few-shot metric receives, through ``process(data_batch,
data_samples)``, one dict per unseen class (``docs/DESIGN.md``, "Few-shot
evaluation contract")::

    dict(class_idx=int, class_name=str,
         fake=Tensor[M, C, H, W], real=Tensor[R, C, H, W],
         support=Tensor[K, C, H, W])          # all in [-1, 1]

and appends exactly ONE entry per class dict to ``self.results`` (so
``evaluator.evaluate(size)`` takes ``size`` = number of class dicts, and
mmengine gathers the entries across ranks).
"""
import logging
import os
import os.path as osp
import weakref
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

#: Feature networks built from configs, shared by metrics with equal configs
#: and unchanged weight files.
_NETS: Dict[str, nn.Module] = {}
#: Recent pool features per (network, tensor) so that FID, KID and fidelity
#: on one evaluator extract each image set once.
_FEATURES: 'OrderedDict[tuple, tuple]' = OrderedDict()
_FEATURES_MAX = 64


def _net_key(feature_net: dict) -> str:
    """Cache key of a feature network config: the config, with each weight
    file it names (``checkpoint``, ``weights``) as its absolute path, size
    and modification time, so that a relative path read from another
    folder, or a file trained again, is never served from the cache."""
    items = dict(feature_net)
    for name in ('checkpoint', 'weights'):
        path = items.get(name)
        if isinstance(path, str) and osp.isfile(path):
            stat = os.stat(path)
            items[name] = (osp.abspath(path), stat.st_size, stat.st_mtime_ns)
    return repr(sorted(items.items()))


def build_feature_net(feature_net: Union[dict, nn.Module]) -> nn.Module:
    """Build (or reuse) a pretrained feature network from its config.

    Args:
        feature_net (dict | nn.Module): E.g. ``dict(type=
            'DomainFeatureExtractor', checkpoint=...)`` or
            ``dict(type='InceptionFeatureExtractor', weights=...)``.

    Returns:
        nn.Module: The network in eval mode, without gradients.
    """
    if isinstance(feature_net, nn.Module):
        net = feature_net
    else:
        if not isinstance(feature_net, dict) or 'type' not in feature_net:
            raise TypeError('feature_net must be a config dict with a type '
                            f'or a module, got {feature_net!r}')
        key = _net_key(feature_net)
        if key not in _NETS:
            from metagan_mm.registry import MODELS
            from .. import feature_nets  # noqa: F401  (registers)
            _NETS[key] = MODELS.build(dict(feature_net))
        net = _NETS[key]
    if not getattr(net, 'is_pretrained', True):
        from ..feature_nets.domain_feature_extractor import TRAIN_HINT
        raise FileNotFoundError(
            f'{type(net).__name__} has no trained weights (no checkpoint '
            f'given); metrics need a trained feature network. {TRAIN_HINT}')
    net.eval()
    for param in net.parameters():
        param.requires_grad_(False)
    return net


def parse_class_item(item: Any) -> Dict[str, Any]:
    """Check one per-class dict of the evaluation contract.

    Args:
        item (dict | BaseDataElement): ``class_idx``, ``class_name``,
            ``fake``, ``real`` (and optionally ``support``).

    Returns:
        dict: The same fields; images are float CPU/GPU tensors.
    """
    if hasattr(item, 'to_dict') and not isinstance(item, dict):
        item = item.to_dict()
    if not isinstance(item, dict):
        raise TypeError('few-shot metrics take one dict per class (class_idx,'
                        f' class_name, fake, real, support), got '
                        f'{type(item).__name__}')
    missing = {'class_idx', 'fake', 'real'} - set(item)
    if missing:
        raise KeyError(f'few-shot metric: class dict lacks {sorted(missing)}'
                       f' (has {sorted(item)})')
    out = dict(item)
    for key in ('fake', 'real', 'support'):
        value = out.get(key)
        if value is None:
            continue
        value = torch.as_tensor(value)
        if value.ndim != 4:
            raise ValueError(f'few-shot metric: {key!r} must be [N, C, H, W],'
                             f' got shape {tuple(value.shape)}')
        out[key] = value.float()
    out['class_idx'] = int(out['class_idx'])
    out['class_name'] = str(out.get('class_name', out['class_idx']))
    return out


class FewShotFeatureMetric(BaseMetric):
    """Base of the few-shot metrics that use a feature network.

    Subclasses implement :meth:`process_class` (one results entry per class
    dict) and :meth:`compute_metrics`.

    Args:
        feature_net (dict | nn.Module): Feature network config (see
            :func:`build_feature_net`).
        batch_size (int): Images per feature-network forward pass.
        device (str, optional): Where features are computed; CUDA when
            available by default.
        collect_device (str): ``'cpu'`` or ``'gpu'`` (mmengine gathering).
        prefix (str, optional): Prefix of the output keys. Defaults to
            ``'fewshot'``.
    """

    default_prefix: Optional[str] = 'fewshot'

    def __init__(self,
                 feature_net: Union[dict, nn.Module],
                 batch_size: int = 64,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.feature_net = build_feature_net(feature_net)
        self.device = torch.device(
            device or ('cuda' if torch.cuda.is_available() else 'cpu'))
        self.feature_net.to(self.device)
        self.batch_size = int(batch_size)
        self._warned_leak = False

    # ------------------------------------------------------------------
    def _check_leak(self, class_name: str) -> None:
        seen = getattr(self.feature_net, 'class_names', None)
        if self._warned_leak or not seen or class_name not in set(seen):
            return
        self._warned_leak = True
        print_log(
            f'{type(self).__name__}: evaluated class {class_name!r} is one '
            'of the classes the feature network was trained on; few-shot '
            'metrics should use unseen classes only.',
            logger='current',
            level=logging.WARNING)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> np.ndarray:
        """Pool features ``[N, D]`` (float64 numpy) of images in [-1, 1].

        Features of the same tensor by the same network are cached briefly,
        so several metrics of one evaluator extract them once.
        """
        key = (id(self.feature_net), id(images))
        hit = _FEATURES.get(key)
        if hit is not None and hit[0]() is images and hit[1] == (
                images._version, tuple(images.shape)):
            return hit[2]
        outs = [
            self.feature_net(images[i:i + self.batch_size].to(
                self.device)).double().cpu()
            for i in range(0, images.shape[0], self.batch_size)
        ]
        feats = torch.cat(outs).reshape(images.shape[0], -1).numpy()
        _FEATURES[key] = (weakref.ref(images), (images._version,
                                                tuple(images.shape)), feats)
        while len(_FEATURES) > _FEATURES_MAX:
            _FEATURES.popitem(last=False)
        return feats

    @torch.no_grad()
    def layer_features(self, images: torch.Tensor) -> List[torch.Tensor]:
        """Multi-layer features (CPU tensors) of images in [-1, 1]."""
        chunks: List[List[torch.Tensor]] = []
        for i in range(0, images.shape[0], self.batch_size):
            layers = self.feature_net.multi_layer_features(
                images[i:i + self.batch_size].to(self.device))
            chunks.append([layer.float().cpu() for layer in layers])
        return [torch.cat(parts) for parts in zip(*chunks)]

    # ------------------------------------------------------------------
    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Add one results entry per class dict.

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): The per-class dicts.
        """
        for sample in data_samples:
            item = parse_class_item(sample)
            self._check_leak(item['class_name'])
            self.results.append(self.process_class(item))

    def process_class(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """The results entry of one class: features of its generated and
        real images (FID, KID and fidelity use these; others override)."""
        return dict(
            class_idx=item['class_idx'],
            class_name=item['class_name'],
            fake=self.features(item['fake']).astype(np.float32),
            real=self.features(item['real']).astype(np.float32))


def group_by_class(results: Sequence[Dict[str, Any]],
                   keys: Sequence[str]) -> Dict[int, Dict[str, Any]]:
    """Merge entries of the same ``class_idx`` (concatenating ``keys``).

    Args:
        results (Sequence[dict]): Entries with ``class_idx``,
            ``class_name`` and array fields ``keys``.
        keys (Sequence[str]): Fields to concatenate along axis 0.

    Returns:
        Dict[int, dict]: Per class ``class_name`` and the merged fields.
    """
    grouped: Dict[int, Dict[str, Any]] = {}
    for res in results:
        entry = grouped.setdefault(
            res['class_idx'],
            dict(class_name=res['class_name'], **{k: []
                                                  for k in keys}))
        for k in keys:
            entry[k].append(res[k])
    for entry in grouped.values():
        for k in keys:
            entry[k] = np.concatenate(entry[k], axis=0)
    return grouped


def log_per_class(metric: str, values: Dict[str, float]) -> None:
    """Log a per-class dict at DEBUG level."""
    text = ', '.join(f'{name}: {value:.4f}' for name, value in values.items())
    print_log(
        f'{metric} per class: {{{text}}}',
        logger='current',
        level=logging.DEBUG)
