# ln-dcgan_32x32.py with a conditioned generator: a set encoder embeds the
# task's images (mean over the K shots) and the generator takes [E(x), z];
# the discriminator stays unconditional. The encoder is a third meta-module
# (its outer optimiser: the leaf's optim_wrapper.encoder). With the
# projection discriminator of cond-ln-dcgan_32x32.py under MAML the gradient
# penalty is about 300 at initialisation and inner SGD at 1e-2 diverges
# within 5 meta-iterations.
_base_ = ['./ln-dcgan_32x32.py']
nets = dict(
    generator=dict(type='ConcatConditionDCGANGenerator', condition_size=128),
    encoder=dict(
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        embed_size=128,
        pooling='mean'))
