# The project's DCGAN with channel-wise LayerNorm, in FIGR's spirit (not
# FIGR's own nets, which are figr-dcgan_32x32.py), at 32x32, 1 channel, full
# width (base_channels=64; 1.73M parameters, G + D). A leaf builds its model
# as dict(_base_.nets, ...) over its algorithm's model.
_base_ = ['./grayscale_32x32.py']
nets = dict(
    generator=dict(type='FIGRDCGANGenerator', noise_size=100),
    discriminator=dict(type='FIGRDCGANDiscriminator'))
