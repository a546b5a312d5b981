"""A LayerNorm DCGAN generator conditioned by ``[c, z]`` concatenation.

The layers of the unconditional LayerNorm DCGAN generator
(:class:`~.figr_dcgan.FIGRDCGANGenerator`); only the first linear layer
takes ``condition_size`` more inputs. No running statistics, so it runs
under ``torch.func.vmap``.
"""
from typing import List, Tuple

from torch import Tensor, nn

from ._common import check_arch_args, layer_norm
from ._conditioning import check_size, concat_condition, expand_condition


class ConcatConditionDCGANGenerator(nn.Module):
    """DCGAN generator on the concatenation ``[condition, noise]``.

    Linear to 4x4, LayerNorm, ReLU, then stride-2 4x4 transposed convs
    (LayerNorm, ReLU) and ``tanh``, as the LayerNorm DCGAN generator; the
    condition (e.g. a support-set embedding) is concatenated in front of
    the noise, as FAML's generator takes ``[E(x), z]``. 1.60M parameters at
    32x32, 1 channel, ``noise_size=100``, ``condition_size=128``,
    ``base_channels=64``.

    Args:
        noise_size: Noise dimension.
        condition_size: Condition (embedding) dimension.
        out_scale: Output resolution, 32 or 64.
        out_channels: Output channels, 1 or 3.
        base_channels: Channels of the last hidden layer; doubled at every
            lower resolution.
    """

    def __init__(self,
                 noise_size: int = 100,
                 condition_size: int = 128,
                 out_scale: int = 32,
                 out_channels: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        cls = type(self).__name__
        n_up = check_arch_args(cls, 'out_scale', out_scale, 'out_channels',
                               out_channels, noise_size, base_channels)
        check_size(cls, 'condition_size', condition_size)
        self.noise_size = noise_size
        self.condition_size = condition_size
        self.out_scale = out_scale
        self.out_channels = out_channels
        ch = base_channels * 2**(n_up - 1)
        self._top = ch
        self.fc = nn.Linear(condition_size + noise_size, ch * 16)
        self.fc_norm = layer_norm(ch)
        layers: List[nn.Module] = [nn.ReLU()]
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

    def forward(self, noise: Tensor, condition: Tensor) -> Tensor:
        """Generate images.

        Args:
            noise: ``[N, noise_size]``.
            condition: ``[condition_size]`` (shared by all N) or
                ``[N, condition_size]``.

        Returns:
            Tensor: ``[N, C, S, S]`` images in [-1, 1].
        """
        cond = expand_condition(
            type(self).__name__, condition, noise.shape[0],
            self.condition_size)
        x = self.fc(concat_condition(cond, noise))
        x = self.fc_norm(x.reshape(noise.shape[0], self._top, 4, 4))
        return self.body(x)
