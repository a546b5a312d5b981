# The project's DCGAN with channel-wise LayerNorm, in FIGR's spirit (not
# FIGR's own nets, which are figr-dcgan_32x32.py), at 32x32, 1 channel, full
# width (base_channels=64; 1.73M parameters, G + D). A leaf builds its model
# as dict(_base_.nets, ...) over its algorithm's model.
nets = dict(
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(
        type='FIGRDCGANGenerator',
        noise_size=100,
        out_scale=32,
        out_channels=1),
    discriminator=dict(
        type='FIGRDCGANDiscriminator', in_scale=32, in_channels=1))
