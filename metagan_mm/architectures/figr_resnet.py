"""A ResNet GAN with channel-wise LayerNorm in FIGR's spirit (plain nn.Module).

Not FIGR's own ResNet (that one is in :mod:`.figr_original_resnet`): one
pre-activation residual block per resolution with 1x1 skip convolutions.

No running statistics anywhere, so both networks run under ``torch.func.vmap``.
"""
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from ._common import init_discriminator, init_generator, layer_norm


class _UpBlock(nn.Module):
    """Pre-activation residual block with 2x nearest upsampling."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = layer_norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2, self.conv2 = layer_norm(cout), nn.Conv2d(
            cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(
            F.relu(self.norm1(x)), scale_factor=2.0, mode='nearest')
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        return h + self.skip(
            F.interpolate(x, scale_factor=2.0, mode='nearest'))


class _DownBlock(nn.Module):
    """Residual block with 2x average-pool downsampling."""

    def __init__(self, cin: int, cout: int, first: bool = False) -> None:
        super().__init__()
        self.first = first
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm = layer_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else F.leaky_relu(x, 0.2)
        h = self.conv2(F.leaky_relu(self.norm(self.conv1(h)), 0.2))
        return F.avg_pool2d(h, 2) + self.skip(F.avg_pool2d(x, 2))


class FIGRResNetGenerator(nn.Module):
    """ResNet generator: linear -> 4x4, then residual upsampling blocks.

    Args:
        noise_size: Noise dimension.
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        base_channels: Channels of the last block; doubled at every lower
            resolution.
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
        blocks = []
        for i in range(n_up):
            cout = ch if i == 0 else ch // 2
            blocks.append(_UpBlock(ch, cout))
            ch = cout
        self.blocks = nn.Sequential(*blocks)
        self.out_norm = layer_norm(ch)
        self.out_conv = nn.Conv2d(ch, out_channels, 3, 1, 1)

    @property
    def output_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of generated images."""
        return (self.out_channels, self.out_scale, self.out_scale)

    def forward(self, noise: Tensor) -> Tensor:
        """Map ``[N, noise_size]`` noise to ``[N, C, S, S]`` images in
        [-1, 1]."""
        x = self.fc(noise).reshape(noise.shape[0], self._top, 4, 4)
        x = self.blocks(x)
        return self.out_conv(F.relu(self.out_norm(x))).tanh()


class FIGRResNetDiscriminator(nn.Module):
    """ResNet discriminator: residual downsampling blocks, linear head.

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        base_channels: Channels of the first block; doubled at every stage.
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        n_down = init_discriminator(self, in_scale, in_channels, base_channels)
        blocks, cin, ch = [], in_channels, base_channels
        for i in range(n_down):
            blocks.append(_DownBlock(cin, ch, first=(i == 0)))
            cin, ch = ch, ch * 2
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin * 16, 1)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor) -> Tensor:
        """Map ``[N, C, S, S]`` images to ``[N, 1]`` scores."""
        return self.head(F.leaky_relu(self.blocks(img), 0.2).flatten(1))
