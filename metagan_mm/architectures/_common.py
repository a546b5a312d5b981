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


def init_generator(module: nn.Module, noise_size: int, out_scale: int,
                   out_channels: int, base_channels: int) -> int:
    """Validate a generator's arguments and set ``noise_size``,
    ``out_scale`` and ``out_channels`` on it; return the number of 2x
    up-sampling stages (see :func:`check_arch_args`)."""
    n_up = check_arch_args(
        type(module).__name__, 'out_scale', out_scale, 'out_channels',
        out_channels, noise_size, base_channels)
    module.noise_size = noise_size
    module.out_scale = out_scale
    module.out_channels = out_channels
    return n_up


def init_discriminator(module: nn.Module, in_scale: int, in_channels: int,
                       base_channels: int) -> int:
    """Validate a discriminator's (or encoder's) arguments and set
    ``in_scale`` and ``in_channels`` on it; return the number of 2x
    down-sampling stages (see :func:`check_arch_args`)."""
    n_down = check_arch_args(
        type(module).__name__,
        'in_scale',
        in_scale,
        'in_channels',
        in_channels,
        base_channels=base_channels)
    module.in_scale = in_scale
    module.in_channels = in_channels
    return n_down


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
