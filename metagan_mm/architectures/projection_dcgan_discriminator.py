"""A LayerNorm DCGAN discriminator with a projection condition term.

Miyato & Koyama (2018), "cGANs with Projection Discriminator", for a
continuous condition ``c``: ``score = psi(phi(x)) + <V c, phi(x)>``.
"""
from typing import List, Tuple

import torch
from torch import Tensor, nn

from ._common import init_discriminator, layer_norm
from ._conditioning import ConditionalNet, check_size, maybe_spectral_norm


class ProjectionDCGANDiscriminator(ConditionalNet):
    """DCGAN discriminator conditioned by projection.

    ``phi``: stride-2 4x4 convs (LayerNorm from the second on, LeakyReLU
    0.2) down to 4x4, flattened (the body of the LayerNorm DCGAN
    discriminator); ``psi``: a linear head; ``V``: a bias-free linear map
    of the condition to ``phi``'s size. With ``V = 0`` it is the
    unconditional discriminator, which is how it starts (without spectral
    norm): with PyTorch's default init the projection term was about 30
    times the head's and the inner gradient penalty about 300 at the first
    meta-iteration. 1.19M parameters at 32x32, 1 channel,
    ``condition_size=128``, ``base_channels=64`` (0.52M of them in ``V``).

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        condition_size: Condition (embedding) dimension.
        base_channels: Channels of the first conv; doubled at every stage.
        spectral_norm: Spectral normalisation on every conv and linear layer
            instead of LayerNorm (as SN-GAN and FAML's discriminator). Its
            in-place power iteration cannot run under ``torch.func.vmap``
            in training mode, so it forces the sequential inner loop.
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 condition_size: int = 128,
                 base_channels: int = 64,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        n_down = init_discriminator(self, in_scale, in_channels, base_channels)
        check_size(type(self).__name__, 'condition_size', condition_size)
        self.condition_size = condition_size
        self.spectral_norm = bool(spectral_norm)
        sn = self.spectral_norm
        ch = base_channels
        layers: List[nn.Module] = [
            maybe_spectral_norm(nn.Conv2d(in_channels, ch, 4, 2, 1), sn),
            nn.LeakyReLU(0.2)
        ]
        for _ in range(n_down - 1):
            layers.append(
                maybe_spectral_norm(nn.Conv2d(ch, ch * 2, 4, 2, 1), sn))
            if not sn:
                layers.append(layer_norm(ch * 2))
            layers.append(nn.LeakyReLU(0.2))
            ch *= 2
        self.body = nn.Sequential(*layers)
        self.feature_size = ch * 16
        self.head = maybe_spectral_norm(nn.Linear(self.feature_size, 1), sn)
        embed = nn.Linear(condition_size, self.feature_size, bias=False)
        if not sn:  # start as the unconditional D (SN cannot normalise 0)
            nn.init.zeros_(embed.weight)
        self.embed = maybe_spectral_norm(embed, sn)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor, condition: Tensor) -> Tensor:
        """Score images under a condition.

        Args:
            img: ``[N, C, S, S]``.
            condition: ``[condition_size]`` (shared) or
                ``[N, condition_size]``.

        Returns:
            Tensor: ``[N, 1]`` scores (logits).
        """
        phi = self.body(img).flatten(1)
        cond = self.condition_rows(condition, img.shape[0])
        proj = torch.sum(self.embed(cond) * phi, dim=1, keepdim=True)
        return self.head(phi) + proj
