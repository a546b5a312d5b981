"""Checks shared by FAML's networks (plain torch).

FAML's networks (phaphuang/FAML, ``model.py``) work at any size divisible
by 8: the encoder and discriminator go down to ``S / 8``, the generator
starts there. We accept the resolutions of the other architectures.
"""
from typing import Optional

from torch import nn

from ._common import check_arch_args, layer_norm

NORMS = ('layer', 'none')


def check_faml_args(cls: str,
                    scale_key: str,
                    scale: int,
                    ch_key: str,
                    channels: int,
                    norm: str = 'layer') -> int:
    """Validate FAML ctor args; return ``S / 8``, the smallest feature map.

    Raises:
        ValueError: naming the bad argument and the accepted values.
    """
    check_arch_args(cls, scale_key, scale, ch_key, channels)
    if norm not in NORMS:
        raise ValueError(f'{cls}: norm={norm!r} is not supported; use one '
                         f'of {list(NORMS)} (FAML\'s BatchNorm keeps running '
                         'statistics, which vmapped inner loops cannot).')
    return scale // 8


def norm_layer(norm: str, channels: int) -> Optional[nn.Module]:
    """LayerNorm over ``C x H x W`` (FAML has BatchNorm here), or None."""
    return layer_norm(channels) if norm == 'layer' else None
