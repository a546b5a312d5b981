"""FIGR's own DCGAN pair, layer for layer (plain nn.Module).

The networks of FIGR's public code (Clouâtre & Demers, "FIGR: Few-shot Image
Generation with Reptile", 2019; ``model.py``, ``DCGANGenerator`` and
``DCGANDiscriminator``), re-written here so that a config can reproduce
FIGR's setting with FIGR's networks.  The facts taken from that code:

* 4 blocks, 64 hidden channels, 5x5 convolutions with padding 2;
* the generator maps the noise with a linear layer to
  ``16 * hidden`` maps of ``S/16 x S/16``, then each block halves the
  channels with a convolution (PReLU, LayerNorm) and doubles the size by
  nearest upsampling; a last 5x5 convolution and ``tanh`` give the image;
* the discriminator starts with a 5x5 convolution to ``hidden`` channels
  (LayerNorm, PReLU), each block doubles the channels with a convolution
  (LayerNorm, PReLU) and halves the size by 2x2 average pooling; a linear
  layer maps the flattened ``16 * hidden x S/16 x S/16`` maps to the score;
* every LayerNorm normalises a whole sample's feature map (``C x H x W``)
  with one affine weight and bias per element, so its parameter count
  grows with the resolution; PReLUs have one slope per channel (per unit
  after the first linear layer).

About 17.9M generator and 18.0M discriminator parameters at 32x32 and
1 channel, twenty times the 1.73M (G + D) of the project's own
``FIGRDCGANGenerator`` / ``FIGRDCGANDiscriminator`` (a lighter DCGAN with
4x4 strided convolutions and channel-wise LayerNorm in FIGR's spirit).
No buffers, so both run under ``torch.func.vmap``.
"""
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor, nn

from ._common import init_discriminator, init_generator

#: FIGR's number of up/down-sampling blocks (its ``blocks`` argument).
FIGR_BLOCKS = 4


class FIGROriginalDCGANGenerator(nn.Module):
    """FIGR's DCGAN generator (``model.py``'s ``DCGANGenerator``).

    Args:
        noise_size: Noise dimension (FIGR: 100).
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        base_channels: FIGR's ``hidden_size``: channels of the last block;
            the ``i``-th of the 4 blocks has ``2**(4 - i)`` times as many
            input channels (FIGR: 64).
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
        self.convs, self.acts, self.norms = (nn.ModuleList(), nn.ModuleList(),
                                             nn.ModuleList())
        ch = top
        for _ in range(FIGR_BLOCKS):
            self.convs.append(nn.Conv2d(ch, ch // 2, 5, padding=2))
            self.acts.append(nn.PReLU(ch // 2))
            self.norms.append(nn.LayerNorm([ch // 2, size, size]))
            ch, size = ch // 2, size * 2
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
        for conv, act, norm in zip(self.convs, self.acts, self.norms):
            x = F.interpolate(
                norm(act(conv(x))), scale_factor=2.0, mode='nearest')
        return self.out_conv(x).tanh()


class FIGROriginalDCGANDiscriminator(nn.Module):
    """FIGR's DCGAN discriminator (``model.py``'s ``DCGANDiscriminator``).

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
        self.in_conv = nn.Conv2d(in_channels, ch, 5, padding=2)
        self.in_norm = nn.LayerNorm([ch, size, size])
        self.in_act = nn.PReLU(ch)
        self.convs, self.norms, self.acts = (nn.ModuleList(), nn.ModuleList(),
                                             nn.ModuleList())
        for _ in range(FIGR_BLOCKS):
            self.convs.append(nn.Conv2d(ch, ch * 2, 5, padding=2))
            self.norms.append(nn.LayerNorm([ch * 2, size, size]))
            self.acts.append(nn.PReLU(ch * 2))
            ch, size = ch * 2, size // 2
        self.head = nn.Linear(ch * size * size, 1)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor) -> Tensor:
        """Map ``[N, C, S, S]`` images to ``[N, 1]`` scores."""
        x = self.in_act(self.in_norm(self.in_conv(img)))
        for conv, norm, act in zip(self.convs, self.norms, self.acts):
            x = F.avg_pool2d(act(norm(conv(x))), 2)
        return self.head(x.flatten(1))
