"""Run one of mmagic's weight-free generative metrics on the per-class dicts.

mmagic's ``SWD`` (``SlicedWassersteinDistance``) takes data samples with
``gt_img`` and ``fake_img`` (``[C, H, W]`` in ``[0, 255]``, one real per
fake) and ``MS_SSIM`` (``MultiScaleStructureSimilarity``) takes
``fake_img`` only and scores consecutive pairs. Both are built for
mmagic's own sampling loop; this adapter feeds them from the few-shot
class dicts instead.
"""
import copy
import inspect
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import get_world_size
from mmengine.evaluator import BaseMetric

from metagan_mm.registry import METRICS
from .base_fewshot_metric import parse_class_item

INPUT_MODES = ('auto', 'pairs', 'fake')


def _to_255(images: torch.Tensor) -> torch.Tensor:
    return ((images.detach().float().cpu() + 1.0) * 127.5).clamp(0.0, 255.0)


@METRICS.register_module()
class FewShotMMagicMetric(BaseMetric):
    """Adapter: mmagic's weight-free metrics on the few-shot class dicts.

    ``process`` keeps, per class, the generated and real images in
    ``[0, 255]``; ``compute_metrics`` builds the wrapped metric (filling
    ``fake_nums`` and, for SWD, ``image_shape`` from the data), feeds it and
    returns its result. Inputs per class:

    * ``'pairs'`` (SWD and default): ``n = min(M, R)`` samples
      ``dict(fake_img=fake[i], gt_img=real[i])`` -- SWD pooled over the
      evaluated classes with equal numbers of real and generated images
      per class;
    * ``'fake'`` (MS-SSIM): the class's generated images (an even number),
      so MS-SSIM compares pairs of generations of ONE class (intra-class
      similarity: lower = more diverse).

    mmagic's SWD/MS-SSIM draw random patches/directions from the global
    numpy/torch generators; the adapter seeds them with ``seed`` and then
    restores their state, so results are deterministic.

    Output keys: the wrapped metric's keys under the prefix (default
    ``'fewshot_<name>'``), e.g. ``fewshot_swd/32``, ``fewshot_swd/16``,
    ``fewshot_swd/avg`` (x 1e3, as mmagic) or ``fewshot_ms-ssim/avg``.

    Args:
        metric (dict): The mmagic metric config, e.g. ``dict(type='SWD')``
            or ``dict(type='MS_SSIM')``; ``fake_nums``/``image_shape`` may be
            left out. Metrics needing pretrained networks (FID, IS, PR...)
            are not supported: use :class:`FewShotFID` / :class:`FewShotKID`.
        inputs (str): ``'auto'`` (``'fake'`` for MS-SSIM, else
            ``'pairs'``), ``'pairs'`` or ``'fake'``.
        seed (int): Seed of the wrapped metric's randomness.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Output key prefix.
    """

    def __init__(self,
                 metric: dict,
                 inputs: str = 'auto',
                 seed: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        if not isinstance(metric, dict) or 'type' not in metric:
            raise TypeError('FewShotMMagicMetric: metric must be a config '
                            f'dict with a type, got {metric!r}')
        metric_cls = METRICS.get(metric['type'])
        if metric_cls is None:
            raise KeyError(f'FewShotMMagicMetric: {metric["type"]!r} is not '
                           'in the METRICS registry')
        if inputs not in INPUT_MODES:
            raise ValueError(f'FewShotMMagicMetric: inputs must be one of '
                             f'{INPUT_MODES}, got {inputs!r}')
        from mmagic.evaluation.metrics import MultiScaleStructureSimilarity
        if inputs == 'auto':
            inputs = ('fake' if issubclass(
                metric_cls, MultiScaleStructureSimilarity) else 'pairs')
        name = str(getattr(metric_cls, 'name', metric['type']))
        super().__init__(
            collect_device=collect_device,
            prefix=prefix or f'fewshot_{name.lower()}')
        self.metric_cfg = copy.deepcopy(metric)
        self.metric_cls = metric_cls
        self.inputs = inputs
        self.seed = int(seed)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep each class's images in ``[0, 255]`` (one entry per class).

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): The per-class dicts.
        """
        for sample in data_samples:
            item = parse_class_item(sample)
            fake, real = _to_255(item['fake']), _to_255(item['real'])
            if self.inputs == 'pairs':
                n = min(len(fake), len(real))
                fake, real = fake[:n], real[:n]
            else:
                fake, real = fake[:len(fake) // 2 * 2], real[:0]
            self.results.append(
                dict(class_idx=item['class_idx'], fake=fake, real=real))

    def _samples(self, res: Dict[str, Any]) -> List[dict]:
        if self.inputs == 'pairs':
            return [
                dict(fake_img=f, gt_img=r)
                for f, r in zip(res['fake'], res['real'])
            ]
        return [dict(fake_img=f) for f in res['fake']]

    def _build(self, total: int, shape: tuple) -> Any:
        cfg = copy.deepcopy(self.metric_cfg)
        params = inspect.signature(self.metric_cls.__init__).parameters
        # per-device limits divide fake_nums by the world size, and this
        # runs on rank 0 only: make the limit cover every image
        if 'fake_nums' in params:
            cfg['fake_nums'] = max(2, total * max(1, get_world_size()))
            cfg['fake_nums'] += cfg['fake_nums'] % 2
        if 'image_shape' in params and cfg.get('image_shape') is None:
            cfg['image_shape'] = shape
        elif 'image_shape' in params:
            cfg['image_shape'] = tuple(cfg['image_shape'])
        return METRICS.build(cfg)

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Feed the wrapped metric and compute it.

        Args:
            results (Sequence[dict]): Entries of :meth:`process`.

        Returns:
            dict: The wrapped metric's result.
        """
        results = [r for r in results if len(r['fake'])]
        if not results:
            raise ValueError('FewShotMMagicMetric: no images to evaluate')
        total = sum(len(r['fake']) for r in results)
        shape = tuple(results[0]['fake'].shape[1:])
        np_state = np.random.get_state()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                np.random.seed(self.seed)
                inner = self._build(total, shape)
                for res in sorted(results, key=lambda r: r['class_idx']):
                    inner.process(None, self._samples(res))
                if hasattr(inner, 'num_pairs'):  # MS-SSIM divides by it
                    inner.num_pairs = len(inner.fake_results)
                num_args = len(
                    inspect.signature(inner.compute_metrics).parameters)
                if num_args >= 2:
                    out = inner.compute_metrics(inner.fake_results,
                                                inner.real_results)
                else:
                    out = inner.compute_metrics(inner.fake_results)
        finally:
            np.random.set_state(np_state)
        return {str(k): float(v) for k, v in out.items()}
