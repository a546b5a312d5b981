"""The domain feature network as an mmengine model: a classifier of the
meta-training classes, trained by mmengine's Runner."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel

from metagan_mm.registry import MODELS
from .domain_feature_extractor import DomainFeatureExtractor


def random_shift(images: torch.Tensor, shift: int) -> torch.Tensor:
    """Translate each image by up to ``shift`` pixels (edge padding).

    Offsets are drawn from torch's global generator, which the runner
    seeds.

    Args:
        images (Tensor): ``[N, C, H, W]``.
        shift (int): Largest offset in pixels along each axis.

    Returns:
        Tensor: ``[N, C, H, W]``.
    """
    if shift <= 0:
        return images
    n, _, h, w = images.shape
    padded = F.pad(images, (shift, ) * 4, mode='replicate')
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), device=images.device)
    rows = offsets[:, :1] + torch.arange(h, device=images.device)
    cols = offsets[:, 1:] + torch.arange(w, device=images.device)
    batch = torch.arange(n, device=images.device)[:, None, None]
    # [N, H, W, C] gathered at each image's own window
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None]]
    return out.permute(0, 3, 1, 2).contiguous()


@MODELS.register_module()
class DomainClassifier(BaseModel):
    """:class:`DomainFeatureExtractor` trained as a classifier.

    ``tools/train_feature_extractor.py`` trains it with mmengine's Runner
    (``configs/_base_/feature_nets/domain_classifier_train.py``) on a
    :class:`SeenClassImageDataset`; the runner's
    :class:`SaveFeatureNetHook` then writes the extractor alone, the file
    the few-shot metrics read.

    Modes of :meth:`forward`: ``'loss'`` (cross entropy of the features
    after random shifts and dropout, and the batch accuracy to log),
    ``'predict'`` (``dict(pred_label, gt_label)`` per image, for
    :class:`ClassifierAccuracy`) and ``'tensor'`` (class scores).

    Args:
        extractor (dict | DomainFeatureExtractor): The network; it needs
            ``num_classes >= 1``.
        shift (int): Largest random translation in pixels while training.
            Defaults to 2.
        dropout (float): Dropout on the features while training, in
            ``[0, 1)``. Defaults to 0.2.
        data_preprocessor (dict, optional): Normalises the images to
            ``[-1, 1]``, e.g.
            ``dict(type='ImgDataPreprocessor', mean=[127.5], std=[127.5])``.
        init_cfg (dict, optional): mmengine weight initialisation.
    """

    def __init__(self,
                 extractor: Union[dict, DomainFeatureExtractor],
                 shift: int = 2,
                 dropout: float = 0.2,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if isinstance(extractor, dict):
            extractor = MODELS.build(extractor)
        if not isinstance(extractor, DomainFeatureExtractor) or \
                extractor.classifier is None:
            raise ValueError('DomainClassifier: extractor must be a '
                             'DomainFeatureExtractor with num_classes >= 1, '
                             f'got {extractor!r:.80}')
        if shift < 0 or not 0 <= dropout < 1:
            raise ValueError('DomainClassifier: need shift >= 0 and '
                             f'0 <= dropout < 1, got {shift}, {dropout}')
        self.extractor = extractor
        self.shift = int(shift)
        self.dropout = float(dropout)

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[torch.Tensor] = None,
        mode: str = 'tensor'
    ) -> Union[Dict[str, torch.Tensor], List[dict], torch.Tensor]:
        """Losses, predictions or class scores.

        Args:
            inputs (Tensor): ``[N, C, H, W]`` images in ``[-1, 1]`` (after
                the data preprocessor).
            data_samples (Tensor, optional): ``[N]`` class labels; needed
                by ``'loss'`` and ``'predict'``.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

        Returns:
            dict | list | Tensor: ``dict(loss, accuracy)``, one
            ``dict(pred_label, gt_label)`` per image, or ``[N, classes]``
            scores.
        """
        if mode == 'tensor':
            return self.extractor.logits(inputs)
        if data_samples is None:
            raise ValueError(f'DomainClassifier: mode {mode!r} needs the '
                             'labels (data_samples)')
        labels = torch.as_tensor(data_samples, device=inputs.device)
        if mode == 'loss':
            feats = self.extractor.embed_from_trunk(
                self.extractor.multi_layer_features(
                    random_shift(inputs, self.shift))[-1])
            feats = F.dropout(feats, self.dropout, training=self.training)
            logits = self.extractor.classifier(feats)
            return dict(
                loss=F.cross_entropy(logits, labels),
                accuracy=(logits.argmax(1) == labels).float().mean())
        if mode == 'predict':
            pred = self.extractor.logits(inputs).argmax(1)
            return [
                dict(pred_label=int(p), gt_label=int(g))
                for p, g in zip(pred.tolist(), labels.tolist())
            ]
        raise ValueError(f'DomainClassifier: unknown mode {mode!r}; use '
                         "'loss', 'predict' or 'tensor'")
