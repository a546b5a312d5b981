# cond-g-ln-dcgan_32x32.py with a projection discriminator: G and D are both
# conditioned on the set encoder's embedding of the task's images (the
# generator takes [E(x), z], the discriminator scores D(x, E(x))).
_base_ = ['./cond-g-ln-dcgan_32x32.py']
nets = dict(
    discriminator=dict(
        type='ProjectionDCGANDiscriminator', condition_size=128))
