# FAML (Phaphuangwittayakul et al., IEEE TMM 2021) at 32x32, 1 channel:
# FAML's encoder (one embedding per image), generator on [E(x_i), z] and
# spectrally normalised, unconditional discriminator (BatchNorm replaced by
# LayerNorm, see docs/conditioning.md), RaGAN + mode seeking + L1
# reconstruction in the inner loop, Reptile over G, D and E. FAMLGAN fills
# these defaults itself; they are spelled out here to be overridden.
model = dict(
    type='FAMLGAN',
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
        type='FAMLEncoder', in_scale=32, in_channels=1, embed_size=128),
    inner_loop=dict(
        steps=10,
        d_steps_per_g_step=2,
        g_lr=2e-4,
        d_lr=2e-4,
        optimizer='adam',
        betas=(0.5, 0.999),
        loss='ragan',
        recon_weight=1.0,
        mode_seeking_weight=1.0,
        batching=dict(mode='auto', chunk='auto')),
    max_failed_fraction=0.5)

# FAML's outer Adam: lr 1e-5, betas (0.5, 0.999), on G, D and E
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))),
    encoder=dict(optimizer=dict(type='Adam', lr=1e-5, betas=(0.5, 0.999))))
