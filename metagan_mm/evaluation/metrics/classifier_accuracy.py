"""Top-1 accuracy of a classifier (the domain feature network's held-out
images)."""
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from metagan_mm.registry import METRICS


@METRICS.register_module()
class ClassifierAccuracy(BaseMetric):
    """Share of images whose predicted class is their label.

    Reads ``pred_label`` and ``gt_label`` from each prediction (the
    ``'predict'`` mode of :class:`DomainClassifier`). Output key:
    ``<prefix>/accuracy``; NaN without images.

    Args:
        collect_device (str): Where results are gathered across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the output key. Defaults to
            ``'heldout'``.
    """

    default_prefix = 'heldout'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Record whether each prediction is right.

        Args:
            data_batch (dict): The batch (unused).
            data_samples (Sequence[dict]): ``dict(pred_label, gt_label)``
                per image.
        """
        self.results.extend(
            int(s['pred_label']) == int(s['gt_label']) for s in data_samples)

    def compute_metrics(self, results: List[bool]) -> Dict[str, float]:
        """The accuracy of all recorded predictions.

        Args:
            results (List[bool]): One entry per image.

        Returns:
            dict: ``accuracy``.
        """
        if not results:
            return dict(accuracy=float('nan'))
        return dict(accuracy=sum(results) / len(results))
