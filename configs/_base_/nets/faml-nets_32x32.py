# FAML's networks (Phaphuangwittayakul et al., IEEE TMM 2021) at 32x32, 1
# channel (13.5M parameters, E + G + D): FAML's encoder (one embedding per
# image), generator on [E(x_i), z] and spectrally normalised, unconditional
# discriminator (BatchNorm replaced by LayerNorm, see
# docs/conditioning.md). Spectral norm in D makes the tasks run one at a
# time.
_base_ = ['./grayscale_32x32.py']
nets = dict(
    generator=dict(type='FAMLGenerator', noise_size=128, condition_size=128),
    discriminator=dict(type='FAMLDiscriminator'),
    encoder=dict(
        type='FAMLEncoder', in_scale=32, in_channels=1, embed_size=128))
