"""LPIPS v0.1 (VGG16) distances from LOCAL weight files only."""
import os.path as osp
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from metagan_mm.checkpoint import load_checkpoint_file
from metagan_mm.registry import MODELS

#: Where the two files come from; shown when one is missing or wrong.
WEIGHTS_HINT = (
    'No metric downloads anything. LPIPS (VGG) needs two files, copied '
    'from a machine with internet access: (a) torchvision\'s ImageNet VGG16 '
    '"vgg16-397923af.pth" (https://download.pytorch.org/models/vgg16-'
    '397923af.pth, or ~/.cache/torch/hub/checkpoints/ where torchvision '
    'keeps it), given as vgg_weights (config: FewShotLPIPS\'s '
    'feature_net.vgg_weights, default from $METAGAN_LPIPS_VGG16); (b) the '
    'lpips package\'s learned linear layers "weights/v0.1/vgg.pth" (in the '
    'package, `pip install lpips`, or https://github.com/richzhang/'
    'PerceptualSimilarity/raw/master/lpips/weights/v0.1/vgg.pth), given as '
    'lin_weights (config: feature_net.lin_weights, default from '
    '$METAGAN_LPIPS_LIN). See configs/_base_/feature_nets/lpips_offline.py.')

#: Channels of the five VGG16 layers LPIPS compares (relu1_2 ... relu5_3).
CHANNELS = (64, 128, 256, 512, 512)
#: End (exclusive) of each layer's slice of ``vgg16().features``.
_SLICE_ENDS = (4, 9, 16, 23, 30)
#: LPIPS's input scaling layer (inputs in [-1, 1]).
_SHIFT = (-.030, -.088, -.188)
_SCALE = (.458, .448, .450)


def _vgg16_features() -> nn.Sequential:
    """torchvision's VGG16 convolutional layers up to relu5_3, WITHOUT
    weights (nothing is downloaded)."""
    from torchvision.models.vgg import cfgs, make_layers
    return make_layers(cfgs['D'], batch_norm=False)[:_SLICE_ENDS[-1]]


def _read_state(path: Optional[str], what: str) -> Dict[str, torch.Tensor]:
    """A state dict from ``path`` by the safe loader, or a clear error."""
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'LPIPSVGG: {what} file {path!r} not found. {WEIGHTS_HINT}')
    state = load_checkpoint_file(path, trust=False)
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    if not isinstance(state, dict):
        raise ValueError(f'LPIPSVGG: {path} holds a {type(state).__name__}, '
                         f'not the {what} state dict. {WEIGHTS_HINT}')
    return state


def _pick(state: Dict[str, torch.Tensor], path: str, what: str,
          wanted: Dict[str, torch.Size]) -> Dict[str, torch.Tensor]:
    """The ``wanted`` entries of ``state``, checked by name and shape."""
    missing = [k for k in wanted if k not in state]
    wrong = [
        f'{k} {tuple(state[k].shape)} (expected {tuple(s)})'
        for k, s in wanted.items()
        if k in state and tuple(state[k].shape) != tuple(s)
    ]
    if missing or wrong:
        problem = (f'lacks {missing[:3]}'
                   if missing else f'has wrong shapes: {", ".join(wrong[:3])}')
        raise ValueError(f'LPIPSVGG: {path} is not the {what} file: it '
                         f'{problem}. {WEIGHTS_HINT}')
    return {k: state[k] for k in wanted}


@MODELS.register_module()
class LPIPSVGG(nn.Module):
    """LPIPS v0.1 with the VGG16 backbone (Zhang et al., CVPR 2018).

    The distance of two images is the sum over VGG16's relu1_2, relu2_2,
    relu3_3, relu4_3 and relu5_3 of the spatial mean of the learned
    channel-weighted squared difference of the channel-normalised
    features, as the ``lpips`` package computes ``lpips.LPIPS(net='vgg')``
    (its input scaling layer included). Both weight files are read from
    local paths by the safe loader (tensors only, nothing is executed or
    downloaded); a missing or wrong file raises an error naming it, where
    such a file comes from and the config key to set.

    Args:
        vgg_weights (str): torchvision's ``vgg16-397923af.pth`` (its
            ``features.*`` entries are used).
        lin_weights (str): The ``lpips`` package's
            ``weights/v0.1/vgg.pth`` (``lin0.model.1.weight`` ...
            ``lin4.model.1.weight``).
    """

    def __init__(self, vgg_weights: str, lin_weights: str) -> None:
        super().__init__()
        self.features = _vgg16_features()
        vgg_state = _read_state(vgg_weights, 'VGG16 (vgg16-397923af.pth)')
        wanted = {
            f'features.{k}': v.shape
            for k, v in self.features.state_dict().items()
        }
        picked = _pick(vgg_state, vgg_weights, 'VGG16 (vgg16-397923af.pth)',
                       wanted)
        self.features.load_state_dict({
            k[len('features.'):]: v
            for k, v in picked.items()
        })
        what = 'LPIPS v0.1 linear layers (lpips/weights/v0.1/vgg.pth)'
        lin_state = _read_state(lin_weights, what)
        wanted = {
            f'lin{i}.model.1.weight': torch.Size((1, c, 1, 1))
            for i, c in enumerate(CHANNELS)
        }
        lins = _pick(lin_state, lin_weights, what, wanted)
        # [1, C, 1, 1] channel weights of the five layers
        self.lins = nn.ParameterList(
            nn.Parameter(lins[k].float(), requires_grad=False) for k in wanted)
        self.register_buffer('shift', torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer('scale', torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.eval()
        for param in self.parameters():
            param.requires_grad_(False)

    @property
    def is_pretrained(self) -> bool:
        """Always True: weights come from files."""
        return True

    def normalised_features(self, images: torch.Tensor) -> List[torch.Tensor]:
        """The five channel-normalised VGG16 feature maps of ``images``.

        Args:
            images (Tensor): ``[N, 3, H, W]`` RGB in ``[-1, 1]`` (one
                channel is repeated to three).

        Returns:
            List[Tensor]: ``[N, C_l, H_l, W_l]`` unit-norm along channels.
        """
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError('LPIPSVGG: expected [N, 1|3, H, W] images, got '
                             f'{tuple(images.shape)}')
        x = images.expand(-1, 3, -1, -1).to(self.shift)
        x = (x - self.shift) / self.scale
        outs, start = [], 0
        for end in _SLICE_ENDS:
            x = self.features[start:end](x)
            start = end
            norm = x.pow(2).sum(dim=1, keepdim=True).sqrt()
            outs.append(x / (norm + 1e-10))
        return outs

    def distance(self, feats0: List[torch.Tensor],
                 feats1: List[torch.Tensor]) -> torch.Tensor:
        """LPIPS of paired (or broadcast) normalised features.

        Args:
            feats0 (List[Tensor]): :meth:`normalised_features` of one side.
            feats1 (List[Tensor]): Of the other side (broadcastable).

        Returns:
            Tensor: ``[N]`` distances.
        """
        total = 0
        for lin, f0, f1 in zip(self.lins, feats0, feats1):
            total = total + ((f0 - f1).pow(2) * lin).sum(1).mean((-2, -1))
        return total

    def forward(self, images0: torch.Tensor,
                images1: torch.Tensor) -> torch.Tensor:
        """LPIPS distances of image pairs.

        Args:
            images0 (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.
            images1 (Tensor): ``[N, C, H, W]`` in ``[-1, 1]``.

        Returns:
            Tensor: ``[N]`` distances (0 for identical images).
        """
        return self.distance(
            self.normalised_features(images0),
            self.normalised_features(images1))
