# The local-fusion networks of local-fusion_32x32.py at LoFGAN's own size,
# 128x128 RGB, at LoFGAN's widths (generator base_channels=32,
# discriminator 64). A leaf sets model.num_classes to its training split's
# class count.
_base_ = ['./local-fusion_32x32.py']
nets = dict(
    data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3),
    generator=dict(out_scale=128, out_channels=3),
    discriminator=dict(in_scale=128, in_channels=3))
