"""Intra-class diversity of few-shot generations (LPIPS-style)."""
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch

from metagan_mm.registry import METRICS
from ..functional import mean_pairwise, pairwise_lpips_like
from .base_fewshot_metric import FewShotFeatureMetric, log_per_class


@METRICS.register_module()
class FewShotDiversity(FewShotFeatureMetric):
    """Mean pairwise LPIPS-style distance among the images of one class.

    For each class: multi-layer features of the feature network
    (``multi_layer_features``), unit-normalised over channels, squared
    differences summed over channels, averaged over positions and over
    layers (no learned LPIPS weights), averaged over all pairs of the
    class's generated images; then averaged over classes. The same for the
    real reference images gives ``diversity_real`` (the target level:
    mode collapse gives ``diversity`` << ``diversity_real``, noise gives
    more). Identical images give 0. Per-class values at DEBUG level.

    Output keys: ``fewshot/diversity``, ``fewshot/diversity_real``.

    Args:
        feature_net (dict | nn.Module): Feature network with
            ``multi_layer_features`` (DomainFeatureExtractor, or an
            Inception state-dict file).
        max_images (int, optional): Use at most this many images per class
            and side (the first ones). Defaults to None (all).
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``.
    """

    def __init__(self,
                 feature_net,
                 max_images: Optional[int] = None,
                 **kwargs: Any) -> None:
        super().__init__(feature_net, **kwargs)
        if not hasattr(self.feature_net, 'multi_layer_features'):
            raise TypeError(f'FewShotDiversity: {type(self.feature_net)} has '
                            'no multi_layer_features')
        self.max_images = max_images

    def diversity(self, images: torch.Tensor) -> float:
        """Mean pairwise distance of a set (nan for < 2 images)."""
        if self.max_images is not None:
            images = images[:self.max_images]
        if images.shape[0] < 2:
            return float('nan')
        return mean_pairwise(pairwise_lpips_like(self.layer_features(images)))

    def process_class(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """Diversity of the class's generated and real images."""
        return dict(
            class_idx=item['class_idx'],
            class_name=item['class_name'],
            diversity=self.diversity(item['fake']),
            diversity_real=self.diversity(item['real']))

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Class means of the fake and real diversities.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``diversity`` and ``diversity_real``.
        """
        log_per_class('FewShotDiversity',
                      {r['class_name']: r['diversity']
                       for r in results})
        out = {}
        for key in ('diversity', 'diversity_real'):
            vals = [r[key] for r in results if not np.isnan(r[key])]
            out[key] = float(np.mean(vals)) if vals else float('nan')
        return out
