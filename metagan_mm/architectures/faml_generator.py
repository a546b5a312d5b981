"""FAML's generator (Phaphuangwittayakul et al., 2021), LayerNorm variant."""
from typing import List, Tuple

from torch import Tensor, nn

from ._conditioning import ConditionalNet, check_size, concat_condition
from ._faml_common import check_faml_args, norm_layer


class FAMLGenerator(ConditionalNet):
    """FAML's generator on ``[E(x), z]``, with LayerNorm instead of BatchNorm.

    Sizes as in FAML's reference code: a linear layer from
    ``condition_size + noise_size`` to ``512 x S/8 x S/8`` (no norm or
    activation after it, as there), three stride-2 4x4 transposed convs
    512 -> 256 -> 128 -> 64 (norm, ReLU), a 3x3 conv to the image channels
    and ``tanh``. FAML: ``noise_size=128``, ``condition_size=128``,
    BatchNorm (replaced here by LayerNorm, ``norm='layer'``, or nothing,
    ``norm='none'``, so that it runs under ``torch.func.vmap``). 4.86M
    parameters at 32x32, 1 channel.

    Args:
        noise_size: Noise dimension (FAML: 128).
        condition_size: Condition (embedding) dimension (FAML: 128).
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        norm: ``'layer'`` or ``'none'``.
    """

    def __init__(self,
                 noise_size: int = 128,
                 condition_size: int = 128,
                 out_scale: int = 32,
                 out_channels: int = 1,
                 norm: str = 'layer') -> None:
        super().__init__()
        cls = type(self).__name__
        side = check_faml_args(cls, 'out_scale', out_scale, 'out_channels',
                               out_channels, norm)
        check_size(cls, 'noise_size', noise_size)
        check_size(cls, 'condition_size', condition_size)
        self.noise_size = noise_size
        self.condition_size = condition_size
        self.out_scale = out_scale
        self.out_channels = out_channels
        self.norm = norm
        self._side = side
        self.fc = nn.Linear(condition_size + noise_size, 512 * side * side)
        layers: List[nn.Module] = []
        for cin, cout in ((512, 256), (256, 128), (128, 64)):
            layers.append(nn.ConvTranspose2d(cin, cout, 4, 2, 1))
            n = norm_layer(norm, cout)
            if n is not None:
                layers.append(n)
            layers.append(nn.ReLU())
        layers += [nn.Conv2d(64, out_channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    @property
    def output_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of generated images."""
        return (self.out_channels, self.out_scale, self.out_scale)

    def forward(self, noise: Tensor, condition: Tensor) -> Tensor:
        """Generate images.

        Args:
            noise: ``[N, noise_size]``.
            condition: ``[condition_size]`` (shared by all N) or
                ``[N, condition_size]`` (FAML: one image's embedding per
                generation).

        Returns:
            Tensor: ``[N, C, S, S]`` images in [-1, 1].
        """
        cond = self.condition_rows(condition, noise.shape[0])
        x = self.fc(concat_condition(cond, noise))
        return self.body(
            x.reshape(noise.shape[0], 512, self._side, self._side))
