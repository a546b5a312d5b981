# FIGR's own DCGAN, as in FIGR's model.py: 5x5 convolutions, PReLU,
# LayerNorm over whole feature maps, 64 hidden channels, 4 blocks (17.9M G +
# 18.0M D parameters), at 32x32, 1 channel.
_base_ = ['./ln-dcgan_32x32.py']
nets = dict(
    generator=dict(type='FIGROriginalDCGANGenerator'),
    discriminator=dict(type='FIGROriginalDCGANDiscriminator'))
