"""KID of few-shot generations: pooled over unseen classes and per class."""
from typing import Any, Dict, Optional, Sequence

import numpy as np

from metagan_mm.registry import METRICS
from ..functional import kid_subsets
from .base_fewshot_metric import (FewShotFeatureMetric, group_by_class,
                                  log_per_class)


@METRICS.register_module()
class FewShotKID(FewShotFeatureMetric):
    """Kernel Inception Distance with any feature network.

    Unbiased MMD^2 with the cubic polynomial kernel
    ``k(x, y) = (x.y / D + 1) ** 3``, averaged over ``num_subsets`` random
    subsets of ``subset_size`` images of each side (Binkowski et al. 2018;
    the size is capped at the smaller set, and one full-set estimate is
    used when that covers both sets). Unbiased: it can be slightly negative
    and is ~0 in expectation for equal distributions. Raw values (papers
    often print KID x 1e3).

    ``kid`` / ``kid_std``: all generations of all evaluated classes against
    all their references. ``kid_class_mean``: mean over classes of the
    per-class KID (per-class values are logged at DEBUG level).

    Output keys: ``fewshot/kid``, ``fewshot/kid_std``,
    ``fewshot/kid_class_mean``.

    Args:
        feature_net (dict | nn.Module): Feature network config.
        num_subsets (int): Subsets drawn. Defaults to 100.
        subset_size (int): Images per subset and side. Defaults to 1000.
        degree (int): Kernel degree. Defaults to 3.
        gamma (float, optional): Kernel scale; 1/D when None.
        coef0 (float): Kernel offset. Defaults to 1.
        seed (int): Seed of the subset draws. Defaults to 0.
        per_class (bool): Also compute per-class KIDs. Defaults to True.
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``.
    """

    def __init__(self,
                 feature_net,
                 num_subsets: int = 100,
                 subset_size: int = 1000,
                 degree: int = 3,
                 gamma: Optional[float] = None,
                 coef0: float = 1.0,
                 seed: int = 0,
                 per_class: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(feature_net, **kwargs)
        self.num_subsets = int(num_subsets)
        self.subset_size = int(subset_size)
        self.kernel = dict(degree=int(degree), gamma=gamma, coef0=coef0)
        self.seed = int(seed)
        self.per_class = per_class

    def _kid(self, fake: np.ndarray, real: np.ndarray, seed: int) -> tuple:
        return kid_subsets(fake, real, self.num_subsets, self.subset_size,
                           seed, **self.kernel)

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Pooled and per-class KID.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``kid``, ``kid_std`` and (``per_class``)
            ``kid_class_mean``.
        """
        grouped = group_by_class(results, ('fake', 'real'))
        fake = np.concatenate([g['fake'] for g in grouped.values()])
        real = np.concatenate([g['real'] for g in grouped.values()])
        kid, std = self._kid(fake, real, self.seed)
        metrics = dict(kid=kid, kid_std=std)
        if self.per_class:
            per_class = {
                g['class_name']:
                self._kid(g['fake'], g['real'], self.seed + 1 + cls)[0]
                for cls, g in grouped.items()
                if len(g['fake']) >= 2 and len(g['real']) >= 2
            }
            metrics['kid_class_mean'] = (
                float(np.mean(list(per_class.values())))
                if per_class else float('nan'))
            log_per_class('FewShotKID', per_class)
        return metrics
