"""Inception-v3 pool features (2048-d) from a LOCAL weight file only."""
import os.path as osp
import warnings
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from metagan_mm.checkpoint import UnsafeCheckpointError, load_checkpoint_file
from metagan_mm.checkpoint.safe_load import TRUST_HINT, is_trusted
from metagan_mm.registry import MODELS

#: Where to get weights; shown when the file is missing.
WEIGHTS_HINT = (
    'No metric downloads anything: download one of these files on a machine '
    'with internet access, copy it here and pass its path as weights=...: '
    '(a) pytorch-fid\'s port of the TF FID Inception '
    '"pt_inception-2015-12-05-6726825d.pth" from https://github.com/mseitzer/'
    'pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-'
    '6726825d.pth (the one mmagic uses; recommended, style="pytorch_fid"); '
    '(b) StyleGAN2-ADA\'s TorchScript "inception-2015-12-05.pt" from '
    'https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/'
    'metrics/inception-2015-12-05.pt (style="torchscript"); or '
    '(c) torchvision\'s ImageNet weights "inception_v3_google-0cc3c7bd.pth" '
    'from https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.'
    'pth (style="torchvision"; not comparable with published FIDs).')

STYLES = ('auto', 'pytorch_fid', 'torchvision', 'torchscript')
#: Blocks whose outputs :meth:`multi_layer_features` returns.
_LAYER_ENDS = ('maxpool1', 'maxpool2', 'Mixed_6e', 'Mixed_7c')
_SEQUENCE = ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', 'maxpool1',
             'Conv2d_3b_1x1', 'Conv2d_4a_3x3', 'maxpool2', 'Mixed_5b',
             'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c',
             'Mixed_6d', 'Mixed_6e', 'Mixed_7a', 'Mixed_7b', 'Mixed_7c')


def _build_inception(style: str) -> nn.Module:
    """An Inception-v3 skeleton WITHOUT weights (nothing is downloaded)."""
    from torchvision.models import inception_v3
    if style == 'pytorch_fid':
        from mmagic.evaluation.functional.fid_inception import (
            FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2)
        net = inception_v3(
            weights=None,
            num_classes=1008,
            aux_logits=False,
            init_weights=False)
        net.Mixed_5b = FIDInceptionA(192, pool_features=32)
        net.Mixed_5c = FIDInceptionA(256, pool_features=64)
        net.Mixed_5d = FIDInceptionA(288, pool_features=64)
        net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        net.Mixed_7b = FIDInceptionE_1(1280)
        net.Mixed_7c = FIDInceptionE_2(2048)
        return net
    return inception_v3(
        weights=None,
        aux_logits=True,
        init_weights=False,
        transform_input=False)


def _detect_style(state: dict) -> str:
    fc = state.get('fc.weight')
    if fc is not None and fc.shape[0] == 1008:
        return 'pytorch_fid'
    if fc is not None or any(k.startswith('AuxLogits') for k in state):
        return 'torchvision'
    raise ValueError('InceptionFeatureExtractor: the weight file is neither '
                     'a pytorch-fid nor a torchvision Inception-v3 state '
                     f'dict. {WEIGHTS_HINT}')


@MODELS.register_module()
class InceptionFeatureExtractor(nn.Module):
    """Inception-v3 final-pool features (``[N, 2048]``) for FID/KID.

    The weights are read ONLY from the local file ``weights``; a missing
    file raises FileNotFoundError telling where to get one. Nothing is ever
    downloaded. Inputs are images in ``[-1, 1]`` (RGB; one channel is
    repeated to three), resized bilinearly to 299x299.

    Args:
        weights (str): Local weight file: pytorch-fid's
            ``pt_inception-2015-12-05-6726825d.pth`` state dict, torchvision's
            ``inception_v3_google-*.pth`` state dict, or StyleGAN's
            TorchScript ``inception-2015-12-05.pt``.
        style (str): ``'auto'`` (detect from the file), ``'pytorch_fid'``,
            ``'torchvision'`` or ``'torchscript'``.
        resize (int): Input side length fed to the network. Defaults to 299.
        trust (bool, optional): Allow a TorchScript file, whose code runs
            when it is loaded (default: whether the file was trusted with
            ``trust_file``, e.g. by ``--trust-feature-net``, or
            ``METAGAN_TRUST_CHECKPOINT`` is true). State-dict files are
            loaded safely unless trusted the same way.
    """

    def __init__(self,
                 weights: Optional[str] = None,
                 style: str = 'auto',
                 resize: int = 299,
                 trust: Optional[bool] = None) -> None:
        super().__init__()
        if style not in STYLES:
            raise ValueError(f'InceptionFeatureExtractor: style must be one '
                             f'of {STYLES}, got {style!r}')
        if not weights or not osp.isfile(weights):
            raise FileNotFoundError(
                f'InceptionFeatureExtractor: weight file {weights!r} not '
                f'found. {WEIGHTS_HINT}')
        self.weights = weights
        self.resize = int(resize)
        self.net: nn.Module
        if style == 'torchscript' or (style == 'auto'
                                      and self._is_torchscript(weights)):
            if not is_trusted(trust, weights):
                raise UnsafeCheckpointError(
                    f'InceptionFeatureExtractor: {weights} is a TorchScript '
                    'file, whose code runs when it is loaded; it was not '
                    'loaded. Use the pytorch-fid state dict instead '
                    '(recommended, see WEIGHTS_HINT in this module), or pass '
                    f'trust=True in the feature net config. {TRUST_HINT}')
            self.style = 'torchscript'
            with warnings.catch_warnings():  # torch.jit.load is deprecated
                warnings.simplefilter('ignore', FutureWarning)
                self.net = torch.jit.load(weights, map_location='cpu')
        else:
            state = load_checkpoint_file(weights)
            if isinstance(state, dict) and 'state_dict' in state:
                state = state['state_dict']
            self.style = _detect_style(state) if style == 'auto' else style
            net = _build_inception(self.style)
            net.load_state_dict(state)
            net.fc = nn.Identity()
            self.net = net
        self.feat_dim = 2048
        self.eval()
        for param in self.parameters():
            param.requires_grad_(False)

    @staticmethod
    def _is_torchscript(path: str) -> bool:
        import zipfile
        if not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith('constants.pkl') for n in zf.namelist())

    @property
    def is_pretrained(self) -> bool:
        """Always True: weights come from a file."""
        return True

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError('InceptionFeatureExtractor: expected [N, 1|3, '
                             f'H, W] images, got {tuple(images.shape)}')
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        device = next(iter(self.net.parameters()), torch.empty(0)).device
        images = images.to(device=device, dtype=torch.float32)
        if self.style == 'torchscript':  # resizes itself; wants uint8 0..255
            return ((images + 1) * 127.5).clamp(0, 255).round().to(torch.uint8)
        return F.interpolate(
            images,
            size=(self.resize, self.resize),
            mode='bilinear',
            align_corners=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Pool features.

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            Tensor: ``[N, 2048]``.
        """
        x = self._prepare(images)
        if self.style == 'torchscript':
            return self.net(x, return_features=True)
        return self.multi_layer_features(images, _prepared=x)[-1].flatten(1)

    def multi_layer_features(self,
                             images: torch.Tensor,
                             _prepared: Optional[torch.Tensor] = None
                             ) -> List[torch.Tensor]:
        """Outputs of maxpool1, maxpool2, Mixed_6e and the final pool.

        Args:
            images (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            List[Tensor]: Four feature maps (the last ``[N, 2048, 1, 1]``).
        """
        if self.style == 'torchscript':
            raise NotImplementedError(
                'InceptionFeatureExtractor: the TorchScript weights give pool '
                'features only; use a pytorch_fid/torchvision file or '
                'DomainFeatureExtractor for multi-layer (LPIPS-style) '
                'distances')
        x = self._prepare(images) if _prepared is None else _prepared
        outs = []
        for name in _SEQUENCE:
            x = getattr(self.net, name)(x)
            if name in _LAYER_ENDS:
                outs.append(x)
        outs[-1] = F.adaptive_avg_pool2d(outs[-1], 1)
        return outs
