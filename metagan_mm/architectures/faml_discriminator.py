"""FAML's discriminator (Phaphuangwittayakul et al., 2021)."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

from ._conditioning import ConditionalNet, check_size, maybe_spectral_norm
from ._faml_common import check_faml_args, norm_layer

#: (in, out, kernel, stride) of FAML's seven convs after the input conv.
_CONVS = ((64, 64, 4, 2), (64, 128, 3, 1), (128, 128, 4, 2), (128, 256, 3, 1),
          (256, 256, 4, 2), (256, 512, 3, 1))


class FAMLDiscriminator(ConditionalNet):
    """FAML's (SN-GAN "standard CNN") discriminator, optionally projected.

    Sizes as in FAML's reference code: seven convs, 3x3 stride 1 and 4x4
    stride 2 alternating (64, 64, 128, 128, 256, 256, 512 channels, down to
    ``S / 8``), LeakyReLU 0.1, a linear head on the flattened features.
    FAML's discriminator is spectrally normalised (``spectral_norm=True``,
    the default here) and unconditional (``condition_size=None``). Its
    in-place power iteration cannot run under ``torch.func.vmap`` in
    training mode, so the default forces the sequential inner loop;
    ``spectral_norm=False`` puts LayerNorm after the first six convs (where
    FAML's non-spectral variant has BatchNorm) and runs under vmap.
    2.93M parameters at 32x32, 1 channel, unconditional.

    ``condition_size=int`` adds a projection term ``<V c, phi(x)>``
    (Miyato & Koyama, 2018) on the flattened features (not in FAML;
    ``S^2 / 64 x 512 x condition_size`` more parameters).

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        condition_size: None (FAML: unconditional) or the condition size.
        spectral_norm: Spectral normalisation (FAML) or LayerNorm.
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 condition_size: Optional[int] = None,
                 spectral_norm: bool = True) -> None:
        super().__init__()
        cls = type(self).__name__
        side = check_faml_args(cls, 'in_scale', in_scale, 'in_channels',
                               in_channels)
        if condition_size is not None:
            check_size(cls, 'condition_size', condition_size)
        self.in_scale = in_scale
        self.in_channels = in_channels
        self.condition_size = condition_size
        self.spectral_norm = sn = bool(spectral_norm)
        convs = ((in_channels, 64, 3, 1), ) + _CONVS
        layers: List[nn.Module] = []
        for i, (cin, cout, k, s) in enumerate(convs):
            layers.append(
                maybe_spectral_norm(nn.Conv2d(cin, cout, k, s, 1), sn))
            if not sn and i < len(convs) - 1:
                layers.append(norm_layer('layer', cout))
            layers.append(nn.LeakyReLU(0.1))
        self.body = nn.Sequential(*layers)
        self.feature_size = 512 * side * side
        self.head = maybe_spectral_norm(nn.Linear(self.feature_size, 1), sn)
        self.embed = (None if condition_size is None else maybe_spectral_norm(
            nn.Linear(condition_size, self.feature_size, bias=False), sn))

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self,
                img: Tensor,
                condition: Optional[Tensor] = None) -> Tensor:
        """Score images.

        Args:
            img: ``[N, C, S, S]``.
            condition: Needed iff ``condition_size`` is set:
                ``[condition_size]`` or ``[N, condition_size]``.

        Returns:
            Tensor: ``[N, 1]`` scores (logits).
        """
        phi = self.body(img).flatten(1)
        out = self.head(phi)
        if self.embed is None:
            if condition is not None:
                raise ValueError(f'{type(self).__name__} is unconditional '
                                 '(condition_size=None) but got a condition')
            return out
        if condition is None:
            raise ValueError(f'{type(self).__name__}: condition_size='
                             f'{self.condition_size} needs a condition')
        cond = self.condition_rows(condition, img.shape[0])
        return out + torch.sum(self.embed(cond) * phi, dim=1, keepdim=True)
