"""FIGR's own ResNet pair, layer for layer (plain nn.Module).

The networks of FIGR's public code (``model.py``, ``ResNetGenerator`` and
``ResNetDiscriminator``), the alternative to its default DCGAN
(:mod:`.figr_original_dcgan`).  The facts taken from that code:

* 4 blocks, 64 hidden channels; inside a block 3x3 convolutions (padding
  1) that keep the channels, each followed by PReLU then LayerNorm over the
  whole ``C x H x W`` map (one affine weight and bias per element);
* a block is two residual units ``x + norm(act(conv(norm(act(conv(x))))))``
  and a transition: a 3x3 convolution that halves (generator) or doubles
  (discriminator) the channels, PReLU, LayerNorm, then 2x nearest
  upsampling (generator) or 2x2 average pooling (discriminator);
* generator: linear layer (PReLU, LayerNorm) to ``16 * hidden`` maps of
  ``S/16 x S/16``, the 4 blocks, a 5x5 convolution and ``tanh``;
* discriminator: a 7x7 convolution to ``hidden`` channels (PReLU,
  LayerNorm), the 4 blocks, global average pooling and a linear layer from
  ``16 * hidden`` features to the score.

Most of the weight sits in the first generator block and the last
discriminator block (four 3x3 convolutions at ``16 * hidden`` or
``8 * hidden`` channels).  No buffers, so both run under ``torch.func.vmap``.
"""
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from ._common import init_discriminator, init_generator
from .figr_original_dcgan import FIGR_BLOCKS


class _ConvActNorm(nn.Module):
    """``LayerNorm(PReLU(conv(x)))`` at a fixed map size (FIGR's order)."""

    def __init__(self, cin: int, cout: int, size: int, kernel: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
        self.act = nn.PReLU(cout)
        self.norm = nn.LayerNorm([cout, size, size])

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.act(self.conv(x)))


class _Block(nn.Module):
    """Two residual units, then the channel-changing transition layer."""

    def __init__(self, ch: int, cout: int, size: int) -> None:
        super().__init__()
        self.units = nn.ModuleList(
            nn.Sequential(
                _ConvActNorm(ch, ch, size, 3), _ConvActNorm(ch, ch, size, 3))
            for _ in range(2))
        self.transition = _ConvActNorm(ch, cout, size, 3)

    def forward(self, x: Tensor) -> Tensor:
        for unit in self.units:
            x = x + unit(x)
        return self.transition(x)


class FIGROriginalResNetGenerator(nn.Module):
    """FIGR's ResNet generator (``model.py``'s ``ResNetGenerator``).

    Args:
        noise_size: Noise dimension (FIGR: 100).
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        base_channels: FIGR's ``hidden_size``: channels after the last
            block; the ``i``-th of the 4 blocks works at ``2**(4 - i)``
            times as many (FIGR: 64).
    """

    def __init__(self,
                 noise_size: int = 100,
                 out_scale: int = 32,
                 out_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        init_generator(self, noise_size, out_scale, out_channels,
                       base_channels)
        top, size = base_channels * 2**FIGR_BLOCKS, out_scale // 2**FIGR_BLOCKS
        self._top_shape = (top, size, size)
        width = top * size * size
        self.fc = nn.Linear(noise_size, width)
        self.fc_act = nn.PReLU(width)
        self.fc_norm = nn.LayerNorm(width)
        blocks, ch = [], top
        for _ in range(FIGR_BLOCKS):
            blocks.append(_Block(ch, ch // 2, size))
            ch, size = ch // 2, size * 2
        self.blocks = nn.ModuleList(blocks)
        self.out_conv = nn.Conv2d(ch, out_channels, 5, padding=2)

    @property
    def output_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of generated images."""
        return (self.out_channels, self.out_scale, self.out_scale)

    def forward(self, noise: Tensor) -> Tensor:
        """Map ``[N, noise_size]`` noise to ``[N, C, S, S]`` images in
        [-1, 1]."""
        x = self.fc_norm(self.fc_act(self.fc(noise)))
        x = x.reshape(noise.shape[0], *self._top_shape)
        for block in self.blocks:
            x = F.interpolate(block(x), scale_factor=2.0, mode='nearest')
        return self.out_conv(x).tanh()


class FIGROriginalResNetDiscriminator(nn.Module):
    """FIGR's ResNet discriminator (``model.py``'s ``ResNetDiscriminator``).

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        base_channels: FIGR's ``hidden_size``: channels of the first
            convolution, doubled by each of the 4 blocks (FIGR: 64).
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        init_discriminator(self, in_scale, in_channels, base_channels)
        ch, size = base_channels, in_scale
        self.stem = _ConvActNorm(in_channels, ch, size, 7)
        blocks = []
        for _ in range(FIGR_BLOCKS):
            blocks.append(_Block(ch, ch * 2, size))
            ch, size = ch * 2, size // 2
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(ch, 1)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor) -> Tensor:
        """Map ``[N, C, S, S]`` images to ``[N, 1]`` scores."""
        x = self.stem(img)
        for block in self.blocks:
            x = F.avg_pool2d(block(x), 2)
        return self.head(x.mean((2, 3)))
