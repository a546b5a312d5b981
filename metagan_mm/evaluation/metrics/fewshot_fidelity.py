"""Class fidelity of few-shot generations (nearest-class-mean classifier)."""
from typing import Any, Dict, Sequence

from metagan_mm.registry import METRICS
from ..functional import (class_means, nearest_class_mean_loo,
                          nearest_class_mean_predict)
from .base_fewshot_metric import (FewShotFeatureMetric, group_by_class,
                                  log_per_class)


@METRICS.register_module()
class FewShotFidelity(FewShotFeatureMetric):
    """Fraction of generated images recognised as their target class.

    A nearest-class-mean classifier (Euclidean distance between
    unit-normalised features and the class means of the unit-normalised
    features) is fitted on the REAL reference images of all evaluated
    (unseen) classes; ``fidelity`` is the fraction of all generated images
    assigned to the class they were generated for. ``fidelity_real`` is the
    leave-one-out accuracy of the same classifier on the real references
    (what perfect generations would score); ``fidelity_chance`` is 1/number
    of classes. Needs >= 2 classes. Per-class values at DEBUG level.

    Output keys: ``fewshot/fidelity``, ``fewshot/fidelity_real``,
    ``fewshot/fidelity_chance``.

    Args:
        feature_net (dict | nn.Module): Feature network config.
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``.
    """

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Fidelity of the generated and (leave-one-out) real images.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``fidelity``, ``fidelity_real``, ``fidelity_chance``.
        """
        grouped = group_by_class(results, ('fake', 'real'))
        reals = {c: g['real'] for c, g in grouped.items() if len(g['real'])}
        if len(reals) < 2:
            raise ValueError('FewShotFidelity needs real images of >= 2 '
                             f'classes, got {len(reals)}')
        ids, means = class_means(reals)
        hits, total, per_class = 0, 0, {}
        for cls, g in grouped.items():
            if not len(g['fake']):
                continue
            pred = nearest_class_mean_predict(g['fake'], ids, means)
            hits += int((pred == cls).sum())
            total += len(pred)
            per_class[g['class_name']] = float((pred == cls).mean())
        loo = nearest_class_mean_loo(reals)
        num_loo = sum(len(reals[c]) for c in loo)
        log_per_class('FewShotFidelity', per_class)
        return dict(
            fidelity=hits / total if total else float('nan'),
            fidelity_real=(sum(loo[c] * len(reals[c]) for c in loo) /
                           num_loo if num_loo else float('nan')),
            fidelity_chance=1.0 / len(ids))
