# Not a network: the image format the 32x32 networks here share, one
# channel at 32x32 with pixels scaled to [-1, 1] by the data preprocessor.
# A network base inherits it and names its generator and discriminator
# (and their widths).
nets = dict(
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(out_scale=32, out_channels=1),
    discriminator=dict(in_scale=32, in_channels=1))
