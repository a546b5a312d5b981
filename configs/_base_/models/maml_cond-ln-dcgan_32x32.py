# Conditioned MAML meta-GAN at 32x32, 1 channel: MAML's options and
# networks, with a set encoder (mean over the K support shots) whose
# embedding conditions the generator ([E(support), z]). The outer losses
# score generations conditioned on the adapted encoder's embedding of the
# support set against the query images, so the encoder learns to carry the
# class. The discriminator stays unconditional: with the projection
# discriminator of the conditioned Reptile config the gradient penalty is
# about 300 at initialisation and inner SGD at 1e-2 diverges within 5
# meta-iterations.
_base_ = ['./maml_ln-dcgan_32x32.py']
model = dict(
    generator=dict(
        _delete_=True,
        type='ConcatConditionDCGANGenerator',
        noise_size=100,
        condition_size=128,
        out_scale=32,
        out_channels=1),
    encoder=dict(
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        embed_size=128,
        pooling='mean'),
    inner_loop=dict(recon_weight=1.0))
optim_wrapper = dict(
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
