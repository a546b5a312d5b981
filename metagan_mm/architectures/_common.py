"""Shared checks and layers for the architectures (plain torch)."""
from typing import List, Tuple

from torch import nn

SCALES = (32, 64)
CHANNELS = (1, 3)


def check_arch_args(cls: str,
                    scale_key: str,
                    scale: int,
                    ch_key: str,
                    channels: int,
                    noise_size: int = 1,
                    base_channels: int = 1) -> int:
    """Validate ctor args; return the number of 2x resampling stages.

    Raises:
        ValueError: naming the bad argument and the accepted values.
    """
    if scale not in SCALES:
        raise ValueError(f'{cls}: {scale_key}={scale!r} is not supported; '
                         f'use one of {list(SCALES)}.')
    if channels not in CHANNELS:
        raise ValueError(f'{cls}: {ch_key}={channels!r} is not supported; '
                         f'use one of {list(CHANNELS)}.')
    for key, val in (('noise_size', noise_size), ('base_channels',
                                                  base_channels)):
        if not isinstance(val, int) or val < 1:
            raise ValueError(f'{cls}: {key}={val!r} must be an int >= 1.')
    return {32: 3, 64: 4}[scale]


def layer_norm(channels: int) -> nn.GroupNorm:
    """LayerNorm over (C, H, W) with per-channel affine (vmap friendly)."""
    return nn.GroupNorm(1, channels)


def down_layers(in_channels: int, base_channels: int,
                n_down: int) -> Tuple[List[nn.Module], int]:
    """The LayerNorm DCGAN discriminator's body, to 4x4.

    Stride-2 4x4 convs with LeakyReLU 0.2 (LayerNorm from the second on),
    channels doubling from ``base_channels``.

    Returns:
        The layers, and the channels of the last one.
    """
    ch = base_channels
    layers: List[nn.Module] = [
        nn.Conv2d(in_channels, ch, 4, 2, 1),
        nn.LeakyReLU(0.2)
    ]
    for _ in range(n_down - 1):
        layers += [
            nn.Conv2d(ch, ch * 2, 4, 2, 1),
            layer_norm(ch * 2),
            nn.LeakyReLU(0.2)
        ]
        ch *= 2
    return layers, ch
