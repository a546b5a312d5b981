"""A DCGAN with channel-wise LayerNorm in FIGR's spirit (plain nn.Module).

Not FIGR's own networks: 4x4 strided (transposed) convolutions, ReLU /
LeakyReLU, LayerNorm over ``C x H x W`` with a per-channel affine, 1.07M
generator and 0.66M discriminator parameters at 32x32 and full width.
FIGR's layers (5x5 convolutions, PReLU, per-element LayerNorm, 17.9M +
18.0M parameters) are in :mod:`.figr_original_dcgan`.

No running statistics anywhere, so both networks run under ``torch.func.vmap``
(batched inner loops).
"""
from typing import List, Tuple

import torch
from torch import Tensor, nn

from ._common import (down_layers, init_discriminator, init_generator,
                      layer_norm)


class FIGRDCGANGenerator(nn.Module):
    """DCGAN generator: linear -> 4x4, then stride-2 transposed convs.

    Args:
        noise_size: Noise dimension.
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        base_channels: Channels of the last hidden layer; earlier layers
            double it at every lower resolution.
    """

    def __init__(self,
                 noise_size: int = 100,
                 out_scale: int = 32,
                 out_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        n_up = init_generator(self, noise_size, out_scale, out_channels,
                              base_channels)
        ch = base_channels * 2**(n_up - 1)
        self._top = ch
        self.fc = nn.Linear(noise_size, ch * 16)
        self.fc_norm = layer_norm(ch)
        layers: List[nn.Module] = []
        for _ in range(n_up - 1):
            layers += [
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1),
                layer_norm(ch // 2),
                nn.ReLU()
            ]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, out_channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    @property
    def output_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of generated images."""
        return (self.out_channels, self.out_scale, self.out_scale)

    def forward(self, noise: Tensor) -> Tensor:
        """Map ``[N, noise_size]`` noise to ``[N, C, S, S]`` images in
        [-1, 1]."""
        return self.decode(self.fc(noise))

    def decode(self, hidden: Tensor) -> Tensor:
        """The layers after the first linear one: ``[N, 16 * top]`` to
        images."""
        x = hidden.reshape(hidden.shape[0], self._top, 4, 4)
        return self.body(torch.relu(self.fc_norm(x)))


class FIGRDCGANDiscriminator(nn.Module):
    """DCGAN discriminator: stride-2 convs with LayerNorm, linear head.

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        base_channels: Channels of the first conv; doubled at every stage.
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        n_down = init_discriminator(self, in_scale, in_channels, base_channels)
        layers, ch = down_layers(in_channels, base_channels, n_down)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(ch * 16, 1)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor) -> Tensor:
        """Map ``[N, C, S, S]`` images to ``[N, 1]`` scores."""
        return self.head(self.body(img).flatten(1))
