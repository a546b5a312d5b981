"""A LayerNorm DCGAN generator conditioned by ``[c, z]`` concatenation.

The layers of the unconditional LayerNorm DCGAN generator
(:class:`~.figr_dcgan.FIGRDCGANGenerator`); only the first linear layer
takes ``condition_size`` more inputs. No running statistics, so it runs
under ``torch.func.vmap``.
"""
from torch import Tensor, nn

from ._conditioning import ConditionalNet, check_size, concat_condition
from .figr_dcgan import FIGRDCGANGenerator


class ConcatConditionDCGANGenerator(ConditionalNet, FIGRDCGANGenerator):
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
        super().__init__(noise_size, out_scale, out_channels, base_channels)
        check_size(type(self).__name__, 'condition_size', condition_size)
        self.condition_size = condition_size
        self.fc = nn.Linear(condition_size + noise_size, self.fc.out_features)

    def forward(self, noise: Tensor, condition: Tensor) -> Tensor:
        """Generate images.

        Args:
            noise: ``[N, noise_size]``.
            condition: ``[condition_size]`` (shared by all N) or
                ``[N, condition_size]``.

        Returns:
            Tensor: ``[N, C, S, S]`` images in [-1, 1].
        """
        cond = self.condition_rows(condition, noise.shape[0])
        return self.decode(self.fc(concat_condition(cond, noise)))
