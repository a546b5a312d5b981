"""An activation-first ResNet discriminator with an adversarial and a
seen-class head (the discriminator of FUNIT and LoFGAN)."""
from typing import Tuple

from torch import Tensor, nn

from ._fusion_common import conv, fusion_stages, kaiming_init


class _ActFirstResBlock(nn.Module):
    """``shortcut(x) + conv(lrelu(conv(lrelu(x))))`` (3x3, reflection
    padding; a bias-free 1x1 shortcut when the channels change)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        hid = max(in_ch, out_ch)
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2), conv(in_ch, hid, 3), nn.LeakyReLU(0.2),
            conv(hid, out_ch, 3))
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, bias=False) \
            if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.body(x)


class ClassHeadResNetDiscriminator(nn.Module):
    """Scores images as real/fake and as one of the seen classes.

    A 5x5 conv, then activation-first residual blocks each followed by 3x3
    average pooling with stride 2 down to 8x8 (2 at 32x32, 3 at 64x64, 4 at
    128x128), one more block, global average pooling, and two linear
    heads. Channels double from ``base_channels`` (at most 1024). At
    128x128 RGB with ``base_channels=64`` the layers are LoFGAN's, without
    its spectral normalisation (see docs/user_guides/fusion.md).

    Args:
        in_scale: Image size: 32, 64 or 128.
        in_channels: 1 or 3.
        num_classes: Seen (training) classes of the class head.
        base_channels: The first conv's channels (LoFGAN: 64).
    """

    def __init__(self,
                 in_scale: int = 32,
                 in_channels: int = 1,
                 num_classes: int = 1,
                 base_channels: int = 64) -> None:
        super().__init__()
        n = fusion_stages(
            type(self).__name__, in_scale, in_channels, base_channels)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'{type(self).__name__}: num_classes='
                             f'{num_classes!r} must be an int >= 1 (the '
                             'seen classes of the training split).')
        self.in_scale, self.in_channels = in_scale, in_channels
        self.num_classes = num_classes
        ch = base_channels
        layers = [conv(in_channels, ch, 5)]
        for _ in range(n):
            out = min(2 * ch, 1024)
            layers += [
                _ActFirstResBlock(ch, out),
                nn.ReflectionPad2d(1),
                nn.AvgPool2d(3, 2)
            ]
            ch = out
        out = min(2 * ch, 1024)
        layers += [_ActFirstResBlock(ch, out), nn.AdaptiveAvgPool2d(1)]
        self.body = nn.Sequential(*layers)
        self.adv_head = nn.Linear(out, 1)
        self.class_head = nn.Linear(out, num_classes)
        kaiming_init(self)

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """``(C, H, W)`` of accepted images."""
        return (self.in_channels, self.in_scale, self.in_scale)

    def forward(self, img: Tensor) -> Tuple[Tensor, Tensor]:
        """``[N, C, S, S]`` -> ``(adversarial [N, 1], class logits [N,
        num_classes])``."""
        feat = self.body(img).flatten(1)
        return self.adv_head(feat), self.class_head(feat)
