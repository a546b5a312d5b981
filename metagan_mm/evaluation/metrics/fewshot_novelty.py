"""Novelty of few-shot generations: copying the shots is not generating."""
from typing import Any, Dict, Sequence

import numpy as np

from metagan_mm.registry import METRICS
from .base_fewshot_metric import FewShotFeatureMetric, log_per_class


def nearest_distances(features: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row of ``features`` to its nearest
    row of ``support``.

    Args:
        features: ``[N, D]``.
        support: ``[K, D]``, ``K >= 1``.

    Returns:
        np.ndarray: ``[N]`` float64 distances.
    """
    x = np.asarray(features, dtype=np.float64)
    s = np.asarray(support, dtype=np.float64)
    if x.ndim != 2 or s.ndim != 2 or x.shape[1] != s.shape[1] or not len(s):
        raise ValueError('nearest_distances: need [N, D] features and a '
                         f'non-empty [K, D] support, got {x.shape} and '
                         f'{s.shape}')
    sq = ((x * x).sum(1)[:, None] + (s * s).sum(1)[None, :] - 2.0 * x @ s.T)
    return np.sqrt(np.clip(sq, 0.0, None).min(1))


def nearest_l1(images: Any, support: Any) -> np.ndarray:
    """Mean absolute pixel difference of every image to its nearest
    support image.

    Args:
        images: ``[N, C, H, W]`` (tensor or array).
        support: ``[K, C, H, W]``, ``K >= 1``, same image shape.

    Returns:
        np.ndarray: ``[N]`` float64 distances.
    """
    x = np.asarray(images, dtype=np.float64)
    s = np.asarray(support, dtype=np.float64)
    if x.shape[1:] != s.shape[1:] or not len(s):
        raise ValueError('nearest_l1: need [N, ...] images and a non-empty '
                         f'[K, ...] support of the same shape, got {x.shape} '
                         f'and {s.shape}')
    x, s = x.reshape(len(x), -1), s.reshape(len(s), -1)
    return np.abs(x[:, None] - s[None]).mean(2).min(1)


@METRICS.register_module()
class FewShotNovelty(FewShotFeatureMetric):
    """Distance of generations to the nearest support image vs the real
    references' own distance to it.

    A conditioned generator can reach high fidelity by reproducing its K
    shots. For every generated image of a class: the Euclidean distance,
    in the feature network's pool features (the space of FID and
    fidelity), to the nearest of the class's K support images; ``novelty``
    is the mean over all generations of all classes. ``novelty_real`` is
    the same for the class's real reference images (other drawings of the
    class, never the support itself), and ``novelty_ratio = novelty /
    novelty_real``: about 1 = generations are as far from the shots as
    new real drawings are; near 0 = copies of the shots; well above 1 =
    far from the shots (off-class or noise: read it with fidelity). Per
    class ratios at DEBUG level. Needs ``support`` in the class dicts.

    The same in pixel space (``pixel_novelty*``: the mean absolute pixel
    difference, in ``[-1, 1]`` units, to the nearest support image): a
    fusion generator can be far from its shots in features and still hug
    them in pixels.

    Output keys: ``fewshot/novelty``, ``fewshot/novelty_real``,
    ``fewshot/novelty_ratio``, ``fewshot/pixel_novelty``,
    ``fewshot/pixel_novelty_real``, ``fewshot/pixel_novelty_ratio``.

    Args:
        feature_net (dict | nn.Module): Feature network config.
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``.
    """

    def process_class(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """Nearest-support distances of the class's fake and real images."""
        if item.get('support') is None or not len(item['support']):
            raise KeyError(
                f'FewShotNovelty: class {item["class_name"]!r} has no '
                'support images; the evaluation loop must pass `support`.')
        support = self.features(item['support'])
        return dict(
            class_idx=item['class_idx'],
            class_name=item['class_name'],
            fake=nearest_distances(self.features(item['fake']),
                                   support).astype(np.float32),
            real=nearest_distances(self.features(item['real']),
                                   support).astype(np.float32),
            pixel_fake=nearest_l1(item['fake'], item['support']),
            pixel_real=nearest_l1(item['real'], item['support']))

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Mean nearest-support distances and their ratios.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``novelty``, ``novelty_real``, ``novelty_ratio`` and the
            same with a ``pixel_`` prefix.
        """
        per_class = {
            r['class_name']: float(r['fake'].mean() / r['real'].mean())
            for r in results
            if len(r['fake']) and len(r['real']) and r['real'].mean() > 0
        }
        log_per_class('FewShotNovelty (ratio)', per_class)
        out = {}
        for prefix in ('', 'pixel_'):
            fake, real = (
                np.concatenate([r[f'{prefix}{k}']
                                for r in results]).astype(np.float64)
                for k in ('fake', 'real'))
            novelty = float(fake.mean()) if len(fake) else float('nan')
            novelty_real = float(real.mean()) if len(real) else float('nan')
            out[f'{prefix}novelty'] = novelty
            out[f'{prefix}novelty_real'] = novelty_real
            out[f'{prefix}novelty_ratio'] = (
                novelty / novelty_real if novelty_real > 0 else float('nan'))
        return out
