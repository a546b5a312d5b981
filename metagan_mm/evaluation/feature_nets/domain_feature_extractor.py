"""A small CNN classifier of the meta-training classes used as a feature
network for the few-shot metrics of small images (Omniglot, glyphs...)."""
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from metagan_mm.checkpoint import load_checkpoint_file, save_atomically
from metagan_mm.registry import MODELS

#: Hint shown when a checkpoint is missing.
TRAIN_HINT = ('Train it on the meta-training classes with `python '
              'tools/train_feature_extractor.py CONFIG` with the config you '
              'test: it saves the network where that config\'s metrics read '
              'it (see docs/evaluation.md).')


def _validate_arch(in_channels: int, img_size: int, channels: Sequence[int],
                   feat_dim: int, num_classes: int) -> None:
    if in_channels not in (1, 3):
        raise ValueError(f'in_channels must be 1 or 3, got {in_channels}')
    if not channels or any(int(c) < 1 for c in channels):
        raise ValueError(f'channels must be positive, got {channels}')
    if img_size < 2**len(channels):
        raise ValueError(f'img_size {img_size} is too small for '
                         f'{len(channels)} pooling blocks')
    if feat_dim < 1 or num_classes < 0:
        raise ValueError('need feat_dim >= 1 and num_classes >= 0')


@MODELS.register_module()
class DomainFeatureExtractor(nn.Module):
    """Feature network trained as a classifier of the meta-training classes.

    Architecture: ``len(channels)`` blocks of conv3x3-BN-ReLU-maxpool2, global
    average pooling, a ``feat_dim`` embedding (linear + ReLU, the features)
    and a linear classifier over ``num_classes``. Inputs are images in
    ``[-1, 1]``; other sizes are resized to ``img_size``, one channel is
    repeated when the network has three.

    For metrics build it from a checkpoint made by
    ``tools/train_feature_extractor.py`` (architecture, weights and the
    names of the classes it was trained on come from the file; the
    architecture arguments are then ignored)::

        dict(type='DomainFeatureExtractor',
             checkpoint='work_dirs/feature_nets/glyphs_domain_32x32.pth')

    Args:
        checkpoint (str, optional): Trained network file. Required for
            metrics (``is_pretrained``); a missing file raises
            FileNotFoundError.
        in_channels (int): 1 or 3. Defaults to 1.
        img_size (int): Input side length. Defaults to 32.
        channels (Sequence[int]): Channels of the conv blocks.
            Defaults to (32, 64, 128).
        feat_dim (int): Feature dimension ``D``. Defaults to 128.
        num_classes (int): Classifier outputs (0: no classifier).
        class_names (Sequence[str]): Names of the training classes.
    """

    def __init__(self,
                 checkpoint: Optional[str] = None,
                 in_channels: int = 1,
                 img_size: int = 32,
                 channels: Sequence[int] = (32, 64, 128),
                 feat_dim: int = 128,
                 num_classes: int = 0,
                 class_names: Sequence[str] = ()) -> None:
        super().__init__()
        state: Optional[Dict[str, Any]] = None
        if checkpoint is not None:
            state = self.load_checkpoint_file(checkpoint)
            arch = state['arch']
            in_channels, img_size = arch['in_channels'], arch['img_size']
            channels, feat_dim = arch['channels'], arch['feat_dim']
            num_classes = arch['num_classes']
            class_names = state.get('class_names', ())
        _validate_arch(in_channels, img_size, channels, feat_dim, num_classes)
        self.in_channels = int(in_channels)
        self.img_size = int(img_size)
        self.channels = tuple(int(c) for c in channels)
        self.feat_dim = int(feat_dim)
        self.num_classes = int(num_classes)
        self.class_names: List[str] = list(class_names)
        self.checkpoint = checkpoint
        self.meta: Dict[str, Any] = {}
        blocks = []
        prev = self.in_channels
        for ch in self.channels:
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(prev, ch, 3, padding=1, bias=False),
                    nn.BatchNorm2d(ch), nn.ReLU(inplace=True)))
            prev = ch
        self.blocks = nn.ModuleList(blocks)
        self.embed = nn.Linear(prev, self.feat_dim)
        self.classifier = (
            nn.Linear(self.feat_dim, self.num_classes)
            if self.num_classes > 0 else None)
        # fixed scale of the output features (set by :meth:`calibrate`)
        self.register_buffer('feature_scale', torch.ones(()))
        if state is not None:
            self.load_state_dict(state['state_dict'])
            self.meta = {k: v for k, v in state.items() if k != 'state_dict'}
            self.eval()

    # ------------------------------------------------------------------
    @staticmethod
    def load_checkpoint_file(path: str) -> Dict[str, Any]:
        """Read a checkpoint of :func:`save`, with clear errors.

        Args:
            path (str): The file.

        Returns:
            dict: ``state_dict``, ``arch``, ``class_names``, ``split_part``...
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'DomainFeatureExtractor: checkpoint {path!r} not found. '
                f'{TRAIN_HINT}')
        state = load_checkpoint_file(path)
        if not isinstance(state, dict) or not {'state_dict', 'arch'
                                               } <= set(state):
            raise ValueError(
                f'DomainFeatureExtractor: {path!r} is not a feature network '
                f'checkpoint (no state_dict/arch). {TRAIN_HINT}')
        return state

    @property
    def is_pretrained(self) -> bool:
        """Whether the weights come from a checkpoint."""
        return self.checkpoint is not None

    def arch(self) -> Dict[str, Any]:
        """The architecture arguments (stored in checkpoints)."""
        return dict(
            in_channels=self.in_channels,
            img_size=self.img_size,
            channels=list(self.channels),
            feat_dim=self.feat_dim,
            num_classes=self.num_classes)

    def save(self, path: str, **meta: Any) -> None:
        """Save weights, architecture, class names and ``meta`` to ``path``.

        Atomically: a kill or a full disk leaves the previous file whole
        (every config's metrics read this one shared file).

        Args:
            path (str): Output file.
            **meta: Extra entries (``split_part``, ``val_accuracy``...).
        """
        state = dict(
            state_dict={
                k: v.cpu()
                for k, v in self.state_dict().items()
            },
            arch=self.arch(),
            class_names=list(self.class_names),
            **meta)
        save_atomically(lambda f: torch.save(state, f), path)

    # ------------------------------------------------------------------
    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4:
            raise ValueError('DomainFeatureExtractor: expected [N, C, H, W] '
                             f'images, got shape {tuple(images.shape)}')
        c = images.shape[1]
        if c != self.in_channels:
            if c == 1 and self.in_channels == 3:
                images = images.expand(-1, 3, -1, -1)
            else:
                raise ValueError(
                    f'DomainFeatureExtractor: network takes {self.in_channels}'
                    f'-channel images, got {c} channels')
        if images.shape[-2:] != (self.img_size, self.img_size):
            images = F.interpolate(
                images,
                size=(self.img_size, self.img_size),
                mode='bilinear',
                align_corners=False,
                antialias=images.shape[-1] > self.img_size)
        param = self.embed.weight
        return images.to(device=param.device, dtype=param.dtype)

    def _trunk(self, images: torch.Tensor) -> List[torch.Tensor]:
        x = self._prepare(images)
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
            x = F.max_pool2d(x, 2)
        return outs

    def multi_layer_features(self, images: torch.Tensor) -> List[torch.Tensor]:
        """Activations of every conv block (after ReLU, before pooling).

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            List[Tensor]: ``[N, C_l, H_l, W_l]`` per block, for
            LPIPS-style distances.
        """
        return self._trunk(images)

    def embed_from_trunk(self, last: torch.Tensor) -> torch.Tensor:
        """Unscaled features from the last block's activation."""
        pooled = F.max_pool2d(last, 2).mean(dim=(2, 3))
        return F.relu(self.embed(pooled))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features times the fixed ``feature_scale``.

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            Tensor: ``[N, feat_dim]``.
        """
        return self.embed_from_trunk(self._trunk(images)[-1]) * \
            self.feature_scale

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Class scores ``[N, num_classes]`` (training and accuracy)."""
        if self.classifier is None:
            raise RuntimeError('DomainFeatureExtractor has no classifier '
                               '(num_classes=0)')
        return self.classifier(self.embed_from_trunk(self._trunk(images)[-1]))

    @torch.no_grad()
    def calibrate(self, images: torch.Tensor, batch_size: int = 256) -> float:
        """Fix ``feature_scale`` so that ``mean |f|^2 / D = 1`` on images.

        Called by the trainer on the training images, so feature magnitudes
        (and FID/KID values, whose kernel ``(x.y / D + 1)^3`` is scale
        sensitive) are comparable between trained networks.

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.
            batch_size (int): Images per forward pass.

        Returns:
            float: The scale.
        """
        training = self.training
        self.eval()
        sq = torch.cat([
            self.embed_from_trunk(self._trunk(
                images[i:i + batch_size])[-1]).pow(2).sum(1)
            for i in range(0, images.shape[0], batch_size)
        ])
        scale = float((sq.mean() / self.feat_dim).clamp_min(1e-12).rsqrt())
        self.feature_scale.fill_(scale)
        self.train(training)
        return scale
