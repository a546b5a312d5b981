# cond-g-ln-dcgan-per-image_32x32.py at a quarter of the width (base_channels=16 in G, D
# and E): the CPU quick-start size.
_base_ = ['./cond-g-ln-dcgan-per-image_32x32.py']
nets = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
    encoder=dict(base_channels=16))
