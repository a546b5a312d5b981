"""FID of few-shot generations: pooled over unseen classes and per class."""
from typing import Any, Dict, Sequence

import numpy as np

from metagan_mm.registry import METRICS
from ..functional import fid_from_features
from .base_fewshot_metric import (FewShotFeatureMetric, group_by_class,
                                  log_per_class)


@METRICS.register_module()
class FewShotFID(FewShotFeatureMetric):
    """Frechet distance between generated and real features.

    ``fid``: all generated images of all evaluated (unseen) classes against
    all their real reference images (LoFGAN protocol). ``fid_class_mean``:
    the mean over classes of the per-class FID (each class's generations
    against its own references; classes with < 2 images on either side are
    skipped). Small per-class sets make per-class FID strongly biased
    upwards: compare it only between runs with equal set sizes. Per-class
    values are logged at DEBUG level.

    Output keys (with the prefix, default ``'fewshot'``):
    ``fewshot/fid``, ``fewshot/fid_class_mean``.

    Args:
        feature_net (dict | nn.Module): Feature network config, e.g.
            ``dict(type='DomainFeatureExtractor', checkpoint=...)``.
        per_class (bool): Also compute the per-class FIDs. Defaults to True.
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``
            (see :class:`FewShotFeatureMetric`).
    """

    def __init__(self,
                 feature_net,
                 per_class: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(feature_net, **kwargs)
        self.per_class = per_class

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Pooled and per-class FID.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``fid`` and (``per_class``) ``fid_class_mean``.
        """
        grouped = group_by_class(results, ('fake', 'real'))
        fake = np.concatenate([g['fake'] for g in grouped.values()])
        real = np.concatenate([g['real'] for g in grouped.values()])
        metrics = dict(fid=fid_from_features(fake, real))
        if self.per_class:
            per_class = {
                g['class_name']: fid_from_features(g['fake'], g['real'])
                for g in grouped.values()
                if len(g['fake']) >= 2 and len(g['real']) >= 2
            }
            metrics['fid_class_mean'] = (
                float(np.mean(list(per_class.values())))
                if per_class else float('nan'))
            log_per_class('FewShotFID', per_class)
        return metrics
