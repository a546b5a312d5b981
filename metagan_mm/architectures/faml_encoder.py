"""FAML's encoder (Phaphuangwittayakul et al., 2021), LayerNorm variant."""
from typing import List

from torch import nn

from ._conditioning import SetEncoderBase
from ._faml_common import check_faml_args, norm_layer


def _double_conv(cin: int, cout: int, norm: str) -> List[nn.Module]:
    layers: List[nn.Module] = []
    for a, b in ((cin, cout), (cout, cout)):
        layers.append(nn.Conv2d(a, b, 3, 1, 1))
        n = norm_layer(norm, b)
        if n is not None:
            layers.append(n)
        layers.append(nn.ReLU())
    return layers


class FAMLEncoder(SetEncoderBase):
    """FAML's image encoder, with LayerNorm instead of BatchNorm.

    Sizes as in FAML's reference code: four U-Net-style blocks of two 3x3
    convs (norm, ReLU) with 64, 128, 256, 512 channels, a 2x2 max-pool
    before blocks 2-4 (down to ``S / 8``), a linear layer to 128 and
    ``tanh``. FAML normalises with BatchNorm (and switches the encoder to
    eval mode, i.e. running statistics, while D trains); BatchNorm's
    running statistics cannot be updated inside ``torch.func.vmap``, so
    ``norm='layer'`` (LayerNorm over ``C x H x W``) replaces it and
    ``norm='none'`` drops it. 5.74M parameters at 32x32, 1 channel.

    FAML conditions each generation on ONE real image's embedding (no
    pooling), hence ``pooling='none'`` by default here; ``'mean'`` /
    ``'max'`` pool over the K shots like :class:`SupportSetEncoder`.

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        embed_size: Embedding size (FAML: 128).
        norm: ``'layer'`` or ``'none'``.
        pooling: ``'none'`` (FAML), ``'mean'`` or ``'max'``.
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 embed_size: int = 128,
                 norm: str = 'layer',
                 pooling: str = 'none') -> None:
        super().__init__()
        side = check_faml_args(
            type(self).__name__, 'in_scale', in_scale, 'in_channels',
            in_channels, norm)
        self._init_set(in_scale, in_channels, embed_size, pooling)
        self.norm = norm
        layers = _double_conv(in_channels, 64, norm)
        for cin, cout in ((64, 128), (128, 256), (256, 512)):
            layers += [nn.MaxPool2d(2)] + _double_conv(cin, cout, norm)
        layers += [
            nn.Flatten(1),
            nn.Linear(512 * side * side, embed_size),
            nn.Tanh()
        ]
        self.net = nn.Sequential(*layers)
