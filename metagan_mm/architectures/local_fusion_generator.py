"""A local-fusion few-shot generator in the style of LoFGAN."""
from typing import List, Optional, Tuple

import torch
from torch import Tensor, nn

from metagan_mm.core.fusion import FusionNoise, local_fusion, sample_fusion
from ._common import layer_norm
from ._fusion_common import MAP_SIZE, conv, fusion_stages, kaiming_init


def _block(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> list:
    return [
        conv(in_ch, out_ch, kernel, stride),
        layer_norm(out_ch),
        nn.LeakyReLU(0.2)
    ]


class LocalFusionGenerator(nn.Module):
    """Encoder per shot -> local fusion -> decoder (LoFGAN's generator with
    LayerNorm in place of BatchNorm).

    * Encoder: a 5x5 conv, then stride-2 3x3 convs down to an 8x8 map
      (2 at 32x32, 3 at 64x64, 4 at 128x128), each with LayerNorm and
      LeakyReLU 0.2, reflection padding; channels ``b, 2b, 4b, 4b, 4b``.
    * Local fusion (:func:`metagan_mm.core.fusion.local_fusion`, no
      parameters): ``int(rate * 64)`` positions of a base shot's map are
      fused with their cosine-nearest features in the other shots.
    * Decoder: the encoder mirrored with nearest 2x up-sampling, then a 5x5
      conv to the image and tanh.

    At 128x128 RGB with ``base_channels=32`` the layers are LoFGAN's
    (``networks/lofgan.py``), except LayerNorm for BatchNorm (see
    docs/user_guides/fusion.md for every deviation).

    The fusion's randomness is an argument (:meth:`sample_noise`), never
    drawn inside: ``G(shots, noise)`` is a function, batched calls equal a
    loop over tasks, and runs reproduce.

    Args:
        out_scale: Image size: 32, 64 or 128.
        out_channels: 1 (grayscale) or 3 (RGB).
        base_channels: ``b``, the first conv's channels (LoFGAN: 32).
        rate: Fraction of the map's positions fused (LoFGAN: 0.5).
    """

    def __init__(self,
                 out_scale: int = 32,
                 out_channels: int = 1,
                 base_channels: int = 32,
                 rate: float = 0.5) -> None:
        super().__init__()
        n = fusion_stages(
            type(self).__name__, out_scale, out_channels, base_channels)
        if not 0 <= rate <= 1:
            raise ValueError(f'{type(self).__name__}: rate={rate!r} must be '
                             'in [0, 1].')
        self.out_scale, self.out_channels = out_scale, out_channels
        self.map_size = MAP_SIZE
        self.num_fused = int(rate * MAP_SIZE * MAP_SIZE)
        b = base_channels
        widths = [(b, 2 * b), (2 * b, 4 * b), (4 * b, 4 * b), (4 * b, 4 * b)]
        enc: List[nn.Module] = _block(out_channels, b, 5)
        for i, o in widths[:n]:
            enc += _block(i, o, 3, 2)
        dec: List[nn.Module] = []
        for o, i in reversed(widths[:n]):
            dec += [nn.Upsample(scale_factor=2)] + _block(i, o, 3)
        dec += [conv(b, out_channels, 5), nn.Tanh()]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)
        self.feature_channels = widths[n - 1][1]
        kaiming_init(self)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of the shots and of the generated images."""
        return (self.out_channels, self.out_scale, self.out_scale)

    def sample_noise(self,
                     num: int,
                     k_shot: int,
                     generator: Optional[torch.Generator] = None,
                     device: Optional[torch.device] = None) -> FusionNoise:
        """Draw the noise of ``num`` fusions of ``k_shot`` shots (see
        :func:`~metagan_mm.core.fusion.sample_fusion`)."""
        return sample_fusion(num, k_shot, self.map_size**2, self.num_fused,
                             generator, device)

    def forward(self, shots: Tensor,
                noise: FusionNoise) -> Tuple[Tensor, Tensor]:
        """Generate one image per fusion.

        Args:
            shots: ``[B, K, C, H, W]`` images in ``[-1, 1]``.
            noise: ``B`` fusions of ``K`` shots (:meth:`sample_noise`).

        Returns:
            ``(images [B, C, H, W], matches [B, K-1, M])``; ``matches`` is
            what :func:`~metagan_mm.core.fusion.local_reconstruction_loss`
            needs.

        Raises:
            ValueError: naming the expected and the given shapes.
        """
        if shots.dim() != 5 or tuple(shots.shape[2:]) != self.input_shape:
            raise ValueError(f'{type(self).__name__}: shots must be [B, K, '
                             f'{", ".join(map(str, self.input_shape))}], got '
                             f'{tuple(shots.shape)}.')
        if tuple(noise.coefficients.shape) != tuple(shots.shape[:2]):
            raise ValueError(
                f'{type(self).__name__}: noise is for '
                f'{tuple(noise.coefficients.shape)} (fusions, shots) but the '
                f'shots are {tuple(shots.shape[:2])}; draw it with '
                'sample_noise(B, K).')
        b, k = shots.shape[:2]
        features = self.encoder(shots.flatten(0, 1))
        fused, matches = local_fusion(
            features.reshape(b, k, *features.shape[1:]), noise)
        return self.decoder(fused), matches
