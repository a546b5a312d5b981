# Conditioned Reptile meta-GAN at 32x32, 1 channel: a set encoder embeds the
# task's images (mean over the K shots), the LayerNorm DCGAN generator takes
# [E(x), z], a projection discriminator scores D(x, E(x)). The encoder is a
# third meta-module: adapted with G in every inner step and meta-trained by
# Reptile with G and D. Generation embeds the K shots, so it needs no
# gradient step (test_cfg.steps=0) and adaptation refines it.
_base_ = ['./reptile_ln-dcgan_32x32.py']
model = dict(
    generator=dict(
        _delete_=True,
        type='ConcatConditionDCGANGenerator',
        noise_size=100,
        condition_size=128,
        out_scale=32,
        out_channels=1),
    discriminator=dict(
        _delete_=True,
        type='ProjectionDCGANDiscriminator',
        in_scale=32,
        in_channels=1,
        condition_size=128),
    encoder=dict(
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        embed_size=128,
        pooling='mean'),
    # L1 between each generation and a real image of the task: with a pooled
    # condition it pulls every generation towards the class, not one shot
    inner_loop=dict(recon_weight=1.0))
optim_wrapper = dict(
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
