# mmagic's own StyleGAN2 at 64x64, 3 channels: StyleGAN2Generator /
# StyleGAN2Discriminator as in mmagic's styleganv2 configs
# (style_channels=512, 8 mapping layers, channel_multiplier=2, mmcv's
# upfirdn2d and fused_bias_leakyrelu ops); StyleGAN2's R1 and path-length
# regularisers and its EMA generator are not used. The generator draws its
# noise injection inside its forward pass, which vmap refuses, so the tasks
# run sequentially (logged once).
_base_ = ['./dcgan_64x64.py']
nets = dict(
    generator=dict(
        _delete_=True,
        type='StyleGAN2Generator',
        out_size=64,
        style_channels=512,
        out_channels=3),
    discriminator=dict(
        _delete_=True,
        type='StyleGAN2Discriminator',
        in_size=64,
        img_channels=3))
