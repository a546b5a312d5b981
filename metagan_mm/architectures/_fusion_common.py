"""Layers shared by the local-fusion networks (plain torch)."""
import math

from torch import nn

FUSION_SCALES = (32, 64, 128)
MAP_SIZE = 8  # every fusion network works on an 8x8 map


def fusion_stages(cls: str, scale: int, channels: int,
                  base_channels: int) -> int:
    """Validate the arguments; return the 2x stages between ``scale`` and
    the 8x8 map (32: 2, 64: 3, 128: 4).

    Raises:
        ValueError: naming the bad argument and the accepted values.
    """
    if scale not in FUSION_SCALES:
        raise ValueError(f'{cls}: scale={scale!r} is not supported; use one '
                         f'of {list(FUSION_SCALES)}.')
    if channels not in (1, 3):
        raise ValueError(f'{cls}: channels={channels!r}; use 1 or 3.')
    if not isinstance(base_channels, int) or base_channels < 1:
        raise ValueError(
            f'{cls}: base_channels={base_channels!r} must be an int >= 1.')
    return int(math.log2(scale // MAP_SIZE))


def conv(in_ch: int,
         out_ch: int,
         kernel: int,
         stride: int = 1,
         bias: bool = True) -> nn.Sequential:
    """A conv with reflection padding (``kernel // 2``), as LoFGAN's."""
    return nn.Sequential(
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_ch, out_ch, kernel, stride, bias=bias))


def kaiming_init(module: nn.Module) -> None:
    """LoFGAN's ``init: kaiming``: He-normal (fan-in) conv and linear
    weights, zero biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=0, mode='fan_in')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
