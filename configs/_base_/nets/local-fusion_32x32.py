# The local-fusion networks in the style of LoFGAN at 32x32, 1 channel, at
# LoFGAN's widths: LocalFusionGenerator (an 8x8 fused map, half of its
# positions fused; base_channels=32) and ClassHeadResNetDiscriminator
# (adversarial and seen-class heads; base_channels=64). A leaf builds its
# model as dict(_base_.nets, num_classes=N, ...) over the fusion algorithm's
# model, N its training split's class count (the size of D's class head).
_base_ = ['./grayscale_32x32.py']
nets = dict(
    generator=dict(type='LocalFusionGenerator', base_channels=32, rate=0.5),
    discriminator=dict(type='ClassHeadResNetDiscriminator', base_channels=64))
