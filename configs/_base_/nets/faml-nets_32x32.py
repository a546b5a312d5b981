# FAML's networks (Phaphuangwittayakul et al., IEEE TMM 2021) at 32x32, 1
# channel (13.5M parameters, E + G + D): FAML's encoder (one embedding per
# image), generator on [E(x_i), z] and spectrally normalised, unconditional
# discriminator (BatchNorm replaced by LayerNorm, see
# docs/conditioning.md). Spectral norm in D makes the tasks run one at a
# time.
nets = dict(
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(
        type='FAMLGenerator',
        noise_size=128,
        condition_size=128,
        out_scale=32,
        out_channels=1),
    discriminator=dict(type='FAMLDiscriminator', in_scale=32, in_channels=1),
    encoder=dict(
        type='FAMLEncoder', in_scale=32, in_channels=1, embed_size=128))
