"""A small conv encoder of support sets, pooled over the K shots.

No running statistics (LayerNorm only), so it runs under
``torch.func.vmap`` over a task dimension like the LayerNorm DCGANs.
"""

from torch import nn

from ._common import check_arch_args, down_layers
from ._conditioning import SetEncoderBase


class SupportSetEncoder(SetEncoderBase):
    """Support-set encoder: a DCGAN-style conv net per image, then pooling.

    Per image: stride-2 4x4 convs (LayerNorm from the second on, LeakyReLU
    0.2) down to 4x4, a linear layer to ``embed_size`` and a LayerNorm
    without affine parameters: a bounded embedding that cannot saturate
    (with ``tanh``, as FAML's encoder has, the outer Adam steps pushed the
    pre-activations to +-1 within 250 meta-iterations and the embedding of
    every class became the same; README, Results). The K embeddings of a
    set are pooled (mean by default), so the set embedding does not depend on
    the order of the shots. 0.43M parameters at 32x32, 1 channel,
    ``base_channels=32``, ``embed_size=128``.

    Args:
        in_scale: Input resolution, 32 or 64.
        in_channels: Input channels, 1 or 3.
        base_channels: Channels of the first conv; doubled at every stage.
        embed_size: Size of the embedding.
        pooling: ``'mean'``, ``'max'`` or ``'none'`` (per-image
            embeddings ``[K, embed_size]``, as FAML conditions on one image).
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 base_channels: int = 32,
                 embed_size: int = 128,
                 pooling: str = 'mean') -> None:
        super().__init__()
        cls = type(self).__name__
        n_down = check_arch_args(
            cls,
            'in_scale',
            in_scale,
            'in_channels',
            in_channels,
            base_channels=base_channels)
        self._init_set(in_scale, in_channels, embed_size, pooling)
        layers, ch = down_layers(in_channels, base_channels, n_down)
        layers += [
            nn.Flatten(1),
            nn.Linear(ch * 16, embed_size),
            nn.LayerNorm(embed_size, elementwise_affine=False)
        ]
        self.net = nn.Sequential(*layers)
