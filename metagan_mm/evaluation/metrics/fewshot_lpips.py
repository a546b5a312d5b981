"""LPIPS diversity of few-shot generations within each class (LoFGAN)."""
from typing import Any, Dict, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from metagan_mm.registry import METRICS
from .base_fewshot_metric import (FewShotFeatureMetric, group_by_class,
                                  log_per_class)


def lofgan_lpips_inputs(images: torch.Tensor, size: int,
                        lofgan_rescale: bool) -> torch.Tensor:
    """Images in ``[-1, 1]`` as LoFGAN's ``main_metric.py`` feeds LPIPS.

    LoFGAN saves the images as 8-bit PNGs (``ToPILImage``: ``255 (x + 1) /
    2``, truncated), resizes them to ``size`` with ``cv2.resize``
    (bilinear, no anti-aliasing, 8 bits again) and maps them to ``[-1, 1]``
    with ``lpips.im2tensor``; this does the same with ``F.interpolate``.
    LoFGAN then calls LPIPS with ``normalize=True``, which maps the
    ``[-1, 1]`` images once more by ``2x - 1`` (to ``[-3, 1]``):
    ``lofgan_rescale`` does that too.

    Args:
        images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.
        size (int): Side length of the resize.
        lofgan_rescale (bool): Apply LoFGAN's second ``2x - 1``.

    Returns:
        Tensor: ``[N, C, size, size]`` float images.
    """
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).floor()
    if tuple(pixels.shape[-2:]) != (size, size):
        pixels = F.interpolate(
            pixels, size=(size, size), mode='bilinear',
            align_corners=False).round().clamp(0, 255)
    out = pixels / 127.5 - 1
    return 2 * out - 1 if lofgan_rescale else out


@METRICS.register_module()
class FewShotLPIPS(FewShotFeatureMetric):
    """Mean LPIPS between the generated images of a class (diversity).

    LoFGAN's protocol (``main_metric.py``): per class, the mean LPIPS (VGG)
    over all pairs ``i < j`` of its generations, resized to 32x32; then the
    mean over classes. Higher is more diverse. With ``lofgan_rescale`` the
    inputs are mapped as LoFGAN's script maps them (see
    :func:`lofgan_lpips_inputs`), so the numbers compare with the papers'
    (LoFGAN and the work that reuses its script); without it LPIPS sees
    ``[-1, 1]`` as its authors define it. Per-class values are logged at
    DEBUG level.

    Output key (with the prefix, default ``'fewshot'``): ``fewshot/lpips``.

    Args:
        feature_net (dict | nn.Module): The LPIPS network, e.g.
            ``dict(type='LPIPSVGG', vgg_weights=..., lin_weights=...)``
            (``normalised_features`` and ``distance``).
        resize (int): Side length the generations are resized to.
            Defaults to 32 (LoFGAN).
        lofgan_rescale (bool): Feed LPIPS ``2x - 1`` of the ``[-1, 1]``
            images, as LoFGAN's script does. Defaults to False.
        **kwargs: ``batch_size``, ``device``, ``collect_device``, ``prefix``
            (see :class:`FewShotFeatureMetric`).
    """

    def __init__(self,
                 feature_net: Union[dict, nn.Module],
                 resize: int = 32,
                 lofgan_rescale: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(feature_net, **kwargs)
        self.resize = int(resize)
        self.lofgan_rescale = bool(lofgan_rescale)

    @torch.no_grad()
    def pairwise(self, images: torch.Tensor) -> np.ndarray:
        """LPIPS of every pair ``i < j`` of ``images``, in row order.

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            np.ndarray: ``N (N - 1) / 2`` float64 distances.
        """
        net = self.feature_net
        x = lofgan_lpips_inputs(images, self.resize, self.lofgan_rescale)
        chunks = [
            net.normalised_features(x[i:i + self.batch_size].to(self.device))
            for i in range(0, x.shape[0], self.batch_size)
        ]
        feats = [torch.cat(layer) for layer in zip(*chunks)]
        dists = [
            net.distance([f[i:i + 1]
                          for f in feats], [f[i + 1:] for f in feats])
            for i in range(x.shape[0] - 1)
        ]
        if not dists:
            return np.zeros(0)
        return torch.cat(dists).double().cpu().numpy()

    def process_class(self, item: Dict[str, Any]) -> Dict[str, Any]:
        """The results entry of one class: its generations' pair LPIPS."""
        return dict(
            class_idx=item['class_idx'],
            class_name=item['class_name'],
            dists=self.pairwise(item['fake']))

    def compute_metrics(self, results: Sequence[Dict[str, Any]]) -> dict:
        """Mean over classes of the class's mean pair LPIPS.

        Args:
            results (Sequence[dict]): Entries of :meth:`process_class`.

        Returns:
            dict: ``lpips`` (NaN if no class has two generations).
        """
        grouped = group_by_class(results, ('dists', ))
        per_class = {
            g['class_name']: float(g['dists'].mean())
            for g in grouped.values() if len(g['dists'])
        }
        log_per_class('FewShotLPIPS', per_class)
        return dict(
            lpips=float(np.mean(list(per_class.values()))
                        ) if per_class else float('nan'))
